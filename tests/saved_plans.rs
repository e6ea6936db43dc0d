//! Saved plans, machine formats and drift checks.

mod common;

use common::{Project, TestEmulator, stderr, stdout};
use serde_json::json;

fn saved_plan(project: &Project, emulator: &TestEmulator) -> std::path::PathBuf {
    let path = project.path().join("reviewed.plan.json");
    let output = project
        .against(emulator)
        .args(["plan", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    path
}

#[test]
fn a_saved_plan_is_private_versioned_and_holds_no_secret() {
    use std::os::unix::fs::PermissionsExt as _;
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");
    project.file(
        ".env.local",
        "WORKOS_COOKIE_PASSWORD=known-cookie-password-value-0123456789abcdef\n\
         WORKOS_API_KEY=sk_test_stale_value_in_file\n",
    );
    let path = saved_plan(&project, &emulator);

    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    for secret in [
        emulator.api_key().as_str(),
        "known-cookie-password-value-0123456789abcdef",
        "sk_test_stale_value_in_file",
    ] {
        assert!(!text.contains(secret), "the plan file holds {secret}");
    }
    let plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(plan["format_version"], "1");
    let fingerprints = plan["fingerprints"].as_object().unwrap();
    let keys: Vec<&str> = fingerprints.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "convex_json",
            "env_local",
            "workos",
            "convex",
            "target",
            "endpoints"
        ]
    );
    let update = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == r#"env_file.var["WORKOS_API_KEY"]"#)
        .unwrap();
    assert_eq!(update["action"], "update");
    assert_eq!(update["after"], "(sensitive)");
    assert!(
        update["after_hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn a_fresh_saved_plan_applies_exactly_and_converges() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    let path = saved_plan(&project, &emulator);

    let apply = project
        .against(&emulator)
        .arg("apply")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert!(
        stdout(&apply).contains("Apply complete! 4 created"),
        "{}",
        stdout(&apply)
    );
    assert_eq!(
        emulator.list("redirect_uris"),
        ["http://localhost:5173/callback"]
    );

    let again = project
        .against(&emulator)
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));

    // The same file again: the server and .env.local changed since, so it is stale.
    let replay = project
        .against(&emulator)
        .arg("apply")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1));
    assert!(stderr(&replay).contains("is stale"), "{}", stderr(&replay));
}

/// Makes a plan, lets `change` alter one input, and checks that apply refuses, says why, and
/// writes nothing.
fn refused_after(change: impl FnOnce(&Project, &TestEmulator), extra: &[&str]) -> String {
    let emulator = TestEmulator::start();
    let project = Project::fixture("nextjs");
    let path = saved_plan(&project, &emulator);
    change(&project, &emulator);
    let env_before = project.read(".env.local");
    let uris_before = emulator.list("redirect_uris");

    let apply = project
        .against(&emulator)
        .args(extra)
        .arg("apply")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1), "{}", stdout(&apply));
    assert_eq!(project.read(".env.local"), env_before, "nothing written");
    assert_eq!(
        emulator.list("redirect_uris"),
        uris_before,
        "nothing created"
    );
    assert!(emulator.list("cors_origins").is_empty(), "nothing created");
    let text = stderr(&apply);
    assert!(text.contains("is stale, so nothing was applied"), "{text}");
    text
}

#[test]
fn staleness_names_a_change_on_the_server() {
    let text = refused_after(
        |_, e| e.create_redirect_uri("http://localhost:3000/callback"),
        &[],
    );
    assert!(
        text.contains(
            "redirect URI http://localhost:3000/callback (default) was added on the \
                       server since the plan"
        ),
        "{text}"
    );
}

#[test]
fn staleness_covers_an_unrelated_comment_in_env_local() {
    let text = refused_after(
        |p, _| {
            let edited = format!("{}# a new comment\n", p.read(".env.local"));
            p.file(".env.local", edited);
        },
        &[],
    );
    assert!(
        text.contains("no variable changed, but comments or formatting did"),
        "{text}"
    );
}

#[test]
fn staleness_names_a_changed_env_local_variable() {
    let text = refused_after(
        |p, _| {
            let edited = p
                .read(".env.local")
                .replace("happy-otter-123", "sad-otter-456");
            p.file(".env.local", edited);
        },
        &[],
    );
    assert!(
        text.contains("the value of CONVEX_DEPLOYMENT changed"),
        "{text}"
    );
}

#[test]
fn staleness_names_a_change_to_convex_json() {
    let text = refused_after(
        |p, _| {
            let edited = p.read("convex.json").replace(
                r#""redirectUris": ["http://localhost:3000/callback"]"#,
                r#""redirectUris": ["http://localhost:3000/callback", "http://localhost:3001/cb"]"#,
            );
            p.file("convex.json", edited);
        },
        &[],
    );
    assert!(
        text.contains(
            r#"workos.redirect_uri["http://localhost:3001/cb"] was added to convex.json"#
        ),
        "{text}"
    );
}

#[test]
fn staleness_names_the_target() {
    let emulator = TestEmulator::start();
    let project = Project::new();
    project.convex_json(json!({
        "dev": { "configure": { "corsOrigins": ["http://localhost:3000"] } },
        "preview": { "configure": { "corsOrigins": ["https://preview.example.com"] } }
    }));
    let path = saved_plan(&project, &emulator);
    let apply = project
        .against(&emulator)
        .args(["--target", "preview", "apply"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1));
    assert!(
        stderr(&apply).contains("target: the plan was made for dev"),
        "{}",
        stderr(&apply)
    );
    assert!(emulator.list("cors_origins").is_empty());
}

