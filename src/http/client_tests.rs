//! The client against small servers on loopback that answer exactly as each test needs:
//! retries and their limits, `Retry-After`, bounded and broken bodies, redaction.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;

/// What a test server does with the `n`-th connection (from 0), given the request's text.
type Script = dyn Fn(usize, &str, &mut TcpStream) + Send + Sync;

/// A server that reads one request per connection and lets `script` answer it. Returns the
/// base URL and the count of requests received.
fn server(
    script: impl Fn(usize, &str, &mut TcpStream) + Send + Sync + 'static,
) -> (Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = Url::parse(&format!(
        "http://{}/x",
        listener.local_addr().expect("address")
    ))
    .expect("url");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let script: Arc<Script> = Arc::new(script);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let index = seen.fetch_add(1, Ordering::SeqCst);
            let script = Arc::clone(&script);
            std::thread::spawn(move || {
                let request = read_request(&mut stream);
                script(index, &request, &mut stream);
            });
        }
    });
    (url, count)
}

/// Reads the head and the body (by its content-length) of one request.
fn read_request(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return text;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn answer(stream: &mut TcpStream, status: &str, headers: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n{headers}\r\n{body}",
        body.len()
    );
}

fn fast(budget: usize) -> Client {
    Client::new(Policy {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        max_retries: 3,
        retry_budget: budget,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    })
    .expect("client")
}

fn key() -> Auth {
    Auth::Bearer(Secret::new("sk_test_known_secret_value"))
}

async fn get(client: &Client, url: &Url) -> Result<Response, HttpError> {
    client.send(Method::GET, url.clone(), &key(), None).await
}

