//! What the tool refuses to trust: keys on the command line, plain http to another machine,
//! values that cannot work (refused before the first request), and template syntax arriving
//! inside a substituted value (copied as text, never expanded or run).

mod common;

use common::{Project, TestEmulator, stderr, stdout};
use serde_json::json;

const SUBCOMMANDS: [&str; 8] = [
    "plan",
    "apply",
    "drift",
    "show",
    "validate",
    "schema",
    "completions",
    "emulate",
];

#[test]
fn no_command_takes_a_key_or_a_token_as_a_flag() {
    let project = Project::new();
    let mut helps = vec![project.command().arg("--help").output().unwrap()];
    for subcommand in SUBCOMMANDS {
        helps.push(
            project
                .command()
                .args([subcommand, "--help"])
                .output()
                .unwrap(),
        );
    }
    for help in helps {
        let text = stdout(&help);
        assert_eq!(help.status.code(), Some(0), "{text}");
        let flags: Vec<&str> = text
            .split_whitespace()
            .filter(|word| word.starts_with("--"))
            .collect();
        assert!(flags.len() > 3, "{text}");
        for flag in flags {
            let flag = flag.to_ascii_lowercase();
            for word in ["key", "token", "secret", "password", "credential"] {
                assert!(!flag.contains(word), "{flag} in:\n{text}");
            }
        }
    }
}

/// The project of most tests here, against `emulator` as WorkOS and the Convex deployment.
fn run(project: &Project, emulator: &TestEmulator, args: &[&str]) -> std::process::Output {
    project
        .against(emulator)
        .env("CONVEX_URL", emulator.deployment_url())
        .env("CONVEX_DEPLOY_KEY", emulator.admin_key())
        .args(args)
        .output()
        .unwrap()
}

fn simple_project() -> Project {
    let project = Project::new();
    project.convex_json(json!({
        "dev": { "configure": { "redirectUris": ["http://localhost:3000/callback"] } }
    }));
    project
}

#[test]
fn plain_http_to_another_machine_is_refused_for_every_endpoint() {
    let emulator = TestEmulator::start();
    let project = simple_project();
    for (variable, value) in [
        ("WORKOS_API_URL", "http://api.workos.example"),
        ("CONVEX_URL", "http://happy-otter-123.convex.example"),
    ] {
        let output = project
            .against(&emulator)
            .env("CONVEX_URL", emulator.deployment_url())
            .env("CONVEX_DEPLOY_KEY", emulator.admin_key())
            .env(variable, value)
            .arg("plan")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        let text = stderr(&output);
        assert!(text.contains(&format!("{variable}=`{value}`")), "{text}");
        assert!(text.contains("use https"), "{text}");
    }
    // Refused before the deployment was read: the emulator saw nothing.
    assert_eq!(emulator.request_count(), 0);

    // The management API is needed only to provision, so it is checked then, and nothing is
    // sent to it.
    let output = project
        .against_convex(&emulator)
        .env("CONVEX_PROVISION_HOST", "http://api.convex.example")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("CONVEX_PROVISION_HOST=`http://api.convex.example`"),
        "{text}"
    );
    assert!(text.contains("use https"), "{text}");
    let stats = emulator.stats();
    assert!(
        stats["requests"]
            .as_object()
            .is_some_and(|r| r.keys().all(|k| !k.contains("/api/workos/"))),
        "{stats}"
    );
}

#[test]
fn values_that_cannot_work_are_refused_before_any_request() {
    let emulator = TestEmulator::start();
    let cases = [
        (
            json!({"dev": {"configure": {"redirectUris": ["not a url"]}}}),
            "redirectUris[0]",
        ),
        (
            json!({"dev": {"configure": {"redirectUris": ["http://localhost:3000/cb#x"]}}}),
            "redirectUris[0]",
        ),
        (
            json!({"dev": {"configure": {"corsOrigins": ["localhost:3000"]}}}),
            "corsOrigins[0]",
        ),
        (
            json!({"dev": {"configure": {"appHomepageUrl": "ftp://x"}}}),
            "appHomepageUrl",
        ),
        (
            json!({"prod": {"configure": {"redirectUris": ["http://localhost:3000/cb"]}}}),
            "redirectUris[0]",
        ),
        (
            json!({"dev": {"configure": {"redirectUris": ["https://${buildEnv.UNSET_HOST}/cb"]}}}),
            "redirectUris[0]",
        ),
        (
            json!({"dev": {"localEnvVars": {"PRICE": "$5"}}}),
            "localEnvVars.PRICE",
        ),
    ];
    for (auth_kit, path) in cases {
        let project = Project::new();
        project.convex_json(auth_kit.clone());
        let target = if auth_kit.get("prod").is_some() {
            "prod"
        } else {
            "dev"
        };
        for command in ["plan", "apply"] {
            let mut args = vec!["--target", target, command];
            if command == "apply" {
                args.push("--auto-approve");
            }
            let output = run(&project, &emulator, &args);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{auth_kit}: {}",
                stdout(&output)
            );
            let text = stderr(&output);
            assert!(text.contains(path), "{auth_kit}: {text}");
            assert_eq!(emulator.request_count(), 0, "{auth_kit} {command}: {text}");
        }
    }
}

