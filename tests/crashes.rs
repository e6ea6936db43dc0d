//! apply killed (SIGKILL) at many points of a run: between and during requests, and while
//! `.env.local` is being written. After every kill `.env.local` holds the old bytes or the new
//! ones, never a mix; the next apply removes any temporary file the kill left, and converges.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use authkit_sync::emulator::Config;
use common::{Project, TestEmulator, spawnable, stderr};
use serde_json::json;

/// A `.env.local` of about 1 MB, so that writing it takes long enough to be interrupted.
fn large_env_local() -> Vec<u8> {
    let mut text = String::from("# a large file\n");
    for i in 0..12_000 {
        text.push_str(&format!(
            "# line {i} of the padding that makes this file large\n"
        ));
        text.push_str(&format!("PADDING_{i}=value_{i}\n"));
    }
    text.into_bytes()
}

fn project(old: &[u8]) -> Project {
    let project = Project::new();
    let uris: Vec<String> = (0..12)
        .map(|i| format!("http://localhost:{}/callback", 3000 + i))
        .collect();
    let origins: Vec<String> = (0..4)
        .map(|i| format!("http://localhost:{}", 3000 + i))
        .collect();
    project.convex_json(json!({
        "dev": {
            "configure": {
                "redirectUris": uris,
                "corsOrigins": origins,
                "appHomepageUrl": "http://localhost:3000"
            },
            "localEnvVars": {
                "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
                "WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}",
                "NEXT_PUBLIC_WORKOS_REDIRECT_URI": "http://localhost:3000/callback"
            }
        }
    }));
    project.file(".env.local", old);
    project
}

fn apply(project: &Project, emulator: &TestEmulator) -> Child {
    spawnable(project.against(emulator).args(["apply", "--auto-approve"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("apply starts")
}

/// The temporary files a write leaves in the project directory.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("project dir")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(".env.local.") && n.ends_with(".tmp"))
        .collect()
}

/// Deletes every redirect URI and CORS origin, and puts the old `.env.local` back, so that the
/// next apply does the whole run again.
fn start_over(project: &Project, emulator: &TestEmulator, old: &[u8]) {
    let environment = emulator.state()["environments"][0].clone();
    let mut paths = Vec::new();
    for (list, path) in [
        ("redirect_uris", "/user_management/redirect_uris"),
        ("cors_origins", "/user_management/cors_origins"),
    ] {
        for item in environment[list].as_array().cloned().unwrap_or_default() {
            paths.push(format!("{path}/{}", item["id"].as_str().expect("id")));
        }
    }
    // All at once: each request waits out the emulator's latency.
    std::thread::scope(|scope| {
        for path in &paths {
            scope.spawn(move || {
                let (status, _) = emulator.request(reqwest::Method::DELETE, path, None);
                assert_eq!(status, 204);
            });
        }
    });
    project.file(".env.local", old);
}

/// Runs apply to the end and checks that it converged: exit 0, no leftovers, an empty plan,
/// no duplicates on the server. Returns the bytes of `.env.local`.
fn converge(project: &Project, emulator: &TestEmulator) -> Vec<u8> {
    let output = project
        .against(emulator)
        .args(["apply", "--auto-approve"])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(leftovers(project.path()), Vec::<String>::new());
    let output = project
        .against(emulator)
        .args(["plan", "--detailed-exitcode"])
        .output()
        .expect("plan runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for list in ["redirect_uris", "cors_origins"] {
        let values = emulator.list(list);
        let mut unique = values.clone();
        unique.dedup();
        assert_eq!(unique, values, "duplicates in {list}");
    }
    project.read_bytes(".env.local")
}

/// What a kill left in `.env.local`.
#[derive(Debug, Default)]
struct Seen {
    old: usize,
    new: usize,
    with_leftover: usize,
}

impl Seen {
    fn record(&mut self, bytes: &[u8], old: &[u8], new: &[u8], leftover: bool) {
        if bytes == old {
            self.old += 1;
        } else if bytes == new {
            self.new += 1;
        } else {
            panic!(
                "after a kill .env.local is neither the old nor the new file ({} bytes; old {}, \
                 new {})",
                bytes.len(),
                old.len(),
                new.len()
            );
        }
        self.with_leftover += usize::from(leftover);
    }
}

const SMALL_ENV_LOCAL: &[u8] = b"# kept as it is\nOTHER=1\n";

#[test]
fn apply_killed_between_requests_leaves_the_old_or_the_new_file_and_converges_after() {
    let emulator = TestEmulator::with_config(Config {
        latency: Duration::from_millis(40),
        ..Config::default()
    });
    let old = SMALL_ENV_LOCAL;
    let project = project(old);

    // A whole run, for its length and the file it writes.
    let started = Instant::now();
    let new = converge(&project, &emulator);
    let length = started.elapsed();
    assert!(new.starts_with(old) && new.len() > old.len());

    // Kills spread over the run, from its start to past its end.
    let mut seen = Seen::default();
    let kills = 20;
    for k in 0..=kills {
        start_over(&project, &emulator, old);
        let mut child = apply(&project, &emulator);
        std::thread::sleep(length.mul_f64(1.2) * k / kills);
        let _ = child.kill();
        let _ = child.wait();
        let leftover = !leftovers(project.path()).is_empty();
        seen.record(&project.read_bytes(".env.local"), old, &new, leftover);
        assert_eq!(converge(&project, &emulator), new);
    }

    eprintln!("run of {length:?}; after {} kills: {seen:?}", kills + 1);
    // The kills did land on both sides of the rename.
    assert!(seen.old > 0 && seen.new > 0, "{seen:?}");
}

#[test]
fn apply_killed_while_writing_a_large_file_leaves_the_old_or_the_new_file() {
    let emulator = TestEmulator::start();
    let old = large_env_local();
    let project = project(&old);
    let new = converge(&project, &emulator);
    assert!(new.starts_with(&old) && new.len() > old.len());

    // Each kill is aimed at the write: as soon as the temporary file appears.
    let mut seen = Seen::default();
    let kills = 5;
    for _ in 0..kills {
        start_over(&project, &emulator, &old);
        let mut child = apply(&project, &emulator);
        let deadline = Instant::now() + Duration::from_secs(30);
        while leftovers(project.path()).is_empty() && Instant::now() < deadline {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let leftover = !leftovers(project.path()).is_empty();
        seen.record(&project.read_bytes(".env.local"), &old, &new, leftover);
        assert_eq!(converge(&project, &emulator), new);
    }
    eprintln!("after {kills} kills aimed at the write: {seen:?}");
}
