//! Several projects in one run: `--dir` repeated or given as a glob, a section per project,
//! one summary, combined exit codes, and one approval for an apply across projects.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::json;

use common::{Project, TestEmulator, stderr, stdout};

/// A monorepo in a temporary directory: `apps/<name>` per project.
struct Monorepo {
    root: tempfile::TempDir,
}

impl Monorepo {
    fn new() -> Monorepo {
        Monorepo {
            root: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.path().join("apps").join(name)
    }

    /// A project whose only managed setting is its redirect URIs.
    fn app(&self, name: &str, redirect_uris: &[&str]) -> PathBuf {
        let config = json!({
            "authKit": { "dev": { "configure": { "redirectUris": redirect_uris } } }
        });
        self.file(name, "convex.json", &config.to_string())
    }

    fn file(&self, app: &str, name: &str, contents: &str) -> PathBuf {
        let dir = self.dir(app);
        std::fs::create_dir_all(&dir).expect("app dir");
        std::fs::write(dir.join(name), contents).expect("write");
        dir
    }

    fn glob(&self) -> String {
        format!("{}/apps/*", self.root.path().display())
    }
}

/// The binary against `emulator`, with one `--dir` per entry of `dirs`.
fn run(emulator: &TestEmulator, dirs: &[&dyn AsRef<Path>], args: &[&str]) -> Command {
    let mut command = Command::cargo_bin("authkit-sync").expect("binary");
    command
        .env_clear()
        .env("NO_COLOR", "1")
        .env("WORKOS_API_URL", emulator.url())
        .env("WORKOS_API_KEY", emulator.api_key())
        .env("WORKOS_CLIENT_ID", emulator.client_id());
    for dir in dirs {
        command.arg("--dir").arg(dir.as_ref());
    }
    command.args(args);
    command
}

#[test]
fn two_projects_are_planned_together_with_a_section_each() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    let web = repo.app("web", &["http://localhost:3000/callback"]);
    let admin = repo.app("admin", &["http://localhost:4000/callback"]);

