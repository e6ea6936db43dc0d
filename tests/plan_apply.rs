//! End to end: the real binary against the emulator over loopback.

mod common;

use common::{Project, TestEmulator, stderr, stdout};
use serde_json::json;

const ORIGINAL_ENV_LOCAL: &str = "# Deployment used by `npx convex dev`\n\
    CONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: shop\n\
    \n\
    NEXT_PUBLIC_CONVEX_URL=https://happy-otter-123.convex.cloud\n";

#[test]
fn fresh_project_plans_creates_applies_them_and_then_has_no_changes() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");

    let plan = project
        .against(&emulator)
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains(r#"workos.redirect_uri["http://localhost:3000/callback"]"#),
        "{text}"
    );
    assert!(
        text.contains("Plan: 6 to create, 0 to update, 0 to delete, 1 unverified."),
        "{text}"
    );

    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert!(stdout(&apply).contains("Apply complete! 6 created, 0 updated, 0 deleted, 1 set."));
    assert_eq!(
        emulator.list("redirect_uris"),
        ["http://localhost:3000/callback"]
    );
    assert_eq!(emulator.list("cors_origins"), ["http://localhost:3000"]);
    assert_eq!(
        emulator.homepage().as_deref(),
        Some("http://localhost:3000")
    );

    let env_local = project.read(".env.local");
    assert!(env_local.starts_with(ORIGINAL_ENV_LOCAL), "{env_local}");
    assert!(env_local.contains(&format!("WORKOS_CLIENT_ID={}\n", emulator.client_id())));
    assert!(env_local.contains("NEXT_PUBLIC_WORKOS_REDIRECT_URI=http://localhost:3000/callback\n"));
    assert!(env_local.contains(&format!("WORKOS_API_KEY={}\n", emulator.api_key())));
    let password = env_local
        .lines()
        .find_map(|l| l.strip_prefix("WORKOS_COOKIE_PASSWORD="))
        .expect("a cookie password");
    assert_eq!(password.len(), 43);

    let again = project
        .against(&emulator)
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(stdout(&again).contains("No changes."), "{}", stdout(&again));

    let second = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stdout(&second).contains("Apply complete! 0 created, 0 updated, 0 deleted, 1 set."),
        "{}",
        stdout(&second)
    );
    assert!(
        project
            .read(".env.local")
            .contains(&format!("WORKOS_COOKIE_PASSWORD={password}\n"))
    );
}

#[test]
fn only_the_planned_lines_of_env_local_change() {
    let emulator = TestEmulator::start();
    let project = Project::new();
    project.convex_json(json!({
        "dev": { "localEnvVars": {
            "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
            "APP_URL": "http://localhost:3000"
        } }
    }));
    let original = "\u{feff}# comment\r\nexport KEEP='single # quoted'\r\n\r\n\
        WORKOS_CLIENT_ID=\"client_stale\" # trailing\r\nOTHER=`back`\r\nLAST=1";
    project.file(".env.local", original);

    let apply = project
        .against(&emulator)
        .env("WORKOS_CLIENT_ID", "client_fresh")
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));

    let expected = "\u{feff}# comment\r\nexport KEEP='single # quoted'\r\n\r\n\
        WORKOS_CLIENT_ID=client_fresh # trailing\r\nOTHER=`back`\r\nLAST=1\r\n\
        APP_URL=http://localhost:3000\r\n";
    assert_eq!(project.read(".env.local"), expected);
}

#[test]
fn new_env_local_is_created_with_mode_0600_and_existing_modes_are_kept() {
    use std::os::unix::fs::PermissionsExt as _;
    let emulator = TestEmulator::start();
    let project = Project::new();
    project.convex_json(json!({ "dev": { "localEnvVars": { "A": "1" } } }));

    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let mode = |p: &Project| {
        std::fs::metadata(p.path().join(".env.local"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&project), 0o600);

    project.file(".env.local", "A=old\n");
    let path = project.path().join(".env.local");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    assert_eq!(project.read(".env.local"), "A=1\n");
    assert_eq!(mode(&project), 0o640);
}

#[test]
fn unmanaged_items_are_listed_and_pruned_only_with_prune() {
    let emulator = TestEmulator::start();
    emulator.create_redirect_uri("http://localhost:9999/first-is-default");
    emulator.create_redirect_uri("http://localhost:4000/old");
    let project = Project::new();
    project.convex_json(json!({
        "dev": { "configure": { "redirectUris": ["http://localhost:3000/callback"] } }
    }));

    let plan = project.against(&emulator).arg("plan").output().unwrap();
    let text = stdout(&plan);
    assert!(text.contains("Unmanaged"), "{text}");
    assert!(
        text.contains(r#"workos.redirect_uri["http://localhost:4000/old"]"#),
        "{text}"
    );

    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve", "--prune"])
        .output()
        .unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert_eq!(
        emulator.list("redirect_uris"),
        [
            "http://localhost:3000/callback",
            "http://localhost:9999/first-is-default"
        ],
        "the default redirect URI is never pruned"
    );
}

#[test]
fn apply_without_a_terminal_needs_auto_approve_and_writes_nothing() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");
    let before = project.read(".env.local");

    let apply = project.against(&emulator).arg("apply").output().unwrap();
    assert_eq!(apply.status.code(), Some(1));
    assert!(
        stderr(&apply).contains("--auto-approve"),
        "{}",
        stderr(&apply)
    );
    assert_eq!(project.read(".env.local"), before);
    assert!(emulator.list("redirect_uris").is_empty());
}

#[test]
fn preview_target_resolves_build_env_templates() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vercel");

    let plan = project
        .against(&emulator)
        .env("CONVEX_DEPLOY_KEY", "preview:team:project|secretpart")
        .env("VERCEL_BRANCH_URL", "shop-git-feature-acme.vercel.app")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("(target preview)"), "{text}");
    assert!(
        text.contains(
            r#"workos.redirect_uri["https://shop-git-feature-acme.vercel.app/callback"]"#
        ),
        "{text}"
    );
    assert!(
        !text.contains("env_file.var"),
        "preview never touches .env.local: {text}"
    );
}