#[test]
fn staleness_names_the_endpoint_and_the_credentials() {
    let emulator = TestEmulator::start();
    let other = TestEmulator::start();
    let project = Project::fixture("vite-react");
    let path = saved_plan(&project, &emulator);

    let apply = project
        .against(&other)
        .arg("apply")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1));
    assert!(
        stderr(&apply).contains("endpoint: WORKOS_API_URL was"),
        "{}",
        stderr(&apply)
    );

    let apply = project
        .against(&emulator)
        .env("WORKOS_CLIENT_ID", "client_someone_else")
        .arg("apply")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1));
    assert!(stderr(&apply).contains("credentials"), "{}", stderr(&apply));
}

#[test]
fn show_renders_a_saved_plan_without_network() {
    let project = Project::fixture("nextjs");
    let path = {
        let emulator = TestEmulator::start();
        saved_plan(&project, &emulator)
    };
    for (format, expected) in [
        (
            "table",
            "Plan: 6 to create, 0 to update, 0 to delete, 1 unverified.",
        ),
        ("json", r#""format_version": "1""#),
        ("markdown", "<details><summary>Changes (7)</summary>"),
    ] {
        let output = project
            .command()
            .arg("show")
            .arg(&path)
            .args(["--format", format])
            .output();
        let output = output.unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            stderr(&output)
        );
        assert!(
            stdout(&output).contains(expected),
            "{format}: {}",
            stdout(&output)
        );
    }
    project.file("broken.json", "{\"format_version\": \"9\"}");
    let output = project
        .command()
        .args(["show", "broken.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn json_and_markdown_golden_files() {
    let emulator = TestEmulator::start();
    emulator.create_redirect_uri("http://localhost:4000/the-default");
    emulator.create_redirect_uri("http://localhost:4000/old");
    let project = Project::fixture("nextjs");

    let json = project
        .against(&emulator)
        .args(["plan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0));
    insta::assert_snapshot!("plan_json", stdout(&json));

    let markdown = project
        .against(&emulator)
        .args(["plan", "--format", "markdown", "--prune"])
        .output()
        .unwrap();
    insta::assert_snapshot!("plan_markdown_prune", stdout(&markdown));
}

#[test]
fn markdown_stays_under_the_comment_limit() {
    let emulator = TestEmulator::start();
    let project = Project::new();
    let uris: Vec<String> = (0..3000)
        .map(|i| format!("http://localhost:3000/a-long-callback-path/{i}"))
        .collect();
    project.convex_json(json!({ "dev": { "configure": { "redirectUris": uris } } }));
    let output = project
        .against(&emulator)
        .args(["plan", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.chars().count() <= 65_000,
        "{} characters",
        text.chars().count()
    );
    assert!(
        text.contains("more change(s) and the notes are not shown"),
        "{}",
        &text[..500]
    );
    assert!(
        text.contains("**Plan: 3000 to create"),
        "the summary stays visible"
    );
    assert!(text.trim_end().ends_with("</details>"));
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn drift_exit_codes() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    let apply = project
        .against(&emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0));

    let in_sync = project.against(&emulator).arg("drift").output().unwrap();
    assert_eq!(in_sync.status.code(), Some(0), "{}", stdout(&in_sync));
    assert!(stdout(&in_sync).contains("Drift check: in sync."));
    assert!(stdout(&in_sync).contains("1 item(s) cannot be verified"));
    let strict = project
        .against(&emulator)
        .args(["drift", "--strict"])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));

    emulator.create_redirect_uri("http://localhost:5173/added-in-the-dashboard");
    let drifted = project.against(&emulator).arg("drift").output().unwrap();
    assert_eq!(drifted.status.code(), Some(2), "{}", stdout(&drifted));
    assert!(stdout(&drifted).contains("added-in-the-dashboard"));

    let json = project
        .against(&emulator)
        .args(["drift", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(2));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document["drift"]["in_sync"], false);
    assert_eq!(
        document["drift"]["drifted"][0],
        r#"workos.redirect_uri["http://localhost:5173/added-in-the-dashboard"]"#
    );

    let ignored = project
        .against(&emulator)
        .args([
            "drift",
            "--ignore",
            r#"workos.redirect_uri["http://localhost:5173/added-*"]"#,
        ])
        .output()
        .unwrap();
    assert_eq!(ignored.status.code(), Some(0), "{}", stdout(&ignored));
    assert!(stdout(&ignored).contains("1 item(s) ignored"));

    let edited = project
        .read(".env.local")
        .replace("5173/callback", "5174/callback");
    project.file(".env.local", edited);
    let local = project.against(&emulator).arg("drift").output().unwrap();
    assert_eq!(local.status.code(), Some(2));
    assert!(stdout(&local).contains(r#"env_file.var["VITE_WORKOS_REDIRECT_URI"]"#));

    let error = project
        .against(&emulator)
        .env("WORKOS_API_KEY", "sk_test_unknown")
        .arg("drift")
        .output()
        .unwrap();
    assert_eq!(error.status.code(), Some(1));
}

#[test]
fn the_committed_plan_schema_matches_the_code() {
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/plan.schema.json"
        ))
        .expect("docs/plan.schema.json"),
    )
    .unwrap();
    assert!(
        committed == authkit_sync::render::json::schema(),
        "docs/plan.schema.json is out of date: regenerate it with \
         `cargo run --example plan_schema > docs/plan.schema.json`"
    );
}