    let output = run(&emulator, &[&web, &admin], &["plan"]).output().unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    let web_at = text.find(&format!("=== {} (1 of 2) ===", web.display()));
    let admin_at = text.find(&format!("=== {} (2 of 2) ===", admin.display()));
    assert!(web_at.is_some() && web_at < admin_at, "{text}");
    assert!(text.contains(r#"workos.redirect_uri["http://localhost:3000/callback"]"#));
    assert!(text.contains(r#"workos.redirect_uri["http://localhost:4000/callback"]"#));
    assert!(text.contains("=== Summary: 2 projects ==="), "{text}");
    assert!(
        text.contains(
            "2 projects: 2 with changes, 0 without, 0 failed. Total: 2 to create, 0 to update, \
             0 to delete, 0 unverified."
        ),
        "{text}"
    );
}

#[test]
fn a_single_dir_prints_exactly_what_it_always_did() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");
    let alone = project.against(&emulator).arg("plan").output().unwrap();
    let text = stdout(&alone);
    assert!(!text.contains("==="), "{text}");
    assert!(text.starts_with("Using WORKOS_API_KEY from the process environment."));

    let json = project
        .against(&emulator)
        .args(["plan", "--format", "json"])
        .output()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(document.get("projects").is_none());
    assert_eq!(document["format_version"], "1");
}

#[test]
fn a_glob_stands_for_the_directories_with_a_convex_json() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    repo.app("web", &["http://localhost:3000/callback"]);
    repo.app("admin", &["http://localhost:4000/callback"]);
    repo.file("docs", "README.md", "no convex.json here");

    let output = run(&emulator, &[&repo.glob()], &["plan"]).output().unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    let admin = format!("=== {} (1 of 2) ===", repo.dir("admin").display());
    let web = format!("=== {} (2 of 2) ===", repo.dir("web").display());
    assert!(text.contains(&admin) && text.contains(&web), "{text}");
    assert!(!text.contains("docs"), "{text}");

    // A glob that matches one project still gives the sectioned output.
    let one = format!("{}/apps/w*", repo.root.path().display());
    let output = run(&emulator, &[&one], &["plan"]).output().unwrap();
    assert!(stdout(&output).contains("=== Summary: 1 project ==="));
}

#[test]
fn a_glob_that_matches_nothing_is_an_error() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    repo.app("web", &["http://localhost:3000/callback"]);
    let pattern = format!("{}/services/*", repo.root.path().display());

    let output = run(&emulator, &[&pattern], &["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("matches no directory"),
        "{}",
        stderr(&output)
    );

    repo.file("docs", "README.md", "");
    let docs = format!("{}/apps/d*", repo.root.path().display());
    let output = run(&emulator, &[&docs], &["drift"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(
            "matches no project: it matches 1 directory, none with a \
             convex.json"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn one_project_with_changes_and_one_in_sync_exit_2() {
    let emulator = TestEmulator::start();
    emulator.create_redirect_uri("http://localhost:4000/callback");
    let repo = Monorepo::new();
    let web = repo.app("web", &["http://localhost:3000/callback"]);
    let admin = repo.app("admin", &["http://localhost:4000/callback"]);

    let output = run(&emulator, &[&web, &admin], &["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("1 with changes, 1 without, 0 failed"),
        "{text}"
    );

    // Without --detailed-exitcode, plan exits 0 whatever it found.
    let output = run(&emulator, &[&web, &admin], &["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));

    let output = run(&emulator, &[&web, &admin], &["drift"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("1 with drift, 1 in sync, 0 failed"), "{text}");

    // Both in sync: 0.
    let output = run(&emulator, &[&admin, &admin], &["drift"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn an_error_in_one_project_exits_1_and_the_others_are_still_reported() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    let web = repo.app("web", &["http://localhost:3000/callback"]);
    let broken = repo.file(
        "broken",
        "convex.json",
        r#"{"authKit":{"dev":{"configure":{"redirectURIs":["x"]}}}}"#,
    );
    let missing = repo.dir("missing");

    let output = run(
        &emulator,
        &[&broken, &web, &missing],
        &["plan", "--detailed-exitcode"],
    )
    .output()
    .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("did you mean `redirectUris`"), "{text}");
    assert!(text.contains("no such project directory"), "{text}");
    assert!(
        text.contains(r#"workos.redirect_uri["http://localhost:3000/callback"]"#),
        "{text}"
    );
    assert!(
        text.contains("3 projects: 1 with changes, 0 without, 2 failed"),
        "{text}"
    );

    let output = run(&emulator, &[&broken, &web], &["plan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let projects = document["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 2);
    assert_eq!(projects[0]["status"], "failed");
    assert_eq!(projects[0]["exit_code"], 1);
    assert!(projects[0]["plan"].is_null());
    assert!(
        projects[0]["error"]
            .as_str()
            .unwrap()
            .contains("redirectURIs")
    );
    assert_eq!(projects[1]["status"], "changed");
    assert_eq!(projects[1]["plan"]["summary"]["create"], 1);
    assert_eq!(document["summary"]["failed"], 1);
    assert_eq!(document["summary"]["changed"], 1);
    assert_eq!(document["summary"]["exit_code"], 1);
    assert_eq!(document["summary"]["changes"]["create"], 1);
}

#[test]
fn markdown_puts_a_summary_table_above_the_sections() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    let web = repo.app("web", &["http://localhost:3000/callback"]);
    let admin = repo.app("admin", &["http://localhost:4000/callback"]);

    let output = run(
        &emulator,
        &[&web, &admin],
        &["plan", "--format", "markdown"],
    )
    .output()
    .unwrap();
    let text = stdout(&output);
    assert!(text.starts_with("<!-- authkit-sync:projects -->\n## authkit-sync plan of 2"));
    let row = format!("| `{}` | changes | 1 | 0 | 0 | 0 |", web.display());
    let section = format!("## `{}`", web.display());
    let (row_at, section_at) = (text.find(&row).unwrap(), text.find(&section).unwrap());
    assert!(row_at < section_at, "{text}");
}

#[test]
fn apply_across_two_projects_asks_once_and_applies_each() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    let web = repo.app("web", &["http://localhost:3000/callback"]);
    let admin = repo.app("admin", &["http://localhost:4000/callback"]);
    repo.file(
        "admin",
        "convex.json",
        &json!({ "authKit": { "dev": {
            "configure": { "redirectUris": ["http://localhost:4000/callback"] },
            "localEnvVars": { "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}" }
        } } })
        .to_string(),
    );

    // Without a terminal to ask on, nothing is applied anywhere.
    let output = run(&emulator, &[&web, &admin], &["apply"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--auto-approve"),
        "{}",
        stderr(&output)
    );
    assert!(emulator.list("redirect_uris").is_empty());

    let output = run(&emulator, &[&web, &admin], &["apply", "--auto-approve"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert_eq!(
        emulator.list("redirect_uris"),
        [
            "http://localhost:3000/callback",
            "http://localhost:4000/callback"
        ]
    );
    let env_local = std::fs::read_to_string(admin.join(".env.local")).unwrap();
    assert!(env_local.contains(&emulator.client_id()), "{env_local}");
    assert_eq!(text.matches("Apply complete!").count(), 2, "{text}");
    assert!(text.contains("2 projects: 2 applied, 0 with nothing to apply, 0 failed."));

    // Again: nothing to apply anywhere.
    let output = run(&emulator, &[&repo.glob()], &["apply", "--auto-approve"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("0 applied, 2 with nothing to apply, 0 failed"),
        "{text}"
    );
}

#[test]
fn apply_goes_on_in_the_other_projects_when_one_cannot_be_planned() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    let web = repo.app("web", &["http://localhost:3000/callback"]);
    let broken = repo.file("broken", "convex.json", "{ not json");

    let output = run(&emulator, &[&broken, &web], &["apply", "--auto-approve"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("error: "), "{text}");
    assert!(
        text.contains("1 applied, 0 with nothing to apply, 1 failed"),
        "{text}"
    );
    assert_eq!(
        emulator.list("redirect_uris"),
        ["http://localhost:3000/callback"]
    );
}

#[test]
fn single_project_options_refuse_several_projects() {
    let emulator = TestEmulator::start();
    let repo = Monorepo::new();
    let web = repo.app("web", &["http://localhost:3000/callback"]);
    let admin = repo.app("admin", &["http://localhost:4000/callback"]);
    let plan_file = repo.root.path().join("plan.json");
    let plan_file = plan_file.to_str().unwrap();

    let output = run(&emulator, &[&web, &admin], &["plan", "--out", plan_file])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--out saves the plan of one project"));

    let output = run(&emulator, &[&web, &admin], &["validate"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("validate works on one project"));
}