/// A project whose `INJECTED` variable is `${buildEnv.EVIL}`, with `EVIL` set to `value` in
/// `.env` (the process environment may set it too, and then wins).
fn injection_project(value: &str) -> Project {
    let project = Project::new();
    project.convex_json(json!({
        "dev": {
            "configure": { "redirectUris": ["http://localhost:3000/callback"] },
            "localEnvVars": { "INJECTED": "${buildEnv.EVIL}" }
        }
    }));
    project.file(".env.local", "OTHER=1\n");
    project.file(".env", format!("EVIL={value}\n"));
    project
}

#[test]
fn template_syntax_inside_a_value_is_refused_never_expanded() {
    let emulator = TestEmulator::start();
    let key = emulator.api_key();
    for evil in [
        "${authEnv.WORKOS_API_KEY}",
        "$(touch pwned)",
        "${buildEnv.HOME}",
    ] {
        for from_process in [true, false] {
            let project = injection_project(evil);
            for args in [&["plan"][..], &["apply", "--auto-approve"]] {
                let mut command = project.against(&emulator);
                command.env("HOME", "/home/someone");
                if from_process {
                    command.env("EVIL", evil);
                }
                let output = command.args(args).output().unwrap();
                let text = format!("{}{}", stdout(&output), stderr(&output));
                // The value has a `$`, which Next.js would expand: refused, by its path.
                assert_eq!(output.status.code(), Some(1), "{evil}: {text}");
                assert!(text.contains("authKit.dev.localEnvVars.INJECTED"), "{text}");
                assert!(text.contains("`$`"), "{text}");
                assert!(
                    !text.contains(&key) && !text.contains("/home/someone"),
                    "{text}"
                );
            }
            assert_eq!(project.read(".env.local"), "OTHER=1\n");
            assert!(!project.exists("pwned"));
        }
    }
    assert_eq!(emulator.request_count(), 0);
}

#[test]
fn a_value_with_shell_syntax_but_no_dollar_is_written_as_text() {
    let emulator = TestEmulator::start();
    let evil = "`touch pwned` {authEnv.WORKOS_API_KEY} #not-a-comment";
    let project = injection_project("unused");
    let output = project
        .against(&emulator)
        .env("EVIL", evil)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(evil), "{}", stdout(&output));
    assert!(!project.exists("pwned"));

    // dotenv reads back exactly the text, and the key is nowhere in the file.
    let written = project.read(".env.local");
    let document = authkit_sync::dotenv::Document::parse(written.as_bytes());
    assert_eq!(
        document.get("INJECTED").map(|e| e.value.as_str()),
        Some(evil)
    );
    assert!(!written.contains(&emulator.api_key()), "{written}");
}

#[test]
fn template_syntax_from_a_file_value_is_copied_as_text_into_urls() {
    let emulator = TestEmulator::start();
    let project = Project::new();
    project.convex_json(json!({
        "dev": { "configure": { "redirectUris": ["http://localhost:3000/${buildEnv.SEGMENT}"] } }
    }));
    project.file(".env", "SEGMENT=cb-${authEnv.WORKOS_CLIENT_ID}\n");
    let output = project
        .against(&emulator)
        .args(["plan", "--format", "json"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(text.contains("authEnv.WORKOS_CLIENT_ID"), "{text}");
    assert!(!text.contains(&emulator.client_id()), "{text}");
    assert!(!text.contains(&emulator.api_key()), "{text}");
}
