//! Test harness: a project laid out in a temporary directory, an emulator on loopback, and the
//! real binary run against both. `official` runs WorkOS's own emulator beside the project's.
#![allow(dead_code)]

pub mod official;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use authkit_sync::emulator::{self, Emulator};

/// The emulator, served from its own runtime so blocking test code can run beside it.
pub struct TestEmulator {
    runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
}

impl TestEmulator {
    pub fn start() -> TestEmulator {
        TestEmulator::with_config(emulator::Config::default())
    }

    pub fn with_config(config: emulator::Config) -> TestEmulator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let emulator = runtime
            .block_on(Emulator::start(config))
            .expect("emulator starts");
        TestEmulator {
            runtime,
            emulator: Some(emulator),
        }
    }

    fn inner(&self) -> &Emulator {
        self.emulator.as_ref().expect("running")
    }

    pub fn url(&self) -> String {
        self.inner().url().to_owned()
    }

    pub fn api_key(&self) -> String {
        self.inner().api_key().to_owned()
    }

    pub fn client_id(&self) -> String {
        self.inner().client_id().to_owned()
    }

    /// The emulator's whole state, through its test-only endpoint.
    pub fn state(&self) -> serde_json::Value {
        let url = format!("{}/_emulator/state", self.url());
        self.runtime.block_on(async {
            reqwest::get(url)
                .await
                .expect("state")
                .json()
                .await
                .expect("state json")
        })
    }

    /// The values of one list (`redirect_uris`, `cors_origins`) of the default environment.
    pub fn list(&self, list: &str) -> Vec<String> {
        let field = if list == "cors_origins" {
            "origin"
        } else {
            "uri"
        };
        let state = self.state();
        let environment = default_environment(&state, &self.api_key());
        let mut values: Vec<String> = environment[list]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i[field].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        values.sort();
        values
    }

    /// The requests the emulator has received, through its test-only endpoint:
    /// `{"total", "requests": {"METHOD /path": n}, "faults": {"name": n}}`.
    pub fn stats(&self) -> serde_json::Value {
        let url = format!("{}/_emulator/stats", self.url());
        self.runtime.block_on(async {
            reqwest::get(url)
                .await
                .expect("stats")
                .json()
                .await
                .expect("stats json")
        })
    }

    /// How many WorkOS and Convex requests the emulator has received.
    pub fn request_count(&self) -> u64 {
        self.stats()["total"].as_u64().expect("total")
    }

    pub fn homepage(&self) -> Option<String> {
        let state = self.state();
        default_environment(&state, &self.api_key())["app_homepage_url"]
            .as_str()
            .map(str::to_owned)
    }

    /// Sends one authenticated request, as a third party editing the environment would.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.url());
        let key = self.api_key();
        self.runtime.block_on(async move {
            let client = reqwest::Client::new();
            let mut request = client.request(method, url).bearer_auth(key);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(serde_json::Value::Null);
            (status, body)
        })
    }

    pub fn create_redirect_uri(&self, uri: &str) {
        let body = serde_json::json!({ "uri": uri });
        let (status, _) = self.request(
            reqwest::Method::POST,
            "/user_management/redirect_uris",
            Some(body),
        );
        assert_eq!(status, 201);
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            let _ = self.runtime.block_on(emulator.shutdown());
        }
    }
}

fn default_environment<'a>(state: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    state["environments"]
        .as_array()
        .and_then(|envs| {
            envs.iter().find(|e| {
                e["api_keys"]
                    .as_array()
                    .is_some_and(|keys| keys.iter().any(|k| k == key))
            })
        })
        .expect("the emulator's default environment")
}

