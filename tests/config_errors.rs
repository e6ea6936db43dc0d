//! Bad input: every malformed file ends in a message naming the file and the path, exit 1, and
//! nothing written.

mod common;

use common::{Project, TestEmulator, stderr, stdout};
use serde_json::json;

/// Runs `args` against a fresh emulator and returns (exit code, stderr), checking that the
/// project's `.env.local` was left untouched and no WorkOS write happened.
fn fails(project: &Project, args: &[&str]) -> String {
    let emulator = TestEmulator::start();
    let before = project
        .exists(".env.local")
        .then(|| project.read_bytes(".env.local"));
    let output = project.against(&emulator).args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{args:?}: {}",
        stdout(&output)
    );
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    let after = project
        .exists(".env.local")
        .then(|| project.read_bytes(".env.local"));
    assert_eq!(before, after, ".env.local must be untouched");
    assert!(emulator.list("redirect_uris").is_empty());
    stderr(&output)
}

#[test]
fn json_syntax_errors_give_line_and_column() {
    let project = Project::new();
    project.file(
        "convex.json",
        "{\n  \"authKit\": {\n    \"dev\": { ,\n  }\n}\n",
    );
    for command in ["validate", "plan"] {
        let text = fails(&project, &[command]);
        assert!(text.contains("convex.json:3:"), "{text}");
    }
}

#[test]
fn every_problem_is_reported_with_its_path_and_a_suggestion() {
    let project = Project::new();
    project.convex_json(json!({
        "dev": {
            "configure": { "redirectURIs": ["http://localhost:3000/cb"], "corsOrigins": [1] },
            "environmentType": "development"
        },
        "prod": { "localEnvVars": { "A": "b" } },
        "staging": {}
    }));
    let text = fails(&project, &["validate"]);
    assert!(
        text.contains("authKit.dev.configure.redirectURIs"),
        "{text}"
    );
    assert!(text.contains("did you mean `redirectUris`?"), "{text}");
    assert!(
        text.contains("authKit.dev.configure.corsOrigins[0]"),
        "{text}"
    );
    assert!(text.contains("authKit.dev.environmentType"), "{text}");
    assert!(text.contains("authKit.prod.localEnvVars"), "{text}");
    assert!(text.contains("authKit.staging"), "{text}");
}

#[test]
fn template_errors_are_distinct_and_name_the_path() {
    let cases = [
        ("${foo.BAR}", "unknown template expression"),
        ("${authEnv.WORKOS_SECRET}", "unknown credential"),
        ("http://x/${buildEnv.HOST", "unterminated"),
        (
            "http://${buildEnv.NOT_SET_ANYWHERE}/cb",
            "NOT_SET_ANYWHERE is not set",
        ),
        ("http://${buildEnv.EMPTY_ONE}/cb", "set but empty"),
    ];
    for (template, expected) in cases {
        let project = Project::new();
        project.convex_json(json!({ "dev": { "configure": { "redirectUris": [template] } } }));
        project.file(".env", "EMPTY_ONE=\n");
        let text = fails(&project, &["validate"]);
        assert!(
            text.contains("authKit.dev.configure.redirectUris[0]"),
            "{template}: {text}"
        );
        assert!(text.contains(expected), "{template}: {text}");
    }
}

#[test]
fn values_that_workos_would_refuse_are_caught_before_any_request() {
    let cases = [
        (
            json!({ "redirectUris": ["localhost:3000/cb"] }),
            "redirectUris[0]",
        ),
        (
            json!({ "redirectUris": ["https://a.example.com/cb#x"] }),
            "fragment",
        ),
    ];
    for (configure, expected) in cases {
        let project = Project::new();
        project.convex_json(json!({ "dev": { "configure": configure } }));
        let text = fails(&project, &["plan"]);
        assert!(text.contains(expected), "{text}");
    }
}

#[test]
fn malformed_env_local_lines_are_named() {
    let project = Project::fixture("nextjs");
    project.file(".env.local", "A=1\nthis is not an assignment\n");
    let text = fails(&project, &["apply", "--auto-approve"]);
    assert!(text.contains(".env.local:2:"), "{text}");
    assert!(text.contains("not a `NAME=value` assignment"), "{text}");

    project.file(".env.local", "WORKOS_CLIENT_ID=\"client_open\n");
    let text = fails(&project, &["plan"]);
    assert!(text.contains(".env.local:1:"), "{text}");
    assert!(text.contains("never closed"), "{text}");
}

#[test]
fn an_env_local_directory_is_a_clear_error() {
    let project = Project::fixture("nextjs");
    std::fs::remove_file(project.path().join(".env.local")).unwrap();
    std::fs::create_dir(project.path().join(".env.local")).unwrap();
    let emulator = TestEmulator::start();
    let output = project.against(&emulator).arg("plan").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is a directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_convex_json_says_where_it_looked() {
    let project = Project::new();
    let text = fails(&project, &["plan"]);
    assert!(text.contains("convex.json: not found"), "{text}");
}

#[test]
fn a_malformed_package_json_is_named() {
    let project = Project::fixture("nextjs");
    project.file("package.json", "{ not json");
    let text = fails(&project, &["plan"]);
    assert!(text.contains("package.json"), "{text}");
}

#[test]
fn a_value_that_cannot_be_written_to_env_local_is_refused() {
    let project = Project::new();
    project.convex_json(json!({ "dev": { "localEnvVars": { "PRICE": "costs $5" } } }));
    let text = fails(&project, &["plan"]);
    assert!(text.contains("authKit.dev.localEnvVars.PRICE"), "{text}");
}

#[test]
fn validate_passes_on_every_fixture() {
    for fixture in ["nextjs", "tanstack-start", "vite-react", "vercel"] {
        let project = Project::fixture(fixture);
        let output = project.command().arg("validate").output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{fixture}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).contains("is valid"), "{fixture}");
    }
}

#[test]
fn schema_is_json_and_closed() {
    let project = Project::new();
    let output = project.command().arg("schema").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["additionalProperties"], json!(false));
    let completions = project
        .command()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(completions.status.code(), Some(0));
    assert!(stdout(&completions).contains("authkit-sync"));
}
