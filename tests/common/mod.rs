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

/// Output as text, for assertions.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
