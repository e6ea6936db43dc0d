//! apply against an emulator that injects faults: under every mix it completes or fails with a
//! message naming the request, running it again converges to an empty plan, the server never
//! ends up with duplicates, and no run sends more requests than its retry budget allows.

mod common;

use std::collections::BTreeSet;
use std::process::Output;
use std::time::Duration;

use authkit_sync::emulator::Config;
use common::{Project, TestEmulator, stderr, stdout};
use serde_json::json;

/// Retries per run in these tests; small, so that a storm ends quickly.
const BUDGET: u64 = 12;

const REDIRECT_URIS: [&str; 6] = [
    "http://localhost:3000/callback",
    "http://localhost:3001/callback",
    "http://localhost:3002/callback",
    "http://localhost:3003/callback",
    "http://localhost:3004/callback",
    "http://localhost:3005/callback",
];
const ORIGINS: [&str; 3] = [
    "http://localhost:3000",
    "http://localhost:3001",
    "http://localhost:3002",
];

fn project() -> Project {
    let project = Project::new();
    project.convex_json(json!({
        "dev": {
            "configure": {
                "redirectUris": REDIRECT_URIS,
                "corsOrigins": ORIGINS,
                "appHomepageUrl": "http://localhost:3000"
            },
            "localEnvVars": {
                "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
                "WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}",
                "NEXT_PUBLIC_WORKOS_REDIRECT_URI": "http://localhost:3000/callback"
            }
        }
    }));
    project.file(".env.local", "# kept\nOTHER=1\n");
    project
}

fn faulty(faults: &str, seed: u64) -> TestEmulator {
    TestEmulator::with_config(Config {
        faults: faults.parse().expect("fault spec"),
        seed,
        // Longer than the client's timeout below, so that a slow answer is a timeout.
        slow_delay: Duration::from_millis(1500),
        ..Config::default()
    })
}

/// The binary against `emulator` as WorkOS and as the Convex deployment, with short timeouts
/// and backoff so that faults cost little time.
fn run(project: &Project, emulator: &TestEmulator, args: &[&str]) -> Output {
    project
        .against(emulator)
        .env("CONVEX_URL", emulator.deployment_url())
        .env("CONVEX_DEPLOY_KEY", emulator.admin_key())
        .env("AUTHKIT_SYNC_TIMEOUT_SECS", "1")
        .env("AUTHKIT_SYNC_CONNECT_TIMEOUT_SECS", "1")
        .env("AUTHKIT_SYNC_BACKOFF_MIN_MS", "5")
        .env("AUTHKIT_SYNC_BACKOFF_MAX_MS", "50")
        .env("AUTHKIT_SYNC_RETRY_BUDGET", BUDGET.to_string())
        .args(args)
        .output()
        .expect("runs")
}

/// Whether `text` names a request: a method followed by a path of the APIs.
fn names_a_request(text: &str) -> bool {
    ["GET ", "POST ", "PUT ", "DELETE "].iter().any(|method| {
        text.match_indices(method).any(|(at, _)| {
            let rest = &text[at + method.len()..];
            let path = rest.split_whitespace().next().unwrap_or_default();
            ["/user_management/", "/api/", "/d/"]
                .iter()
                .any(|p| path.contains(p))
        })
    })
}

