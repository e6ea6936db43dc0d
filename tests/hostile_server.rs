//! Servers that answer badly: malformed, truncated, huge, paging forever, odd types, escape
//! codes. Each time the run stops with a clear error naming the request, reads no more than
//! its limit, and writes nothing.

mod common;

use std::io::Write as _;
use std::net::TcpStream;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Project, scripted_server, spawnable, stderr, stdout, write_answer};
use serde_json::json;

const ENV_LOCAL: &str = "# untouched\nOTHER=1\n";

fn project() -> Project {
    let project = Project::new();
    project.convex_json(json!({
        "dev": {
            "configure": {
                "redirectUris": ["http://localhost:3000/callback"],
                "corsOrigins": ["http://localhost:3000"]
            },
            "localEnvVars": { "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}" }
        }
    }));
    project.file(".env.local", ENV_LOCAL);
    project
}

/// apply against `url` as WorkOS, with fast retries.
fn apply(project: &Project, url: &str) -> Output {
    project
        .command()
        .env("WORKOS_API_URL", url)
        .env("WORKOS_API_KEY", "sk_test_hostile_server_key")
        .env("WORKOS_CLIENT_ID", "client_hostile")
        .env("AUTHKIT_SYNC_BACKOFF_MIN_MS", "1")
        .env("AUTHKIT_SYNC_BACKOFF_MAX_MS", "10")
        .env("AUTHKIT_SYNC_TIMEOUT_SECS", "5")
        .args(["apply", "--auto-approve"])
        .output()
        .expect("runs")
}

/// The run failed, said why with `words`, and left `.env.local` alone.
fn assert_refused(project: &Project, output: &Output, words: &[&str]) {
    let text = format!("{}{}", stdout(output), stderr(output));
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    for word in words {
        assert!(text.contains(word), "{word:?} missing from:\n{text}");
    }
    assert_eq!(project.read(".env.local"), ENV_LOCAL);
}

fn list_page(after: &str) -> String {
    json!({
        "object": "list",
        "data": [{"id": format!("item_{after}"), "uri": "http://x/cb", "origin": "http://x"}],
        "list_metadata": {"before": null, "after": after}
    })
    .to_string()
}

