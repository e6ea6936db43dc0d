//! The emulator's data: WorkOS environments and their AuthKit settings, Convex teams and
//! deployments, kept in memory and optionally mirrored to a JSON state file.
//!
//! # State file format
//!
//! The file is the [`State`] value as JSON, the same document `GET /_emulator/state` returns:
//!
//! ```json
//! {
//!   "version": 1,
//!   "environments": [
//!     {
//!       "id": "environment_00000000000000000000000001",
//!       "name": "Sandbox",
//!       "client_id": "client_00000000000000000000000001",
//!       "api_keys": ["sk_test_emulator_default"],
//!       "redirect_uris": [
//!         {
//!           "id": "redirect_uri_01KBJ7Q5X0M1A4Z7D1V3C9W2E8",
//!           "uri": "http://localhost:3000/callback",
//!           "default": true,
//!           "created_at": "2026-12-03T15:54:14.123Z",
//!           "updated_at": "2026-12-03T15:54:14.123Z"
//!         }
//!       ],
//!       "cors_origins": [
//!         {
//!           "id": "cors_origin_01KBJ7Q5X2T6N0B8F4H2K7R5S1",
//!           "origin": "http://localhost:3000",
//!           "created_at": "2026-12-03T15:54:14.125Z",
//!           "updated_at": "2026-12-03T15:54:14.125Z"
//!         }
//!       ],
//!       "app_homepage_url": null
//!     }
//!   ],
//!   "teams": [
//!     {"id": 1, "name": "acme", "workos_team_id": "workos_team_00000000000000000000000001"}
//!   ],
//!   "deployments": [
//!     {
//!       "name": "happy-otter-123",
//!       "kind": "dev",
//!       "admin_key": "dev:happy-otter-123|emulator-admin-key",
//!       "team_id": 1,
//!       "env_vars": {"WORKOS_CLIENT_ID": "client_00000000000000000000000001"},
//!       "workos_environment_id": null
//!     }
//!   ],
//!   "access_tokens": ["emulator-access-token"]
//! }
//! ```
//!
//! - `version` is 1; a file with another version is refused rather than misread. Fields added
//!   later with a default (`teams`, `deployments`, `access_tokens`) did not change it: a file
//!   written before they existed still reads, and gets the fresh state's values for them.
//! - The first environment is the default one: its id, client id and first API key are what
//!   the emulator reports as its credentials.
//! - An API key selects its environment. `sk_test_` keys belong to sandbox environments and
//!   `sk_live_` keys to production ones, which refuse http and local URLs; one environment
//!   cannot hold both kinds. A key may belong to one environment only.
//! - A deployment's `kind` is `dev`, `preview` or `prod`; its `team_id` names a team, and its
//!   `workos_environment_id`, once provisioned, an environment that no other deployment uses.
//!   The first `dev` and the first `prod` deployment, and the first access token, are what the
//!   emulator reports as its Convex credentials, so each must exist.
//! - Deployment names are lowercase letters, digits and hyphens (they are URL path segments).
//!   Admin keys and access tokens are printable ASCII without spaces (they travel in an
//!   `Authorization` header), and none may be used twice. Environment variable names match
//!   `[A-Za-z_][A-Za-z0-9_]*`.
//! - Unknown fields are refused: the emulator rewrites the file after every change, and would
//!   otherwise silently drop what it did not understand.
//!
//! The file is replaced atomically (a temporary file in the same directory, then a rename) so a
//! process killed at any moment leaves either the old or the new document, never a torn one.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::error::ApiError;
use super::ids;

/// The version of the state file format this code reads and writes.
const FORMAT_VERSION: u32 = 1;

/// The API key of the environment a fresh emulator starts with.
pub(crate) const DEFAULT_API_KEY: &str = "sk_test_emulator_default";
/// Fixed rather than random so that a reset keeps the credentials the emulator announced, and
/// so that documentation and golden files can show them.
const DEFAULT_ENVIRONMENT_ID: &str = "environment_00000000000000000000000001";
const DEFAULT_CLIENT_ID: &str = "client_00000000000000000000000001";
const DEFAULT_WORKOS_TEAM_ID: &str = "workos_team_00000000000000000000000001";

