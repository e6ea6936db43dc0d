//! Secret values never reach any output: tables, reports, logs at every verbosity, errors.

mod common;

use std::time::Duration;

use authkit_sync::emulator::Config;
use common::{Project, TestEmulator, scripted_server, stderr, stdout, write_answer};
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
        &["-vvv", "apply", plan_file],
        &["drift"],
        &["validate"],
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
    // Only .env.local may hold them: no other file the runs left behind.
    assert_no_file_leaks(&project, &secrets);

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

/// No file in the project holds any of `secrets`, except `.env.local` (where they belong) and
/// `convex.json` (which the test wrote them into).
fn assert_no_file_leaks(project: &Project, secrets: &[&str]) {
    for entry in std::fs::read_dir(project.path()).unwrap().flatten() {
        let inputs = [".env.local", "convex.json"];
        if inputs.iter().any(|n| entry.file_name() == *n) || !entry.file_type().unwrap().is_file() {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{:?} holds {secret}",
                entry.file_name()
            );
        }
    }
}

fn project_with_secrets() -> Project {
    let project = Project::new();
    project.convex_json(json!({
        "dev": {
            "configure": { "redirectUris": ["http://localhost:3000/callback"] },
            "localEnvVars": { "WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}" }
        }
    }));
    project.file(".env.local", format!("WORKOS_COOKIE_PASSWORD={COOKIE}\n"));
    project
}

/// Answers every request with a 500 whose body, request id and error code repeat the request's
/// Authorization header, as a careless proxy might.
fn echoing_server() -> String {
    let (url, _) = scripted_server(|request, stream| {
        let authorization = request
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("authorization")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        let body = json!({
            "message": format!("upstream failed for {authorization}"),
            "code": authorization,
            "status": "error",
            "errorMessage": authorization,
        })
        .to_string();
        let headers = format!("x-request-id: req {authorization}\r\n");
        write_answer(stream, "500 Internal Server Error", &headers, &body);
    });
    url
}

#[test]
fn a_server_echoing_the_authorization_header_leaks_nothing() {
    const KEY: &str = "sk_test_echoed_secret_key_0123456789";
    const ADMIN_KEY: &str = "dev:happy-otter-123|echoed-admin-key-0123456789";
    let url = echoing_server();
    let project = project_with_secrets();
    for args in [
        &["-vvv", "plan"][..],
        &["plan", "--format", "json"],
        &["-vvv", "drift"],
        &["-vvv", "apply", "--auto-approve"],
    ] {
        // WorkOS alone, then with the Convex deployment (read first) behind the same server.
        for with_deployment in [false, true] {
            let mut command = project.command();
            command
                .env("WORKOS_API_URL", &url)
                .env("WORKOS_API_KEY", KEY)
                .env("WORKOS_CLIENT_ID", "client_echo")
                .env("AUTHKIT_SYNC_BACKOFF_MIN_MS", "1")
                .env("AUTHKIT_SYNC_BACKOFF_MAX_MS", "5");
            if with_deployment {
                command
                    .env("CONVEX_URL", &url)
                    .env("CONVEX_DEPLOY_KEY", ADMIN_KEY);
            }
            let output = command.args(args).output().unwrap();
            assert_eq!(output.status.code(), Some(1), "{args:?}");
            let context = format!("{args:?} (deployment: {with_deployment})");
            assert!(
                format!("{}{}", stdout(&output), stderr(&output)).contains("[redacted]"),
                "{context}: the echo was not shown at all"
            );
            assert_clean(
                &output,
                &[KEY, ADMIN_KEY, "echoed-admin-key", COOKIE],
                &context,
            );
        }
    }
    assert_eq!(
        project.read(".env.local"),
        format!("WORKOS_COOKIE_PASSWORD={COOKIE}\n")
    );
    assert_no_file_leaks(&project, &[KEY, ADMIN_KEY]);
}

#[test]
fn retries_under_faults_log_no_secret() {
    let emulator = TestEmulator::with_config(Config {
        faults: "429=0.2,500=0.2,reset=0.1".parse().unwrap(),
        // A seed whose faults hit both runs, given the requests they send at once.
        seed: 4,
        latency: Duration::from_millis(1),
        ..Config::default()
    });
    let project = project_with_secrets();
    let key = emulator.api_key();
    for args in [&["-vvv", "apply", "--auto-approve"][..], &["-vvv", "plan"]] {
        let output = project
            .against(&emulator)
            .env("CONVEX_URL", emulator.deployment_url())
            .env("CONVEX_DEPLOY_KEY", emulator.admin_key())
            .env("AUTHKIT_SYNC_BACKOFF_MIN_MS", "1")
            .env("AUTHKIT_SYNC_BACKOFF_MAX_MS", "5")
            .args(args)
            .output()
            .unwrap();
        assert!(stderr(&output).contains("retrying"), "{}", stderr(&output));
        let admin_key = emulator.admin_key();
        assert_clean(&output, &[&key, &admin_key, COOKIE], &format!("{args:?}"));
    }
}
