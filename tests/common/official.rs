//! WorkOS's official emulator (`workos emulate`, from the npm package `workos`), run as a child
//! process so the conformance tests can send it the same requests as the project's emulator.
//!
//! `npm ci --prefix tests/official-emulator` installs it (scripts/test does). When it cannot
//! start, the test that asked for it fails and says what to install: a conformance run that
//! quietly skipped would prove nothing.
//!
//! The process is started with `exit-with-parent.mjs` preloaded, which ends it when its
//! standard input closes. The harness holds that pipe, so the emulator dies with the test
//! process even when no destructor runs (a `static` is never dropped).

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use super::Project;

/// Start-up takes well under a second; the margin is for a machine busy compiling.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How much of the emulator's stderr to keep for a failure message.
const STDERR_KEPT: usize = 4000;

/// The official emulator has no client ids; the binary needs one, and any `client_` value does.
pub const CLIENT_ID: &str = "client_official_emulator";

static SHARED: LazyLock<OfficialEmulator> = LazyLock::new(OfficialEmulator::start);

/// A running official emulator; dropping it stops the process.
pub struct OfficialEmulator {
    child: Child,
    /// Never written: while it is open the emulator lives (see the module documentation).
    _lifeline: ChildStdin,
    url: String,
    api_key: String,
}

impl OfficialEmulator {
    /// The emulator this test binary shares between its tests, started on first use. Its state
    /// is shared too, so tests that use it pick values no other test uses.
    pub fn shared() -> &'static OfficialEmulator {
        &SHARED
    }

    /// A fresh emulator of its own, for a test that needs an empty environment.
    pub fn start() -> OfficialEmulator {
        match OfficialEmulator::try_start() {
            Ok(emulator) => emulator,
            Err(problem) => panic!(
                "WorkOS's official emulator did not start: {problem}\n\
                 The conformance tests need it: install Node.js 20.20 or newer, then run \
                 `npm ci --prefix tests/official-emulator` (scripts/test does that before the \
                 tests)."
            ),
        }
    }

    /// Its base URL, e.g. `http://localhost:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its API key (`sk_test_default`).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Sends one authenticated JSON request, as a third party editing the environment would,
    /// and returns the status and JSON body (`null` when there is none).
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let request = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.api_key)
            .json(&body);
        runtime.block_on(async move {
            let response = request.send().await.expect("an answer");
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(serde_json::Value::Null);
            (status, body)
        })
    }

    fn try_start() -> Result<OfficialEmulator, String> {
        let dir = package_dir();
        let cli = dir.join("node_modules/workos/dist/bin.js");
        if !cli.is_file() {
            return Err(format!("{} is missing", cli.display()));
        }

        // The working directory is the package's own: `workos emulate` seeds itself from a
        // `workos-emulate.config.*` file in it, and there is none there.
        let mut child = Command::new("node")
            .arg("--import")
            .arg(dir.join("exit-with-parent.mjs"))
            .arg(&cli)
            .args(["emulate", "--port", "0", "--json"])
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot run `node`: {error}"))?;
        let lifeline = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let (Some(lifeline), Some(stdout), Some(stderr)) = (lifeline, stdout, stderr) else {
            let _ = child.kill();
            return Err("the child process has no pipes".to_owned());
        };

        let first_line = read_first_line(stdout);
        let errors = collect(stderr);
        let line = match first_line.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(reason) => {
                let _ = child.kill();
                let _ = child.wait();
                let what = match reason {
                    RecvTimeoutError::Timeout => format!("no output within {START_TIMEOUT:?}"),
                    RecvTimeoutError::Disconnected => "it exited without output".to_owned(),
                };
                let stderr = errors.lock().map(|text| text.clone()).unwrap_or_default();
                return Err(format!("{what}; its stderr:\n{stderr}"));
            }
        };

        let parsed = serde_json::from_str::<serde_json::Value>(&line).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|value| value[name].as_str())
                .map(str::to_owned)
        };
        let (Some(url), Some(api_key)) = (field("url"), field("apiKey")) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("unexpected first line `{line}`"));
        };
        Ok(OfficialEmulator {
            child,
            _lifeline: lifeline,
            url,
            api_key,
        })
    }
}

impl Drop for OfficialEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Project {
    /// The binary pointed at WorkOS's official emulator.
    pub fn against_official(&self, emulator: &OfficialEmulator) -> assert_cmd::Command {
        let mut command = self.command();
        command
            .env("WORKOS_API_URL", emulator.url())
            .env("WORKOS_API_KEY", emulator.api_key())
            .env("WORKOS_CLIENT_ID", CLIENT_ID);
        command
    }
}

fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/official-emulator")
}

/// Sends the first line of `stdout` on the returned channel, then keeps reading so the
/// emulator never blocks on a full pipe.
fn read_first_line(stdout: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = sender.send(line);
        }
        drop(sender);
        lines.for_each(drop);
    });
    receiver
}

/// Reads `stderr` to its end in the background, keeping the start of it.
fn collect(mut stderr: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 1024];
        while let Ok(read) = stderr.read(&mut buffer) {
            if read == 0 {
                break;
            }
            if let Ok(mut kept) = sink.lock()
                && kept.len() < STDERR_KEPT
            {
                kept.push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        }
    });
    text
}
