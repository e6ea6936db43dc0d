//! What the benchmarks run against: projects written into temporary directories, emulator
//! state files, and the binary pointed at an emulator.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::measure::Spec;

/// The binary cargo built in the bench profile.
pub const BUILT: &str = env!("CARGO_BIN_EXE_authkit-sync");

static BINARY: OnceLock<PathBuf> = OnceLock::new();

/// Measures `path` instead of the binary cargo built (`--binary`), e.g. an older build.
pub fn use_binary(path: PathBuf) {
    let _ = BINARY.set(path);
}

/// The binary under test.
pub fn binary() -> &'static Path {
    BINARY.get_or_init(|| PathBuf::from(BUILT))
}

/// A typical project: 3 redirect URIs, 3 CORS origins, a homepage and 4 `.env.local`
/// variables.
pub fn typical_config() -> Value {
    json!({
        "dev": {
            "configure": {
                "redirectUris": [
                    "http://localhost:3000/callback",
                    "http://localhost:3000/auth/callback",
                    "http://127.0.0.1:3000/callback"
                ],
                "corsOrigins": [
                    "http://localhost:3000",
                    "http://localhost:5173",
                    "http://127.0.0.1:3000"
                ],
                "appHomepageUrl": "http://localhost:3000"
            },
            "localEnvVars": {
                "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
                "WORKOS_API_KEY": "${authEnv.WORKOS_API_KEY}",
                "WORKOS_REDIRECT_URI": "http://localhost:3000/callback",
                "APP_URL": "http://localhost:3000"
            }
        }
    })
}

/// A small project: one redirect URI, one CORS origin, a homepage and 2 `.env.local`
/// variables, on `port`.
pub fn small_config(port: u16) -> Value {
    json!({
        "dev": {
            "configure": {
                "redirectUris": [format!("http://localhost:{port}/callback")],
                "corsOrigins": [format!("http://localhost:{port}")],
                "appHomepageUrl": format!("http://localhost:{port}")
            },
            "localEnvVars": {
                "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
                "WORKOS_REDIRECT_URI": format!("http://localhost:{port}/callback")
            }
        }
    })
}

/// `count` redirect URIs and nothing else.
pub fn redirect_uris_config(count: usize) -> Value {
    let uris: Vec<String> = (0..count)
        .map(|i| format!("http://localhost:3000/callback/{i}"))
        .collect();
    json!({ "dev": { "configure": { "redirectUris": uris } } })
}

/// Writes `convex.json` with `auth_kit` as its `authKit` section into `dir`.
pub fn write_project(dir: &Path, auth_kit: &Value) {
    fs::create_dir_all(dir).expect("project dir");
    let config = json!({ "authKit": auth_kit });
    let text = serde_json::to_string_pretty(&config).expect("json");
    fs::write(dir.join("convex.json"), text).expect("convex.json");
}

/// A state file whose default environment holds `count` redirect URIs, oldest first.
pub fn state_with_redirect_uris(path: &Path, count: usize) {
    let uris: Vec<Value> = (0..count)
        .map(|n| {
            json!({
                "id": format!("redirect_uri_01J{n:023}"),
                "uri": format!("https://app{n}.example.com/callback"),
                "default": n == 0,
                "created_at": "2026-01-01T00:00:00.000Z",
                "updated_at": "2026-01-01T00:00:00.000Z"
            })
        })
        .collect();
    let state = json!({
        "version": 1,
        "environments": [{
            "id": "environment_00000000000000000000000001",
            "name": "Sandbox",
            "client_id": "client_00000000000000000000000001",
            "api_keys": ["sk_test_emulator_default"],
            "redirect_uris": uris
        }]
    });
    fs::write(path, state.to_string()).expect("state file");
}

/// Where the binary finds the emulator and its credentials.
pub struct Target {
    pub url: String,
    pub api_key: String,
    pub client_id: String,
    pub deployment_url: String,
    pub admin_key: String,
}

/// How the project finds its WorkOS key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// `WORKOS_API_KEY` and `WORKOS_CLIENT_ID` in the shell.
    Shell,
    /// A Convex project: the deployment is configured, the key is in `.env.local`.
    ConvexWithEnvLocal,
    /// A Convex project whose key is only on the deployment.
    ConvexOnly,
}

/// The binary with a clean environment, pointed at `target`, with `args`.
pub fn command(target: &Target, credentials: Credentials, args: &[&str]) -> Spec {
    let mut spec = Spec::new(binary());
    spec.env_clear()
        .env("NO_COLOR", "1")
        .env("WORKOS_API_URL", &target.url);
    if credentials == Credentials::Shell {
        spec.env("WORKOS_API_KEY", &target.api_key)
            .env("WORKOS_CLIENT_ID", &target.client_id);
    } else {
        spec.env("CONVEX_URL", &target.deployment_url)
            .env("CONVEX_DEPLOY_KEY", &target.admin_key);
    }
    spec.args(args);
    spec
}