/// The requests a fault-free apply of [`project`] sends to a fresh emulator.
fn requests_without_faults() -> u64 {
    let emulator = TestEmulator::start();
    let project = project();
    let output = run(&project, &emulator, &["apply", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    emulator.request_count()
}

fn assert_no_duplicates(emulator: &TestEmulator) {
    for (list, wanted) in [
        ("redirect_uris", &REDIRECT_URIS[..]),
        ("cors_origins", &ORIGINS[..]),
    ] {
        let values = emulator.list(list);
        let unique: BTreeSet<&String> = values.iter().collect();
        assert_eq!(
            unique.len(),
            values.len(),
            "duplicates in {list}: {values:?}"
        );
        let wanted: BTreeSet<String> = wanted.iter().map(|v| v.to_string()).collect();
        assert_eq!(values.into_iter().collect::<BTreeSet<_>>(), wanted);
    }
}

/// What one fault mix did, for the report.
#[derive(Debug, Default)]
struct Tally {
    applies: usize,
    failed_applies: usize,
    plans: usize,
    failed_plans: usize,
    faults: serde_json::Value,
    requests: u64,
}

/// Applies until an apply succeeds, then plans until a plan gets through; checks every run on
/// the way.
fn converge(faults: &str, seed: u64, baseline: u64) -> Tally {
    let emulator = faulty(faults, seed);
    let project = project();
    let mut tally = Tally::default();

    loop {
        assert!(
            tally.applies < 8,
            "{faults}: apply did not succeed in 8 runs"
        );
        let before = emulator.request_count();
        let output = run(&project, &emulator, &["apply", "--auto-approve"]);
        tally.applies += 1;
        let sent = emulator.request_count() - before;
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            sent <= baseline + BUDGET,
            "{faults}: one apply sent {sent} requests, more than {baseline} + {BUDGET}:\n{text}"
        );
        assert!(!text.contains("panicked"), "{faults}:\n{text}");
        match output.status.code() {
            Some(0) => break,
            Some(1) => {
                tally.failed_applies += 1;
                assert!(names_a_request(&text), "{faults}: unclear failure:\n{text}");
            }
            other => panic!("{faults}: apply exited with {other:?}:\n{text}"),
        }
    }
    assert_no_duplicates(&emulator);
    let env_local = project.read(".env.local");
    assert!(env_local.starts_with("# kept\nOTHER=1\n"), "{env_local}");
    assert!(env_local.contains(&format!("WORKOS_API_KEY={}", emulator.api_key())));

    loop {
        assert!(
            tally.plans < 8,
            "{faults}: plan did not get through in 8 runs"
        );
        let output = run(&project, &emulator, &["plan", "--detailed-exitcode"]);
        tally.plans += 1;
        let text = format!("{}{}", stdout(&output), stderr(&output));
        match output.status.code() {
            Some(0) => break,
            Some(1) => {
                tally.failed_plans += 1;
                assert!(names_a_request(&text), "{faults}: unclear failure:\n{text}");
            }
            other => panic!("{faults}: plan after a successful apply exited {other:?}:\n{text}"),
        }
    }
    assert_no_duplicates(&emulator);
    tally.faults = emulator.stats()["faults"].clone();
    tally.requests = emulator.request_count();
    eprintln!("{faults} (seed {seed}): {tally:?}");
    tally
}

#[test]
fn apply_converges_under_429s() {
    converge("429=0.3", 11, requests_without_faults());
}

#[test]
fn apply_converges_under_server_errors() {
    converge(
        "500=0.15,502=0.1,503=0.1,504=0.05",
        12,
        requests_without_faults(),
    );
}

#[test]
fn apply_converges_under_resets_and_lost_answers() {
    let tally = converge("reset=0.15,lost=0.15", 13, requests_without_faults());
    assert!(tally.faults.get("lost").is_some(), "{tally:?}");
}

#[test]
fn apply_converges_under_slow_answers() {
    converge("slow=0.1", 14, requests_without_faults());
}

#[test]
fn apply_converges_under_a_mix_of_everything() {
    let baseline = requests_without_faults();
    for seed in [1, 2, 3] {
        converge(
            "429=0.1,500=0.1,503=0.05,reset=0.05,lost=0.05,slow=0.03",
            seed,
            baseline,
        );
    }
}

#[test]
fn a_storm_ends_at_the_retry_budget_and_names_the_request() {
    let emulator = faulty("503=1", 0);
    let project = project();
    let output = project
        .against(&emulator)
        .env("AUTHKIT_SYNC_BACKOFF_MIN_MS", "1")
        .env("AUTHKIT_SYNC_BACKOFF_MAX_MS", "5")
        .env("AUTHKIT_SYNC_RETRIES", "50")
        .env("AUTHKIT_SYNC_RETRY_BUDGET", "3")
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("503 Service Unavailable"), "{text}");
    assert!(names_a_request(&text), "{text}");
    assert!(
        text.contains("the run's budget of 3 retries is spent"),
        "{text}"
    );
    // The two lists are read at once: two first attempts and three retries at most (the other
    // read is dropped once one of them has failed).
    let sent = emulator.request_count();
    assert!((4..=5).contains(&sent), "{sent} requests");
    assert_eq!(project.read(".env.local"), "# kept\nOTHER=1\n");
}