/// The Convex side of a fresh emulator: one team, a dev and a prod deployment, one access token.
/// Fixed for the same reasons as the default environment's credentials.
const DEFAULT_TEAM_ID: u64 = 1;
const DEV_DEPLOYMENT: &str = "happy-otter-123";
const PROD_DEPLOYMENT: &str = "brave-fox-456";
const ADMIN_KEY_SECRET: &str = "emulator-admin-key";
const DEFAULT_ACCESS_TOKEN: &str = "emulator-access-token";

/// Everything the emulator knows. See the module documentation for the JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct State {
    pub version: u32,
    pub environments: Vec<Environment>,
    #[serde(default = "fresh_teams")]
    pub teams: Vec<Team>,
    #[serde(default = "fresh_deployments")]
    pub deployments: Vec<Deployment>,
    /// Bearer tokens of the Convex management API; each may act on every deployment.
    #[serde(default = "fresh_access_tokens")]
    pub access_tokens: Vec<String>,
}

/// One WorkOS environment (sandbox or production) and its AuthKit settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Environment {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub api_keys: Vec<String>,
    #[serde(default)]
    pub redirect_uris: Vec<RedirectUri>,
    #[serde(default)]
    pub cors_origins: Vec<CorsOrigin>,
    #[serde(default)]
    pub app_homepage_url: Option<String>,
}

/// A stored AuthKit redirect URI (callback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedirectUri {
    pub id: String,
    pub uri: String,
    pub default: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A stored CORS origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorsOrigin {
    pub id: String,
    pub origin: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A Convex team, which owns deployments and may have a WorkOS team associated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Team {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub workos_team_id: Option<String>,
}

/// A Convex deployment: its admin key, its environment variables and the WorkOS environment
/// provisioned for it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deployment {
    pub name: String,
    pub kind: DeploymentKind,
    pub admin_key: String,
    pub team_id: u64,
    /// A sorted map, so that listings come out sorted by name and the file is stable.
    #[serde(default)]
    pub env_vars: BTreeMap<String, String>,
    #[serde(default)]
    pub workos_environment_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeploymentKind {
    Dev,
    Preview,
    Prod,
}

impl DeploymentKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Preview => "preview",
            Self::Prod => "prod",
        }
    }
}

fn fresh_teams() -> Vec<Team> {
    vec![Team {
        id: DEFAULT_TEAM_ID,
        name: "acme".to_owned(),
        workos_team_id: Some(DEFAULT_WORKOS_TEAM_ID.to_owned()),
    }]
}

fn fresh_deployments() -> Vec<Deployment> {
    let deployment = |name: &str, kind: DeploymentKind| Deployment {
        name: name.to_owned(),
        kind,
        // Convex admin keys name the deployment they open, before the secret part.
        admin_key: format!("{}:{name}|{ADMIN_KEY_SECRET}", kind.as_str()),
        team_id: DEFAULT_TEAM_ID,
        env_vars: BTreeMap::new(),
        workos_environment_id: None,
    };
    vec![
        deployment(DEV_DEPLOYMENT, DeploymentKind::Dev),
        deployment(PROD_DEPLOYMENT, DeploymentKind::Prod),
    ]
}

fn fresh_access_tokens() -> Vec<String> {
    vec![DEFAULT_ACCESS_TOKEN.to_owned()]
}

impl State {
    /// The state of a new emulator: one empty sandbox environment, and a team whose WorkOS team
    /// is set up, with a dev and a prod deployment that have no variables and no environment.
    pub(crate) fn fresh() -> Self {
        Self {
            version: FORMAT_VERSION,
            environments: vec![Environment {
                id: DEFAULT_ENVIRONMENT_ID.to_owned(),
                name: "Sandbox".to_owned(),
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                api_keys: vec![DEFAULT_API_KEY.to_owned()],
                redirect_uris: Vec::new(),
                cors_origins: Vec::new(),
                app_homepage_url: None,
            }],
            teams: fresh_teams(),
            deployments: fresh_deployments(),
            access_tokens: fresh_access_tokens(),
        }
    }