#[test]
fn a_truncated_answer_is_retried_then_named() {
    let (url, count) = scripted_server(|_, stream| {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n\
             {{\"data\": ["
        );
    });
    let project = project();
    let output = apply(&project, &url);
    assert_refused(
        &project,
        &output,
        &[
            "/user_management/",
            "the connection broke before the whole answer came",
            "gave up after 5 attempts",
        ],
    );
    // Two lists at once, each with four retries at most.
    assert!(count.load(Ordering::SeqCst) <= 10);
}

#[test]
fn malformed_and_oddly_typed_pages_are_refused() {
    for body in [
        r#"{"data": ["#,
        r#"{"data": "not a list"}"#,
        r#"{"data": [{"id": 1, "uri": "http://x/cb"}]}"#,
        r#"{"data": [{"id": "ru_1", "uri": null}]}"#,
        r#"{"data": [], "list_metadata": {"after": 5}}"#,
        "[]",
        "null",
        "<html><body>Welcome to nginx</body></html>",
        "",
    ] {
        let (url, _) = scripted_server(move |_, stream| write_answer(stream, "200 OK", "", body));
        let project = project();
        let output = apply(&project, &url);
        assert_refused(
            &project,
            &output,
            &[
                "WorkOS answered GET /user_management/",
                "with an unexpected body",
            ],
        );
    }
}

#[test]
fn a_cursor_that_repeats_is_refused() {
    let (url, count) = scripted_server(|_, stream| {
        write_answer(stream, "200 OK", "", &list_page("cursor_same"));
    });
    let project = project();
    let output = apply(&project, &url);
    assert_refused(&project, &output, &["cursor `cursor_same` twice"]);
    // Two lists, each read from both ends once its first page says more follow: at most three
    // requests each before the repeated cursor shows.
    assert!(count.load(Ordering::SeqCst) <= 6, "{count:?}");
}

#[test]
fn a_cycle_of_cursors_is_refused() {
    let (url, _) = scripted_server(|request, stream| {
        let after = if request.contains("after=cursor_a") {
            "cursor_b"
        } else {
            "cursor_a"
        };
        write_answer(stream, "200 OK", "", &list_page(after));
    });
    let project = project();
    let output = apply(&project, &url);
    assert_refused(
        &project,
        &output,
        &["twice; stopping instead of paging forever"],
    );
}

/// The peak resident memory of a process, in kilobytes, from `/proc`.
fn peak_kilobytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn a_100_mb_answer_is_cut_at_the_limit_with_bounded_memory() {
    let sent = Arc::new(AtomicUsize::new(0));
    let written = Arc::clone(&sent);
    let (url, _) = scripted_server(move |_, stream: &mut TcpStream| {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    transfer-encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = vec![b' '; 64 * 1024];
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        // 100 MiB of whitespace, unless the client hangs up first.
        for _ in 0..1600 {
            if stream.write_all(&framed).is_err() {
                return;
            }
            written.fetch_add(chunk.len(), Ordering::SeqCst);
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    let project = project();
    let mut command = project.command();
    command
        .env("WORKOS_API_URL", &url)
        .env("WORKOS_API_KEY", "sk_test_hostile_server_key")
        .env("WORKOS_CLIENT_ID", "client_hostile")
        .args(["apply", "--auto-approve"]);
    let mut child = spawnable(&command)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let pid = child.id();
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        peak = peak.max(peak_kilobytes(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(2));
    }
    let output = child.wait_with_output().expect("output");
    assert_refused(
        &project,
        &output,
        &[
            "/user_management/",
            "the answer is larger than 8388608 bytes",
        ],
    );
    // Two lists at once, each cut at 8 MiB: the process never holds the 100 MiB.
    assert!(peak < 80 * 1024, "peak resident memory {peak} kB");
    let sent = sent.load(Ordering::SeqCst);
    assert!(
        sent < 40 * 1024 * 1024,
        "the client kept reading: {sent} bytes sent"
    );
    eprintln!("peak resident memory {peak} kB; the server got {sent} bytes out");
}

#[test]
fn a_declared_100_mb_answer_is_refused_without_reading_it() {
    let (url, count) = scripted_server(|_, stream| {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
             content-length: 104857600\r\n\r\n{{\"data\": []"
        );
        std::thread::sleep(Duration::from_secs(2));
    });
    let project = project();
    let started = std::time::Instant::now();
    let output = apply(&project, &url);
    assert_refused(&project, &output, &["larger than 8388608 bytes"]);
    assert!(started.elapsed() < Duration::from_secs(2));
    // Refused answers are not asked for again.
    assert!(count.load(Ordering::SeqCst) <= 2);
}

#[test]
fn server_messages_are_shortened_and_stripped_of_control_characters() {
    let (url, _) = scripted_server(|_, stream| {
        let message = format!("\u{1b}[2J\u{1b}]0;pwned\u{7}boom {}", "x".repeat(100_000));
        let body = json!({"message": message, "code": "\u{1b}[31mred"}).to_string();
        write_answer(stream, "400 Bad Request", "", &body);
    });
    let project = project();
    let output = apply(&project, &url);
    assert_refused(&project, &output, &["400 Bad Request", "boom"]);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.len() < 8_000, "{} bytes of output", text.len());
}

#[test]
fn a_deployment_that_answers_nonsense_is_named() {
    for body in [
        r#"{"status": "success", "value": "not a list"}"#,
        r#"{"status": "success", "value": [{"name": 1}]}"#,
        r#"{"status": "maybe"}"#,
        "{",
    ] {
        let (url, _) = scripted_server(move |_, stream| write_answer(stream, "200 OK", "", body));
        let project = project();
        let output = project
            .command()
            .env("CONVEX_URL", &url)
            .env("CONVEX_DEPLOY_KEY", "dev:happy-otter-123|hostile")
            .env("WORKOS_API_URL", &url)
            .env("WORKOS_API_KEY", "sk_test_hostile_server_key")
            .args(["apply", "--auto-approve"])
            .output()
            .unwrap();
        assert_refused(&project, &output, &["POST /api/query"]);
    }
}
