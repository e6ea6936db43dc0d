//! Secret values never reach any output: tables, reports, logs at every verbosity, errors.

mod common;

use common::{Project, TestEmulator, stderr, stdout};
use serde_json::json;

const COOKIE: &str = "cookie-password-known-value-0123456789-abcdefghij";
const STALE_KEY: &str = "sk_test_stale_key_value_in_env_local";
const LITERAL_TOKEN: &str = "literal-token-value-9876543210";

fn assert_clean(output: &std::process::Output, secrets: &[&str], context: &str) {
    let all = format!("{}{}", stdout(output), stderr(output));
    for secret in secrets {
        assert!(!all.contains(secret), "{context}: leaked {secret}:\n{all}");
    }
}

#[test]
fn no_command_prints_a_secret() {
    let emulator = TestEmulator::start();
    let project = Project::new();
    project.file("package.json", r#"{"dependencies":{"next":"15"}}"#);
    project.convex_json(json!({
        "dev": {
            "configure": { "redirectUris": ["http://localhost:3000/callback"] },
            "localEnvVars": {
                "WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}",
                "INNOCENT_NAME": "${authEnv.WORKOS_API_KEY}",
                "SERVICE_TOKEN": LITERAL_TOKEN
            }
        }
    }));
    project.file(
        ".env.local",
        format!("WORKOS_API_KEY={STALE_KEY}\nWORKOS_COOKIE_PASSWORD={COOKIE}\nINNOCENT_NAME=x\n"),
    );
    let key = emulator.api_key();
    let secrets = [key.as_str(), COOKIE, STALE_KEY, LITERAL_TOKEN];

    let plan_file = project.path().join("saved.plan.json");
    let plan_file = plan_file.to_str().unwrap();
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "--format", "markdown"],
        &["-vvv", "plan", "--out", plan_file],
        &["show", plan_file],
        &["show", plan_file, "--format", "json"],
        &["show", plan_file, "--format", "markdown"],
        &["drift", "--format", "json"],
        &["drift", "--format", "markdown"],
        &["-vvv", "plan"],
        &["-vvv", "drift"],
        &["-vvv", "validate"],
        &["-vvv", "apply", "--auto-approve"],
        &["-vvv", "plan"],
    ] {
        let output = project.against(&emulator).args(args).output().unwrap();
        assert!(
            output.status.code().is_some_and(|c| c <= 2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_clean(&output, &secrets, &format!("{args:?}"));
    }
    let saved = std::fs::read_to_string(plan_file).unwrap();
    for secret in secrets {
        assert!(!saved.contains(secret), "the plan file leaked {secret}");
    }
    let written = project.read(".env.local");
    assert!(
        written.contains(&format!("INNOCENT_NAME={key}")),
        "{written}"
    );

    // Error paths: a wrong key, an unreachable server.
    let wrong = project
        .against(&emulator)
        .env("WORKOS_API_KEY", "sk_test_wrong_but_secret_value")
        .args(["-vvv", "plan"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert_clean(&wrong, &["sk_test_wrong_but_secret_value"], "wrong key");
}