/// A project directory with the files a test lays out.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A copy of `fixtures/<name>`.
    pub fn fixture(name: &str) -> Project {
        let project = Project::new();
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        copy_dir(&source, project.path());
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> &Project {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("parent dir");
        }
        fs::write(path, contents).expect("write file");
        self
    }

    pub fn convex_json(&self, auth_kit: serde_json::Value) -> &Project {
        let json = serde_json::json!({ "authKit": auth_kit });
        self.file(
            "convex.json",
            serde_json::to_string_pretty(&json).expect("json"),
        )
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path().join(name)).expect("read file")
    }

    pub fn read_bytes(&self, name: &str) -> Vec<u8> {
        fs::read(self.path().join(name)).expect("read file")
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path().join(name).exists()
    }

    /// The binary in this project, with a clean environment: no colour, no CI, no credentials
    /// from the developer's shell.
    pub fn command(&self) -> Command {
        let mut command = Command::cargo_bin("authkit-sync").expect("binary");
        command
            .env_clear()
            .env("NO_COLOR", "1")
            .arg("--dir")
            .arg(self.path());
        command
    }

    /// The binary pointed at `emulator` with its credentials in the environment.
    pub fn against(&self, emulator: &TestEmulator) -> Command {
        let mut command = self.command();
        command
            .env("WORKOS_API_URL", emulator.url())
            .env("WORKOS_API_KEY", emulator.api_key())
            .env("WORKOS_CLIENT_ID", emulator.client_id());
        command
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("fixture dir") {
        let entry = entry.expect("entry");
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            fs::create_dir_all(&target).expect("dir");
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The same command as a `std::process::Command`, for tests that need to spawn the binary
/// and act while it runs (kill it, start another beside it). The environment is cleared as in
/// [`Project::command`].
pub fn spawnable(command: &Command) -> std::process::Command {
    let mut spawnable = std::process::Command::new(command.get_program());
    spawnable.env_clear().args(command.get_args());
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            spawnable.env(name, value);
        }
    }
    spawnable
}

/// Output as text, for assertions.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

impl TestEmulator {
    pub fn deployment_url(&self) -> String {
        self.inner().deployment_url()
    }

    pub fn admin_key(&self) -> String {
        self.inner().admin_key().to_owned()
    }

    /// The dev deployment's environment variables, from the emulator's state.
    pub fn deployment_vars(&self) -> serde_json::Value {
        let state = self.state();
        let name = self.inner().deployment_name().to_owned();
        state["deployments"]
            .as_array()
            .and_then(|list| list.iter().find(|d| d["name"] == name.as_str()))
            .map(|d| d["env_vars"].clone())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Sets variables on the dev deployment through its API, as `npx convex env set` would.
    pub fn set_deployment_vars(&self, vars: &[(&str, &str)]) {
        let url = format!("{}/api/update_environment_variables", self.deployment_url());
        let changes: Vec<_> = vars
            .iter()
            .map(|(n, v)| serde_json::json!({ "name": n, "value": v }))
            .collect();
        let key = self.admin_key();
        let status = self.runtime.block_on(async move {
            reqwest::Client::new()
                .post(url)
                .header("Authorization", format!("Convex {key}"))
                .json(&serde_json::json!({ "changes": changes }))
                .send()
                .await
                .expect("update")
                .status()
                .as_u16()
        });
        assert_eq!(status, 200);
    }

    /// All WorkOS environments in the emulator's state.
    pub fn environments(&self) -> Vec<serde_json::Value> {
        self.state()["environments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Project {
    /// The binary pointed at `emulator` as a Convex deployment and management API, with no
    /// WorkOS credentials anywhere.
    pub fn against_convex(&self, emulator: &TestEmulator) -> Command {
        let mut command = self.command();
        command
            .env("WORKOS_API_URL", emulator.url())
            .env("CONVEX_URL", emulator.deployment_url())
            .env("CONVEX_DEPLOY_KEY", emulator.admin_key())
            .env("CONVEX_PROVISION_HOST", emulator.url());
        command
    }
}

/// A one-route HTTP server on loopback that answers every request with `status` and `body`,
/// for answers no real server gives: broken JSON, missing fields.
pub fn fixed_answer_server(status: u16, body: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 8192];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// A loopback HTTP server for answers no real server gives: each request (head and body, as
/// text) goes to `answer`, which writes whatever it likes to the socket and then the connection
/// is closed. Returns the base URL and the count of requests received so far.
pub fn scripted_server(
    answer: impl Fn(&str, &mut std::net::TcpStream) + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                let request = read_request(&mut stream);
                answer(&request, &mut stream);
            });
        }
    });
    (url, count)
}

/// Reads one request: its head, then as many body bytes as its content-length says.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read as _;

    let mut bytes = Vec::new();
    let mut buffer = [0u8; 8192];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return text;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Writes a complete answer with a JSON body and closes the connection.
pub fn write_answer(stream: &mut std::net::TcpStream, status: &str, headers: &str, body: &str) {
    use std::io::Write as _;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n{headers}\r\n{body}",
        body.len()
    );
}