#[test]
fn prod_refuses_a_sandbox_key() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vercel");

    let plan = project
        .against(&emulator)
        .env("VERCEL_PROJECT_PRODUCTION_URL", "shop.example.com")
        .args(["--target", "prod", "plan"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(text.contains("sandbox key (sk_test_)"), "{text}");
    assert!(!text.contains(&emulator.api_key()), "{text}");
}

#[test]
fn a_wrong_api_key_is_reported_with_status_and_request_id() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");

    let plan = project
        .against(&emulator)
        .env("WORKOS_API_KEY", "sk_test_wrong_key_value")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(text.contains("401 Unauthorized"), "{text}");
    assert!(text.contains("X-Request-ID"), "{text}");
    assert!(!text.contains("sk_test_wrong_key_value"), "{text}");
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let project = Project::fixture("nextjs");

    let plan = project
        .command()
        .env("WORKOS_API_URL", format!("http://127.0.0.1:{port}"))
        .env("WORKOS_API_KEY", "sk_test_x")
        .env("WORKOS_CLIENT_ID", "client_x")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(text.contains("could not connect"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}

#[test]
fn a_server_answering_html_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let body = "<html>maintenance</html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let project = Project::fixture("nextjs");

    let plan = project
        .command()
        .env("WORKOS_API_URL", url)
        .env("WORKOS_API_KEY", "sk_test_x")
        .env("WORKOS_CLIENT_ID", "client_x")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        stderr(&plan).contains("unexpected body"),
        "{}",
        stderr(&plan)
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_any_request() {
    let project = Project::fixture("nextjs");
    let plan = project
        .command()
        .env("WORKOS_API_URL", "http://api.example.com")
        .env("WORKOS_API_KEY", "sk_test_x")
        .env("WORKOS_CLIENT_ID", "client_x")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        stderr(&plan).contains("WORKOS_API_URL"),
        "{}",
        stderr(&plan)
    );
}

#[test]
fn missing_credentials_say_where_they_were_looked_for() {
    let project = Project::fixture("nextjs");
    let plan = project
        .command()
        .env("CI", "true")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(
        text.contains("WORKOS_CLIENT_ID and WORKOS_API_KEY are needed but not found"),
        "{text}"
    );
    assert!(text.contains("the process environment"), "{text}");
    assert!(text.contains(".env.local"), "{text}");
    assert!(text.contains("hosting provider"), "{text}");
}

#[test]
fn the_embedded_emulator_runs_plan_and_apply_with_no_account() {
    let project = Project::fixture("vite-react");
    let state = project.path().join("emulator.json");
    let flag = format!("--emulator={}", state.display());

    let apply = project
        .command()
        .args([&flag, "apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert!(stdout(&apply).contains("apply provisions an environment for deployment"));
    assert!(state.exists());

    let plan = project
        .command()
        .args([&flag, "plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
    let env_local = project.read(".env.local");
    assert!(
        env_local.contains("VITE_WORKOS_CLIENT_ID=client_"),
        "{env_local}"
    );
    assert!(
        !env_local.contains("WORKOS_COOKIE_PASSWORD"),
        "a Vite SPA needs no cookie password"
    );
}

#[test]
fn usage_errors_exit_1_never_2() {
    let project = Project::fixture("nextjs");
    for args in [
        &["plan", "--no-such-flag"][..],
        &["frobnicate"],
        &["--target", "staging", "plan"],
    ] {
        let output = project.command().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
    }
    let help = project.command().arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
}

#[test]
fn no_section_for_the_target_means_nothing_to_do() {
    let project = Project::new();
    project.convex_json(json!({ "dev": {} }));
    let output = project
        .command()
        .args(["--target", "prod", "plan"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("no authKit.prod section"),
        "{}",
        stdout(&output)
    );
}

fn legacy_emulator() -> TestEmulator {
    TestEmulator::with_config(authkit_sync::emulator::Config {
        legacy: true,
        ..Default::default()
    })
}

#[test]
fn without_list_endpoints_items_are_ensured_present_and_duplicates_count_as_success() {
    let emulator = legacy_emulator();
    let project = Project::fixture("tanstack-start");

    let plan = project
        .against(&emulator)
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains(
            r#"? unverified  workos.redirect_uri["http://localhost:3000/api/auth/callback"]"#
        ),
        "{text}"
    );
    assert!(
        text.contains("create-if-absent (GET /user_management/redirect_uris answered 404"),
        "{text}"
    );

    for round in 0..2 {
        let apply = project
            .against(&emulator)
            .args(["apply", "--auto-approve"])
            .output()
            .unwrap();
        assert_eq!(
            apply.status.code(),
            Some(0),
            "round {round}: {}",
            stdout(&apply)
        );
        if round == 1 {
            assert!(
                stdout(&apply).contains("already existed"),
                "{}",
                stdout(&apply)
            );
        }
    }
    assert_eq!(
        emulator.list("redirect_uris"),
        ["http://localhost:3000/api/auth/callback"]
    );
    assert!(project.read(".env.local").contains("WORKOS_REDIRECT_URI="));
}

#[test]
fn a_missing_homepage_endpoint_fails_clearly_and_env_local_is_not_written() {
    let emulator = legacy_emulator();
    let project = Project::fixture("nextjs");
    let before = project.read(".env.local");

    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1));
    let text = stdout(&apply);
    assert!(
        text.contains("PUT /user_management/app_homepage_url"),
        "{text}"
    );
    assert!(text.contains("404"), "{text}");
    assert!(text.contains("not applied"), "{text}");
    assert!(text.contains("Apply failed"), "{text}");
    assert_eq!(project.read(".env.local"), before);
}

#[test]
fn credentials_come_from_env_local_when_the_environment_has_none() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    project.file(
        ".env.local",
        format!(
            "WORKOS_API_KEY={}\nWORKOS_CLIENT_ID={}\n",
            emulator.api_key(),
            emulator.client_id()
        ),
    );
    let plan = project
        .command()
        .env("WORKOS_API_URL", emulator.url())
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains("Using WORKOS_API_KEY from "),
        "{}",
        stdout(&plan)
    );
    assert!(stdout(&plan).contains(".env.local."), "{}", stdout(&plan));

    let overridden = project.against(&emulator).arg("plan").output().unwrap();
    assert!(stdout(&overridden).contains("from the process environment"));
}

#[test]
fn emulate_prints_one_json_line_and_serves_until_stopped() {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authkit-sync"))
        .args(["emulate", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = info["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(info["apiKey"].as_str().unwrap().starts_with("sk_test_"));
    assert!(info["clientId"].as_str().unwrap().starts_with("client_"));

    let project = Project::fixture("vite-react");
    let plan = project
        .command()
        .env("WORKOS_API_URL", &url)
        .env("WORKOS_API_KEY", info["apiKey"].as_str().unwrap())
        .env("WORKOS_CLIENT_ID", info["clientId"].as_str().unwrap())
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    child.kill().unwrap();
    let _ = child.wait();
}

/// Runs `apply` on a pseudo-terminal (util-linux `script`), answering `answer` at the prompt.
fn apply_on_a_terminal(project: &Project, emulator: &TestEmulator, answer: &str) -> (i32, String) {
    use std::io::Write as _;
    let command = format!(
        "{} --dir {} apply",
        env!("CARGO_BIN_EXE_authkit-sync"),
        project.path().display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("WORKOS_API_URL", emulator.url())
        .env("WORKOS_API_KEY", emulator.api_key())
        .env("WORKOS_CLIENT_ID", emulator.client_id())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the command on a pseudo-terminal");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (output.status.code().unwrap_or(-1), stdout(&output))
}

#[test]
fn the_prompt_accepts_only_yes() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");

    for answer in ["no\n", "y\n", "YES\n", "\n"] {
        let (code, text) = apply_on_a_terminal(&project, &emulator, answer);
        assert_eq!(code, 1, "{answer:?}: {text}");
        assert!(text.contains("Only 'yes' will be accepted"), "{text}");
        assert!(text.contains("Apply cancelled."), "{text}");
        assert!(emulator.list("redirect_uris").is_empty());
    }

    let (code, text) = apply_on_a_terminal(&project, &emulator, "yes\n");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Apply complete!"), "{text}");
    assert_eq!(
        emulator.list("redirect_uris"),
        ["http://localhost:5173/callback"]
    );
}
