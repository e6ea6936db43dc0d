//! Golden files for the human output: the plan table, the value diff and the apply report.

mod common;

use common::{Project, TestEmulator, stdout};
use serde_json::json;

#[test]
fn plan_table_for_a_fresh_nextjs_project() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");
    let output = project.against(&emulator).arg("plan").output().unwrap();
    insta::assert_snapshot!("plan_fresh_nextjs", stdout(&output));
}

#[test]
fn plan_table_with_updates_unmanaged_items_and_masked_secrets() {
    let emulator = TestEmulator::start();
    emulator.create_redirect_uri("http://localhost:3000/callback");
    emulator.create_redirect_uri("http://localhost:4000/old");
    let project = Project::new();
    project.convex_json(json!({
        "dev": {
            "configure": { "redirectUris": ["http://localhost:3000/callback"] },
            "localEnvVars": {
                "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
                "WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}"
            }
        }
    }));
    project.file(
        ".env.local",
        "WORKOS_CLIENT_ID=client_00000000000000000000000009\nWORKOS_API_KEY=sk_test_old\n",
    );
    let output = project.against(&emulator).arg("plan").output().unwrap();
    insta::assert_snapshot!("plan_updates_and_unmanaged", stdout(&output));
}

#[test]
fn apply_report_and_the_plan_after_it() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    insta::assert_snapshot!("apply_vite_react", stdout(&apply));
    let plan = project.against(&emulator).arg("plan").output().unwrap();
    insta::assert_snapshot!("plan_after_apply", stdout(&plan));
}

#[test]
fn colour_only_when_asked() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    let plain = project.against(&emulator).arg("plan").output().unwrap();
    assert!(!stdout(&plain).contains('\u{1b}'));
    let coloured = project
        .against(&emulator)
        .args(["--color", "always", "plan"])
        .output()
        .unwrap();
    assert!(
        stdout(&coloured).contains("\u{1b}["),
        "{}",
        stdout(&coloured)
    );
}
