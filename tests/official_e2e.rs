//! End to end against WorkOS's official emulator: the real binary, pointed at it through
//! `WORKOS_API_URL`, `WORKOS_API_KEY` and `WORKOS_CLIENT_ID`. That server lacks the list
//! endpoints and the homepage setter, so it checks the create-if-absent fallback and the
//! missing-endpoint error against code this project did not write.

mod common;

use common::official::{CLIENT_ID, OfficialEmulator};
use common::{Project, stderr, stdout};
use reqwest::Method;
use serde_json::json;

/// The first request id in `text`, if it has the official emulator's form (`req_` and a UUID).
/// The project's emulator makes ids without hyphens, so a match shows the binary reported the
/// id the server sent.
fn official_request_id(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("X-Request-ID ")?;
    let id = rest.split([')', ' ', '\n']).next()?;
    let uuid = id.strip_prefix("req_")?;
    let hyphens: Vec<usize> = uuid.match_indices('-').map(|(at, _)| at).collect();
    (uuid.len() == 36 && hyphens == [8, 13, 18, 23]).then_some(id)
}

#[test]
fn a_fresh_project_is_ensured_present_then_found_present() {
    let official = OfficialEmulator::start();
    let project = Project::fixture("tanstack-start");
    let callback = "http://localhost:3000/api/auth/callback";

    let plan = project
        .against_official(&official)
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let text = stdout(&plan);
    for expected in [
        format!(r#"? unverified  workos.redirect_uri["{callback}"]"#),
        r#"? unverified  workos.cors_origin["http://localhost:3000"]"#.to_owned(),
        "create-if-absent (GET /user_management/redirect_uris answered 404".to_owned(),
        "create-if-absent (GET /user_management/cors_origins answered 404".to_owned(),
        "Plan: 4 to create, 0 to update, 0 to delete, 2 unverified.".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected}\n{text}");
    }
    assert!(!project.exists(".env.local"), "plan writes nothing");

    let apply = project
        .against_official(&official)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    let text = stdout(&apply);
    assert_eq!(apply.status.code(), Some(0), "{text}{}", stderr(&apply));
    assert!(
        text.contains(&format!(r#"+ created  workos.redirect_uri["{callback}"]"#)),
        "{text}"
    );
    assert!(!text.contains("already existed"), "{text}");
    assert!(
        text.contains("Apply complete! 6 created, 0 updated, 0 deleted, 0 set."),
        "{text}"
    );
    let env_local = project.read(".env.local");
    assert!(
        env_local.contains(&format!("WORKOS_CLIENT_ID={CLIENT_ID}\n")),
        "{env_local}"
    );
    assert!(
        env_local.contains(&format!("WORKOS_API_KEY={}\n", official.api_key())),
        "{env_local}"
    );
    assert!(env_local.contains(&format!("WORKOS_REDIRECT_URI={callback}\n")));

    // The official emulator cannot list; that it refuses the same values again shows they
    // were stored.
    let uri = official.request(
        Method::POST,
        "/user_management/redirect_uris",
        json!({ "uri": callback }),
    );
    assert_eq!(
        (uri.0, &uri.1["code"]),
        (422, &json!("redirect_uri_already_exists"))
    );
    let origin = official.request(
        Method::POST,
        "/user_management/cors_origins",
        json!({"origin": "http://localhost:3000"}),
    );
    assert_eq!(
        (origin.0, &origin.1["code"]),
        (422, &json!("cors_origin_already_exists"))
    );

    let again = project
        .against_official(&official)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    let text = stdout(&again);
    assert_eq!(again.status.code(), Some(0), "{text}{}", stderr(&again));
    for address in [
        format!(r#"workos.redirect_uri["{callback}"]"#),
        r#"workos.cors_origin["http://localhost:3000"]"#.to_owned(),
    ] {
        let row = text
            .lines()
            .find(|line| line.contains("unchanged") && line.contains(&address))
            .unwrap_or_else(|| panic!("a row for {address}\n{text}"));
        assert!(row.contains("already existed"), "{row}");
    }
    assert!(text.contains("Apply complete!"), "{text}");
    assert_eq!(project.read(".env.local"), env_local);
}

#[test]
fn a_homepage_url_fails_clearly_and_env_local_is_left_as_it_was() {
    let official = OfficialEmulator::start();
    let project = Project::fixture("nextjs");
    let before = project.read_bytes(".env.local");

    for round in 0..2 {
        let apply = project
            .against_official(&official)
            .args(["apply", "--auto-approve"])
            .output()
            .unwrap();
        let text = stdout(&apply);
        assert_eq!(apply.status.code(), Some(1), "round {round}: {text}");
        for expected in [
            "! failed",
            "WorkOS answered PUT /user_management/app_homepage_url with 404 Not Found",
            "code not_found",
            "PUT /user_management/app_homepage_url is missing",
            r#"not applied  env_file.var["WORKOS_CLIENT_ID"]"#,
            "Apply failed",
        ] {
            assert!(text.contains(expected), "round {round}: {expected}\n{text}");
        }
        assert!(
            official_request_id(&text).is_some(),
            "the official emulator's request id: {text}"
        );
        assert_eq!(
            project.read_bytes(".env.local"),
            before,
            "round {round}: .env.local is written only after every WorkOS step succeeded"
        );
    }
}

#[test]
fn a_wrong_key_is_reported_with_the_servers_request_id() {
    let official = OfficialEmulator::shared();
    let project = Project::fixture("tanstack-start");

    let plan = project
        .against_official(official)
        .env("WORKOS_API_KEY", "sk_test_conformance_wrong_key")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(text.contains("401 Unauthorized"), "{text}");
    assert!(text.contains("code unauthorized"), "{text}");
    assert!(official_request_id(&text).is_some(), "{text}");
    assert!(!text.contains("sk_test_conformance_wrong_key"), "{text}");
}