#[tokio::test]
async fn retryable_answers_are_retried_until_one_succeeds() {
    let (url, count) = server(|n, _, stream| match n {
        0 => answer(stream, "503 Service Unavailable", "", "{}"),
        1 => answer(stream, "429 Too Many Requests", "retry-after: 0\r\n", "{}"),
        _ => answer(stream, "200 OK", "", r#"{"ok":true}"#),
    });
    let response = get(&fast(10), &url).await.expect("answered");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    let (url, count) = server(|_, _, stream| answer(stream, "400 Bad Request", "", "{}"));
    let response = get(&fast(10), &url).await.expect("answered");
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn each_request_has_its_own_limit_and_all_share_the_run_s_budget() {
    let (url, count) = server(|_, _, stream| answer(stream, "502 Bad Gateway", "", "{}"));
    let client = fast(5);
    // 1 attempt and 3 retries: the request's own limit.
    assert_eq!(
        get(&client, &url).await.expect("answer").status.as_u16(),
        502
    );
    assert_eq!(count.load(Ordering::SeqCst), 4);
    // 2 retries left in the run's budget of 5, then none at all.
    get(&client, &url).await.expect("answer");
    assert_eq!(count.load(Ordering::SeqCst), 7);
    get(&client, &url).await.expect("answer");
    assert_eq!(count.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn connection_failures_are_retried_and_then_named() {
    let (url, count) = server(|_, _, stream| {
        let _ = stream.shutdown(Shutdown::Both);
    });
    let error = get(&fast(2), &url).await.expect_err("no answer");
    let text = error.to_string();
    assert!(text.starts_with(&format!("GET {url}: ")), "{text}");
    assert!(text.contains("gave up after 3 attempts"), "{text}");
    assert!(text.contains("budget of 2 retries is spent"), "{text}");
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_longest_wait() {
    let (url, _) = server(|n, _, stream| match n {
        0 => answer(stream, "429 Too Many Requests", "retry-after: 1\r\n", "{}"),
        _ => answer(stream, "200 OK", "", "{}"),
    });
    let client = Client::new(Policy {
        min_delay: Duration::from_millis(5),
        ..Policy::default()
    })
    .expect("client");
    let started = Instant::now();
    get(&client, &url).await.expect("answered");
    assert!(started.elapsed() >= Duration::from_millis(950));

    let (url, _) = server(|n, _, stream| match n {
        0 => answer(
            stream,
            "503 Service Unavailable",
            "retry-after: 3600\r\n",
            "{}",
        ),
        _ => answer(stream, "200 OK", "", "{}"),
    });
    let started = Instant::now();
    get(&fast(5), &url).await.expect("answered");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_slow_answer_times_out_with_the_configured_limit() {
    let (url, _) = server(|_, _, stream| {
        std::thread::sleep(Duration::from_millis(1500));
        answer(stream, "200 OK", "", "{}");
    });
    let client = Client::new(Policy {
        request_timeout: Duration::from_millis(300),
        max_retries: 0,
        ..Policy::default()
    })
    .expect("client");
    let text = get(&client, &url).await.expect_err("too slow").to_string();
    assert!(text.contains("no answer within 0.3 s"), "{text}");
}

#[tokio::test]
async fn a_truncated_answer_is_a_broken_connection_and_retried() {
    let (url, count) = server(|_, _, stream| {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n\
             {{\"data\":["
        );
        let _ = stream.shutdown(Shutdown::Both);
    });
    let text = get(&fast(1), &url)
        .await
        .expect_err("truncated")
        .to_string();
    assert!(
        text.contains("the connection broke before the whole answer came"),
        "{text}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_declared_huge_answer_is_refused_before_reading() {
    let (url, count) = server(|_, _, stream| {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-length: 104857600\r\n\r\n{{\"data\":["
        );
        std::thread::sleep(Duration::from_millis(500));
    });
    let started = Instant::now();
    let error = get(&fast(5), &url).await.expect_err("too large");
    assert!(matches!(error, HttpError::TooLarge { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_millis(400));
    assert_eq!(count.load(Ordering::SeqCst), 1, "too large is final");
}

#[tokio::test]
async fn a_streamed_huge_answer_is_cut_at_the_limit() {
    let sent = Arc::new(AtomicUsize::new(0));
    let written = Arc::clone(&sent);
    let (url, _) = server(move |_, _, stream| {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        let chunk = vec![b'x'; 64 * 1024];
        // 100 MB, unless the client hangs up first.
        for _ in 0..1600 {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if stream.write_all(&framed).is_err() {
                return;
            }
            written.fetch_add(chunk.len(), Ordering::SeqCst);
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    let error = get(&fast(5), &url).await.expect_err("too large");
    assert!(
        error.to_string().contains("larger than 8388608 bytes"),
        "{error}"
    );
    // Give the server a moment to notice the client has gone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = sent.load(Ordering::SeqCst);
    assert!(
        sent < 32 * 1024 * 1024,
        "the client kept reading: {sent} bytes"
    );
}

#[tokio::test]
async fn an_answer_echoing_the_credential_is_scrubbed() {
    let (url, _) = server(|_, request, stream| {
        let authorization = request
            .lines()
            .find_map(|l| l.strip_prefix("authorization: "))
            .unwrap_or_default()
            .to_owned();
        let body = format!(r#"{{"message":"bad header {authorization}"}}"#);
        let header = format!("x-request-id: {authorization}\r\n");
        answer(stream, "400 Bad Request", &header, &body);
    });
    let response = get(&fast(0), &url).await.expect("answered");
    let body = String::from_utf8(response.body).expect("text");
    assert_eq!(body, r#"{"message":"bad header Bearer [redacted]"}"#);
    assert_eq!(response.request_id.as_deref(), Some("Bearer [redacted]"));
}

#[test]
fn redaction_leaves_other_text_alone() {
    assert_eq!(
        redact(b"a secret-value b", "secret-value"),
        b"a [redacted] b"
    );
    assert_eq!(redact(b"short", "abc"), b"short");
    assert_eq!(redact(b"secret-valu", "secret-value"), b"secret-valu");
}

#[test]
fn the_policy_reads_its_variables() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    assert_eq!(Policy::from_env(env(&[])), Ok(Policy::default()));
    let policy = Policy::from_env(env(&[
        ("AUTHKIT_SYNC_TIMEOUT_SECS", "0.5"),
        ("AUTHKIT_SYNC_CONNECT_TIMEOUT_SECS", "2"),
        ("AUTHKIT_SYNC_RETRIES", "0"),
        ("AUTHKIT_SYNC_RETRY_BUDGET", "7"),
        ("AUTHKIT_SYNC_BACKOFF_MIN_MS", "1"),
        ("AUTHKIT_SYNC_BACKOFF_MAX_MS", "50"),
    ]))
    .expect("valid");
    assert_eq!(policy.request_timeout, Duration::from_millis(500));
    assert_eq!(policy.connect_timeout, Duration::from_secs(2));
    assert_eq!((policy.max_retries, policy.retry_budget), (0, 7));
    assert_eq!(policy.max_delay, Duration::from_millis(50));

    let error = Policy::from_env(env(&[("AUTHKIT_SYNC_TIMEOUT_SECS", "soon")])).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("AUTHKIT_SYNC_TIMEOUT_SECS=`soon` is not")
    );
    assert!(Policy::from_env(env(&[("AUTHKIT_SYNC_TIMEOUT_SECS", "0")])).is_err());
    assert!(Policy::from_env(env(&[("AUTHKIT_SYNC_RETRY_BUDGET", "-1")])).is_err());
}

#[test]
fn server_text_is_shortened_and_shows_control_characters_escaped() {
    assert_eq!(server_text("plain \u{e9} text", 100), "plain \u{e9} text");
    assert_eq!(server_text("abcdef", 3), "abc\u{2026}");
    assert_eq!(server_text("\u{1b}[2Jx\n", 100), "\\u{1b}[2Jx\\u{a}");
    assert_eq!(server_text("a\u{202e}b", 100), "a\\u{202e}b");
}
