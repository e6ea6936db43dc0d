//! The consistency checks end to end: findings under the plan, what stops a run, and what
//! `--strict` and `--ignore` change. Each check's logic is tested beside it in `src/checks/`.

mod common;

use common::{Project, TestEmulator, stderr, stdout};
use serde_json::json;

/// A Next.js app whose `.env.local` sends users to a callback that convex.json never registers.
fn unregistered_callback() -> Project {
    let project = Project::fixture("nextjs");
    project.convex_json(json!({
        "dev": {
            "configure": { "redirectUris": ["http://localhost:3000/callback"] },
            "localEnvVars": { "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}" }
        }
    }));
    project.file(
        ".env.local",
        "NEXT_PUBLIC_WORKOS_REDIRECT_URI=http://localhost:3000/api/auth/callback\n",
    );
    project
}

#[test]
fn a_warning_is_printed_under_the_plan_and_exits_0() {
    let emulator = TestEmulator::start();
    let project = unregistered_callback();

    let plan = project.against(&emulator).arg("plan").output().unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    let table = text
        .find("authkit-sync will perform")
        .expect("the plan table");
    let finding = text
        .find(
            "warning[redirect-uri-unregistered]: the app redirects to \
             `http://localhost:3000/api/auth/callback` (NEXT_PUBLIC_WORKOS_REDIRECT_URI in \
             .env.local)",
        )
        .unwrap_or_else(|| panic!("{text}"));
    assert!(table < finding, "findings come under the table: {text}");
    assert!(
        text.contains(r#"    at env_file.var["NEXT_PUBLIC_WORKOS_REDIRECT_URI"]"#),
        "{text}"
    );
    assert!(
        text.contains(
            "fix: add `http://localhost:3000/api/auth/callback` to \
             `authKit.dev.configure.redirectUris`"
        ),
        "{text}"
    );
    assert!(text.contains("0 errors, 1 warning."), "{text}");
}

#[test]
fn strict_apply_stops_before_anything_is_written() {
    let emulator = TestEmulator::start();
    let project = unregistered_callback();
    let before = project.read(".env.local");

    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve", "--strict"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1), "{}", stdout(&apply));
    assert!(
        stdout(&apply).contains("error[redirect-uri-unregistered]"),
        "{}",
        stdout(&apply)
    );
    assert!(
        stderr(&apply).contains("(redirect-uri-unregistered), so nothing was applied"),
        "{}",
        stderr(&apply)
    );
    assert_eq!(project.read(".env.local"), before);
    assert!(emulator.list("redirect_uris").is_empty());
    assert_eq!(emulator.homepage(), None);
}

#[test]
fn ignore_accepts_a_checks_findings() {
    let emulator = TestEmulator::start();
    let project = unregistered_callback();

    let plan = project
        .against(&emulator)
        .args(["plan", "--ignore", "redirect-uri-unregistered"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    assert!(!stdout(&plan).contains("Checks:"), "{}", stdout(&plan));

    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve", "--strict"])
        .args(["--ignore", "redirect-uri-unregistered"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    assert_eq!(
        emulator.list("redirect_uris"),
        ["http://localhost:3000/callback"]
    );
}

#[test]
fn a_secret_in_a_public_variable_fails_without_strict() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");
    project.convex_json(json!({
        "dev": {
            "configure": { "redirectUris": ["http://localhost:3000/callback"] },
            "localEnvVars": { "NEXT_PUBLIC_WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}" }
        }
    }));
    let before = project.read(".env.local");

    for args in [&["plan"][..], &["apply", "--auto-approve"], &["drift"]] {
        let output = project.against(&emulator).args(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stdout(&output)
        );
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            text.contains("error[secret-in-public-variable]"),
            "{args:?}: {text}"
        );
        assert!(
            text.contains("the checks found errors (secret-in-public-variable)"),
            "{text}"
        );
        assert!(
            !text.contains(&emulator.api_key()),
            "the key leaked: {text}"
        );
    }
    assert_eq!(project.read(".env.local"), before);
    assert!(emulator.list("redirect_uris").is_empty());
}

#[test]
fn a_cors_origin_with_a_path_is_an_error_found_offline_too() {
    let emulator = TestEmulator::start();
    let project = Project::new();
    project.convex_json(json!({
        "dev": { "configure": { "corsOrigins": ["http://localhost:3000/"] } }
    }));

    let plan = project.against(&emulator).arg("plan").output().unwrap();
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        stdout(&plan).contains("fix: write `http://localhost:3000` in"),
        "{}",
        stdout(&plan)
    );
    assert!(emulator.list("cors_origins").is_empty());

    let validate = project.command().arg("validate").output().unwrap();
    assert_eq!(validate.status.code(), Some(1));
    assert!(
        stdout(&validate).contains("error[cors-origin-not-origin]"),
        "{}",
        stdout(&validate)
    );
}

#[test]
fn a_foreign_default_redirect_uri_is_reported_by_drift() {
    let emulator = TestEmulator::start();
    emulator.create_redirect_uri("https://old-deploy.example.com/callback");
    let project = Project::new();
    project.convex_json(json!({
        "dev": { "configure": { "redirectUris": ["http://localhost:3000/callback"] } }
    }));
    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));

    // The old deploy's callback is on the server but not in convex.json: that is drift too.
    let drift = project.against(&emulator).arg("drift").output().unwrap();
    assert_eq!(drift.status.code(), Some(2), "{}", stdout(&drift));
    let text = stdout(&drift);
    assert!(
        text.contains(
            "warning[default-redirect-uri-undeclared]: the environment's default redirect URI \
             is `https://old-deploy.example.com/callback`"
        ),
        "{text}"
    );

    let strict = project
        .against(&emulator)
        .args(["drift", "--strict"])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
}

#[test]
fn unknown_ignore_ids_are_usage_errors_and_address_patterns_are_accepted() {
    let emulator = TestEmulator::start();
    let project = unregistered_callback();

    let output = project
        .against(&emulator)
        .args(["plan", "--ignore", "redirect-uri"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("unknown check id `redirect-uri`"), "{text}");
    assert!(text.contains("redirect-uri-unregistered"), "{text}");
    assert!(text.contains("secret-in-public-variable"), "{text}");

    let output = project
        .against(&emulator)
        .args(["drift", "--ignore", r#"workos.redirect_uri["http://x/*"]"#])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("address patterns only filter"),
        "{}",
        stderr(&output)
    );

    let output = project
        .against(&emulator)
        .args(["plan", "--ignore", r#"workos.redirect_uri["http://x/*"]"#])
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("address patterns only filter drift reports"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_fixture_projects_pass_every_check() {
    for fixture in ["nextjs", "tanstack-start", "vite-react", "vercel"] {
        let emulator = TestEmulator::start();
        let project = Project::fixture(fixture);
        for args in [
            &["plan", "--strict"][..],
            &["apply", "--auto-approve", "--strict"],
        ] {
            let output = project.against(&emulator).args(args).output().unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "{fixture} {args:?}: {}{}",
                stdout(&output),
                stderr(&output)
            );
            assert!(!stdout(&output).contains("Checks:"), "{}", stdout(&output));
        }
    }
}