    /// The default environment: the first one. Validation guarantees it exists and has a key.
    pub(crate) fn default_environment(&self) -> Option<&Environment> {
        self.environments.first()
    }

    pub(crate) fn environment_by_key(&self, key: &str) -> Option<&Environment> {
        self.environments
            .iter()
            .find(|environment| environment.api_keys.iter().any(|known| known == key))
    }

    pub(crate) fn environment_by_key_mut(&mut self, key: &str) -> Option<&mut Environment> {
        self.environments
            .iter_mut()
            .find(|environment| environment.api_keys.iter().any(|known| known == key))
    }

    pub(crate) fn environment_by_id(&self, id: &str) -> Option<&Environment> {
        self.environments
            .iter()
            .find(|environment| environment.id == id)
    }

    pub(crate) fn deployment(&self, name: &str) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|deployment| deployment.name == name)
    }

    pub(crate) fn deployment_mut(&mut self, name: &str) -> Option<&mut Deployment> {
        self.deployments
            .iter_mut()
            .find(|deployment| deployment.name == name)
    }

    /// The first deployment of a kind; validation guarantees a dev and a prod one.
    pub(crate) fn first_deployment(&self, kind: DeploymentKind) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|deployment| deployment.kind == kind)
    }

    pub(crate) fn team(&self, id: u64) -> Option<&Team> {
        self.teams.iter().find(|team| team.id == id)
    }

    /// Parses and checks a state document; the error says what is wrong and where, as a JSON
    /// path such as `environments[0].api_keys[1]`.
    pub(crate) fn from_json(text: &str) -> Result<Self, String> {
        let state: Self = serde_json::from_str(text).map_err(|error| error.to_string())?;
        state.validate()?;
        Ok(state)
    }

    /// Checks the rules that serde alone cannot express (see the module documentation).
    fn validate(&self) -> Result<(), String> {
        if self.version != FORMAT_VERSION {
            return Err(format!(
                "version: this emulator reads version {FORMAT_VERSION}, the file has {}",
                self.version
            ));
        }
        self.validate_environments()?;
        self.validate_convex()
    }

    fn validate_environments(&self) -> Result<(), String> {
        if self.environments.is_empty() {
            return Err("environments: at least one environment is needed".to_owned());
        }

        let mut keys = HashSet::new();
        let mut environment_ids = HashSet::new();
        for (index, environment) in self.environments.iter().enumerate() {
            let at = format!("environments[{index}]");
            if environment.id.is_empty() || !environment_ids.insert(environment.id.as_str()) {
                return Err(format!(
                    "{at}.id: '{}' is empty or repeated",
                    environment.id
                ));
            }
            if environment.api_keys.is_empty() {
                return Err(format!("{at}.api_keys: at least one API key is needed"));
            }
            for (key_index, key) in environment.api_keys.iter().enumerate() {
                let at = format!("{at}.api_keys[{key_index}]");
                if !(key.starts_with("sk_test_") || key.starts_with("sk_live_")) {
                    return Err(format!("{at}: a key must start with sk_test_ or sk_live_"));
                }
                if !keys.insert(key.as_str()) {
                    return Err(format!("{at}: the key is listed more than once"));
                }
            }
            let production = environment
                .api_keys
                .iter()
                .map(|key| is_production_key(key));
            if production.clone().any(|p| p) && !production.clone().all(|p| p) {
                return Err(format!(
                    "{at}.api_keys: sk_test_ and sk_live_ keys cannot share an environment"
                ));
            }

            let mut item_ids = HashSet::new();
            let mut uris = HashSet::new();
            for (item, redirect) in environment.redirect_uris.iter().enumerate() {
                let at = format!("{at}.redirect_uris[{item}]");
                if redirect.id.is_empty() || !item_ids.insert(redirect.id.as_str()) {
                    return Err(format!("{at}.id: '{}' is empty or repeated", redirect.id));
                }
                if !uris.insert(redirect.uri.as_str()) {
                    return Err(format!("{at}.uri: '{}' is listed twice", redirect.uri));
                }
            }
            if environment
                .redirect_uris
                .iter()
                .filter(|r| r.default)
                .count()
                > 1
            {
                return Err(format!("{at}.redirect_uris: more than one is the default"));
            }
            let mut origins = HashSet::new();
            for (item, cors) in environment.cors_origins.iter().enumerate() {
                let at = format!("{at}.cors_origins[{item}]");
                if cors.id.is_empty() || !item_ids.insert(cors.id.as_str()) {
                    return Err(format!("{at}.id: '{}' is empty or repeated", cors.id));
                }
                if !origins.insert(cors.origin.as_str()) {
                    return Err(format!("{at}.origin: '{}' is listed twice", cors.origin));
                }
            }
        }
        Ok(())
    }

    /// Checks teams, deployments and access tokens, and their links to each other and to the
    /// environments.
    fn validate_convex(&self) -> Result<(), String> {
        let mut team_ids = HashSet::new();
        for (index, team) in self.teams.iter().enumerate() {
            if !team_ids.insert(team.id) {
                return Err(format!("teams[{index}].id: {} is repeated", team.id));
            }
            if team.workos_team_id.as_deref() == Some("") {
                return Err(format!(
                    "teams[{index}].workos_team_id: use null, not an empty string, for none"
                ));
            }
        }

        let mut credentials = HashSet::new();
        for (index, token) in self.access_tokens.iter().enumerate() {
            let at = format!("access_tokens[{index}]");
            check_credential(&at, token, &mut credentials)?;
        }
        let mut names = HashSet::new();
        let mut linked_environments = HashSet::new();
        for (index, deployment) in self.deployments.iter().enumerate() {
            let at = format!("deployments[{index}]");
            if !is_deployment_name(&deployment.name) {
                return Err(format!(
                    "{at}.name: '{}' is not lowercase letters, digits and hyphens",
                    deployment.name
                ));
            }
            if !names.insert(deployment.name.as_str()) {
                return Err(format!("{at}.name: '{}' is repeated", deployment.name));
            }
            check_credential(
                &format!("{at}.admin_key"),
                &deployment.admin_key,
                &mut credentials,
            )?;
            if self.team(deployment.team_id).is_none() {
                return Err(format!(
                    "{at}.team_id: no team has the id {}",
                    deployment.team_id
                ));
            }
            if let Some(name) = deployment
                .env_vars
                .keys()
                .find(|name| !is_env_var_name(name))
            {
                return Err(format!(
                    "{at}.env_vars: '{name}' is not a valid name ([A-Za-z_][A-Za-z0-9_]*)"
                ));
            }
            if let Some(id) = &deployment.workos_environment_id {
                if self.environment_by_id(id).is_none() {
                    return Err(format!(
                        "{at}.workos_environment_id: no environment has the id '{id}'"
                    ));
                }
                if !linked_environments.insert(id.as_str()) {
                    return Err(format!(
                        "{at}.workos_environment_id: '{id}' belongs to another deployment"
                    ));
                }
            }
        }

        for kind in [DeploymentKind::Dev, DeploymentKind::Prod] {
            if self.first_deployment(kind).is_none() {
                return Err(format!(
                    "deployments: a '{}' deployment is needed",
                    kind.as_str()
                ));
            }
        }
        if self.access_tokens.is_empty() {
            return Err("access_tokens: at least one access token is needed".to_owned());
        }
        Ok(())
    }

    /// Every object id in the state, so the id generator can be moved past them.
    fn object_ids(&self) -> impl Iterator<Item = &str> {
        self.environments.iter().flat_map(|environment| {
            std::iter::once(environment.id.as_str())
                .chain(std::iter::once(environment.client_id.as_str()))
                .chain(environment.redirect_uris.iter().map(|r| r.id.as_str()))
                .chain(environment.cors_origins.iter().map(|c| c.id.as_str()))
        })
    }

    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Checks one admin key or access token, and that it was not seen before.
