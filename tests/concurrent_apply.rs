//! Two applies on one project at once: the lock serialises their `.env.local` writes, nothing
//! is lost or written twice, and the second reports what it found already done. A saved plan
//! stays strict: a `.env.local` changed since it was made refuses it.

mod common;

use std::process::{Output, Stdio};
use std::time::Duration;

use authkit_sync::emulator::Config;
use common::{Project, TestEmulator, spawnable, stdout};
use serde_json::json;

fn project() -> Project {
    let project = Project::new();
    project.file("package.json", r#"{"dependencies":{"next":"15"}}"#);
    project.convex_json(json!({
        "dev": {
            "configure": {
                "redirectUris": [
                    "http://localhost:3000/callback",
                    "http://localhost:3001/callback"
                ],
                "corsOrigins": ["http://localhost:3000"]
            },
            "localEnvVars": {
                "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
                "WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}",
                "NEXT_PUBLIC_WORKOS_REDIRECT_URI": "http://localhost:3000/callback"
            }
        }
    }));
    project.file(".env.local", "# mine\nOTHER=1\n");
    project
}

/// Starts `count` applies at once and waits for all of them.
fn applies_at_once(project: &Project, emulator: &TestEmulator, count: usize) -> Vec<Output> {
    let children: Vec<_> = (0..count)
        .map(|_| {
            spawnable(project.against(emulator).args(["apply", "--auto-approve"]))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("apply starts")
        })
        .collect();
    children
        .into_iter()
        .map(|child| child.wait_with_output().expect("apply ends"))
        .collect()
}

fn lines_setting(text: &str, name: &str) -> usize {
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}=")))
        .count()
}

#[test]
fn concurrent_applies_write_each_variable_once_and_the_later_reports_it_done() {
    // The latency keeps both runs between reading `.env.local` and writing it at the same time.
    let emulator = TestEmulator::with_config(Config {
        latency: Duration::from_millis(150),
        ..Config::default()
    });
    for round in 0..3 {
        let project = project();
        let outputs = applies_at_once(&project, &emulator, 2);
        for output in &outputs {
            assert_eq!(output.status.code(), Some(0), "round {round}: {output:?}");
        }

        let written = project.read(".env.local");
        assert!(written.starts_with("# mine\nOTHER=1\n"), "{written}");
        for name in [
            "WORKOS_CLIENT_ID",
            "WORKOS_API_KEY",
            "NEXT_PUBLIC_WORKOS_REDIRECT_URI",
            "WORKOS_COOKIE_PASSWORD",
        ] {
            assert_eq!(lines_setting(&written, name), 1, "{name} in:\n{written}");
        }
        let reports: Vec<String> = outputs.iter().map(stdout).collect();
        let already_done = reports
            .iter()
            .filter(|r| r.contains("unchanged") && r.contains("already done"))
            .count();
        assert_eq!(
            already_done,
            1,
            "round {round}:\n{}",
            reports.join("\n---\n")
        );
        assert!(
            reports.iter().all(|r| r.contains("Apply complete!")),
            "{reports:?}"
        );

        let plan = project
            .against(&emulator)
            .args(["plan", "--detailed-exitcode"])
            .output()
            .unwrap();
        assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
        // The next round starts from an empty WorkOS environment again.
        emulator.request(reqwest::Method::POST, "/_emulator/reset", None);
    }
}

#[test]
fn three_applies_at_once_agree_and_the_server_has_no_duplicates() {
    let emulator = TestEmulator::with_config(Config {
        latency: Duration::from_millis(100),
        ..Config::default()
    });
    let project = project();
    for output in applies_at_once(&project, &emulator, 3) {
        assert_eq!(output.status.code(), Some(0), "{output:?}");
    }
    assert_eq!(
        emulator.list("redirect_uris"),
        [
            "http://localhost:3000/callback",
            "http://localhost:3001/callback"
        ]
    );
    assert_eq!(emulator.list("cors_origins"), ["http://localhost:3000"]);
    let written = project.read(".env.local");
    assert_eq!(
        lines_setting(&written, "WORKOS_COOKIE_PASSWORD"),
        1,
        "{written}"
    );
    assert_eq!(lines_setting(&written, "WORKOS_API_KEY"), 1, "{written}");
}

#[test]
fn a_saved_plan_still_refuses_a_env_local_another_apply_changed() {
    let emulator = TestEmulator::start();
    let project = project();
    let plan_file = project.path().join("reviewed.json");
    let saved = project
        .against(&emulator)
        .args(["plan", "--out"])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_eq!(saved.status.code(), Some(0));

    let fresh = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(fresh.status.code(), Some(0));
    let after_fresh = project.read(".env.local");

    let output = project
        .against(&emulator)
        .arg("apply")
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("is stale"), "{text}");
    assert_eq!(project.read(".env.local"), after_fresh);
}