#[test]
fn a_reset_on_every_request_fails_clearly_and_writes_nothing() {
    let emulator = faulty("reset=1", 0);
    let project = project();
    let output = run(&project, &emulator, &["apply", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("the connection broke"), "{text}");
    assert!(text.contains("gave up after"), "{text}");
    assert!(names_a_request(&text), "{text}");
    // The deployment and both WorkOS lists are read at once: three first attempts, then the
    // retries of the run's budget.
    let sent = emulator.request_count();
    assert!(sent <= 3 + BUDGET, "{sent} requests");
    assert_eq!(project.read(".env.local"), "# kept\nOTHER=1\n");
}

#[test]
fn apply_converges_under_a_harsh_mix_after_failing() {
    let baseline = requests_without_faults();
    let tallies: Vec<Tally> = [21, 22, 23]
        .into_iter()
        .map(|seed| converge("503=0.35,reset=0.15,lost=0.1", seed, baseline))
        .collect();
    // The mix is harsh enough that some apply runs out of retries: the failure path is taken,
    // and the next apply picks up where it stopped.
    let failed: usize = tallies.iter().map(|t| t.failed_applies).sum();
    assert!(failed > 0, "{tallies:?}");
}

#[test]
fn prune_converges_when_answers_to_deletes_are_lost() {
    // Extra items, made on a fault-free emulator whose state the faulty one then loads.
    let directory = tempfile::tempdir().unwrap();
    let state_file = directory.path().join("state.json");
    {
        let clean = TestEmulator::with_config(Config {
            state_file: Some(state_file.clone()),
            ..Config::default()
        });
        // The first one becomes the environment's default, which prune never deletes.
        clean.create_redirect_uri(REDIRECT_URIS[0]);
        for i in 0..8 {
            clean.create_redirect_uri(&format!("http://localhost:4{i:03}/old"));
        }
    }
    let emulator = TestEmulator::with_config(Config {
        state_file: Some(state_file),
        faults: "lost=0.4,reset=0.1".parse().unwrap(),
        seed: 31,
        ..Config::default()
    });
    let project = project();

    let mut notes = String::new();
    for run_number in 0.. {
        assert!(run_number < 8, "apply --prune did not succeed in 8 runs");
        let output = run(&project, &emulator, &["apply", "--auto-approve", "--prune"]);
        let text = format!("{}{}", stdout(&output), stderr(&output));
        notes.push_str(&text);
        match output.status.code() {
            Some(0) => break,
            Some(1) => assert!(names_a_request(&text), "{text}"),
            other => panic!("apply --prune exited {other:?}:\n{text}"),
        }
    }
    assert_no_duplicates(&emulator);
    let plan = run(
        &project,
        &emulator,
        &["plan", "--prune", "--detailed-exitcode"],
    );
    assert_ne!(plan.status.code(), Some(2), "{}", stdout(&plan));
    eprintln!(
        "prune under lost answers: {} already gone, {} already existed; faults {}",
        notes.matches("already gone").count(),
        notes.matches("already existed").count(),
        emulator.stats()["faults"]
    );
}