fn check_credential<'a>(
    at: &str,
    credential: &'a str,
    seen: &mut HashSet<&'a str>,
) -> Result<(), String> {
    if credential.is_empty() || !credential.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(format!(
            "{at}: a key must be printable ASCII without spaces, and not empty"
        ));
    }
    if !seen.insert(credential) {
        return Err(format!("{at}: the key is used more than once"));
    }
    Ok(())
}

fn is_deployment_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// Whether `name` can be a Convex environment variable: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_env_var_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

/// Whether a key belongs to a production environment, by WorkOS's prefix convention.
pub(crate) fn is_production_key(key: &str) -> bool {
    key.starts_with("sk_live_")
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateFileError {
    #[error("cannot read the emulator state file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the emulator state file {} is not valid: {problem}; fix it, or delete it to start \
         from a fresh state",
        path.display()
    )]
    Invalid { path: PathBuf, problem: String },
    #[error("cannot write the emulator state file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads the state file at `path`; a missing file gives the fresh state.
async fn load(path: &Path) -> Result<State, StateFileError> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(State::fresh()),
        Err(source) => {
            return Err(StateFileError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    State::from_json(&text).map_err(|problem| StateFileError::Invalid {
        path: path.to_owned(),
        problem,
    })
}

/// Replaces the file at `path` with `state`, atomically.
async fn save(path: &Path, state: &State) -> Result<(), StateFileError> {
    let write_error = |source| StateFileError::Write {
        path: path.to_owned(),
        source,
    };
    let bytes = state.to_json().map_err(|error| write_error(error.into()))?;
    let target = path.to_owned();
    // File system calls block; keep them off the threads that serve requests.
    tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
        .await
        .map_err(|error| write_error(std::io::Error::other(error)))?
        .map_err(write_error)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // The temporary file must be in the target's directory: a rename is only atomic within
    // one file system. `Path::parent` gives "" for a bare file name, meaning the current one.
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(bytes)?;
    // Flush to disk before the rename, so that the name never points at a file whose
    // contents are still only in the page cache when the machine goes down.
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// The live state behind a lock, and the file it is mirrored to.
#[derive(Debug)]
pub(crate) struct Store {
    state: Mutex<State>,
    file: Option<PathBuf>,
}

impl Store {
    /// Loads the state file if there is one (a missing file means a fresh state) and writes it
    /// back at once, so that a file that cannot be written is reported at start-up rather than
    /// at the first change.
    pub(crate) async fn open(file: Option<PathBuf>) -> Result<Self, StateFileError> {
        let state = match &file {
            Some(path) => load(path).await?,
            None => State::fresh(),
        };
        state.object_ids().for_each(ids::observe);
        if let Some(path) = &file {
            save(path, &state).await?;
        }
        Ok(Self {
            state: Mutex::new(state),
            file,
        })
    }

    /// Runs `look` on the current state; for reads that need less than a full copy.
    pub(crate) async fn read<T>(&self, look: impl FnOnce(&State) -> T) -> T {
        look(&*self.state.lock().await)
    }

    /// A copy of the current state.
    pub(crate) async fn snapshot(&self) -> State {
        self.state.lock().await.clone()
    }

    /// Runs `change` on a copy of the state and, if it succeeds, writes the copy to the state
    /// file and makes it current. A failed change or a failed write leaves the state as it
    /// was, so what clients see always matches the file.
    pub(crate) async fn mutate<T>(
        &self,
        change: impl FnOnce(&mut State) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        // Holding the lock across the write keeps the file in the same order as the changes.
        let mut current = self.state.lock().await;
        let mut next = current.clone();
        let outcome = change(&mut next)?;
        if let Some(path) = &self.file {
            save(path, &next)
                .await
                .map_err(|error| ApiError::internal(error.to_string()))?;
        }
        *current = next;
        Ok(outcome)
    }

    /// Writes the current state to the state file, if there is one.
    pub(crate) async fn flush(&self) -> Result<(), StateFileError> {
        let current = self.state.lock().await;
        match &self.file {
            Some(path) => save(path, &current).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_fresh_state_is_valid_and_round_trips() {
        let state = State::fresh();
        let text = String::from_utf8(state.to_json().expect("serialises")).expect("utf-8");
        assert_eq!(State::from_json(&text), Ok(state));
    }

    #[test]
    fn invalid_documents_name_the_problem() {
        let fresh = serde_json::to_value(State::fresh()).expect("serialises");
        let with = |pointer: &str, value: serde_json::Value| {
            let mut document = fresh.clone();
            if let Some(slot) = document.pointer_mut(pointer) {
                *slot = value;
            }
            State::from_json(&document.to_string()).expect_err(pointer)
        };
        assert!(with("/version", 2.into()).contains("version"));
        assert!(with("/environments", serde_json::json!([])).contains("at least one"));
        let bad_key = with("/environments/0/api_keys", serde_json::json!(["pk_1"]));
        assert!(bad_key.contains("environments[0].api_keys[0]"), "{bad_key}");
        let mixed = with(
            "/environments/0/api_keys",
            serde_json::json!(["sk_test_a", "sk_live_b"]),
        );
        assert!(mixed.contains("cannot share"), "{mixed}");
        let unknown = with("/environments/0/name", serde_json::json!(7));
        assert!(unknown.contains("invalid type"), "{unknown}");
        assert!(State::from_json("{").is_err());
        assert!(State::from_json(r#"{"version": 1, "environments": [], "x": 1}"#).is_err());
    }

    #[test]
    fn a_document_without_the_convex_fields_gets_the_fresh_ones() {
        let mut document = serde_json::to_value(State::fresh()).expect("serialises");
        if let Some(object) = document.as_object_mut() {
            for field in ["teams", "deployments", "access_tokens"] {
                object.remove(field);
            }
        }
        assert_eq!(State::from_json(&document.to_string()), Ok(State::fresh()));
    }

    #[test]
    fn invalid_convex_fields_name_the_problem() {
        let fresh = serde_json::to_value(State::fresh()).expect("serialises");
        let problem = |pointer: &str, value: serde_json::Value| {
            let mut document = fresh.clone();
            if let Some(slot) = document.pointer_mut(pointer) {
                *slot = value;
            }
            State::from_json(&document.to_string()).expect_err(pointer)
        };
        let cases = [
            (
                "/teams/0/workos_team_id",
                json!(""),
                "teams[0].workos_team_id",
            ),
            (
                "/deployments/1/name",
                json!("happy-otter-123"),
                "deployments[1].name",
            ),
            (
                "/deployments/0/name",
                json!("Happy/Otter"),
                "deployments[0].name",
            ),
            ("/deployments/0/kind", json!("staging"), "unknown variant"),
            (
                "/deployments/1/admin_key",
                json!("emulator-access-token"),
                "more than once",
            ),
            (
                "/deployments/0/admin_key",
                json!("has space"),
                "deployments[0].admin_key",
            ),
            ("/deployments/0/team_id", json!(7), "no team has the id 7"),
            ("/deployments/0/env_vars", json!({"1X": "v"}), "'1X'"),
            (
                "/deployments/0/workos_environment_id",
                json!("environment_x"),
                "no environment",
            ),
            (
                "/deployments/1/kind",
                json!("preview"),
                "a 'prod' deployment is needed",
            ),
            ("/access_tokens", json!([]), "at least one access token"),
            (
                "/teams",
                json!([{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]),
                "repeated",
            ),
        ];
        for (pointer, value, expected) in cases {
            let problem = problem(pointer, value);
            assert!(problem.contains(expected), "{pointer}: {problem}");
        }

        let mut shared = fresh.clone();
        for index in 0..2 {
            if let Some(slot) =
                shared.pointer_mut(&format!("/deployments/{index}/workos_environment_id"))
            {
                *slot = json!("environment_00000000000000000000000001");
            }
        }
        let problem = State::from_json(&shared.to_string()).expect_err("shared environment");
        assert!(problem.contains("another deployment"), "{problem}");
    }

    #[test]
    fn environment_variable_names_follow_convex_rules() {
        for name in ["A", "_", "WORKOS_API_KEY", "a1_b2", "_9"] {
            assert!(is_env_var_name(name), "{name}");
        }
        for name in ["", "1A", "A-B", "A B", "\u{c9}", "A.B"] {
            assert!(!is_env_var_name(name), "{name}");
        }
    }
}
