//! The Convex provider: the deployment's environment variables, and provisioning of a WorkOS
//! environment for a dev deployment through Convex's management API.
//!
//! The deployment is where `auth.config.ts` reads `WORKOS_CLIENT_ID` from, so the tool keeps the
//! three WorkOS variables there in line with the credentials it uses. Only those three are
//! ever kept in memory: every other deployment variable is dropped as soon as it is read.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::http::{Auth, Client, Endpoint, Response, server_text};
use crate::plan::Change;
use crate::state::{Address, Item, ResourceKind, Secret, State, Value};
use crate::template::AuthVar;

use super::{Done, Outcome, Writer};

const LIST_ENV_VARS: &str = "_system/cli/queryEnvironmentVariables";

/// An error answer from a Convex API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvexError {
    pub api: &'static str,
    pub method: Method,
    pub path: String,
    pub status: StatusCode,
    pub code: Option<String>,
    pub message: Option<String>,
}

impl fmt::Display for ConvexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Convex {} answered {} {} with {}",
            self.api, self.method, self.path, self.status
        )?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if self.status == StatusCode::UNAUTHORIZED {
            write!(
                f,
                "\n  hint: the key was refused; check CONVEX_DEPLOY_KEY (or the access token) \
                 belongs to this deployment"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConvexError {}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn error(api: &'static str, method: Method, path: &str, response: &Response) -> ConvexError {
    let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    ConvexError {
        api,
        method,
        path: path.to_owned(),
        status: response.status,
        code: body.code.map(|code| server_text(&code, 100)),
        message: body.message.map(|message| server_text(&message, 500)),
    }
}

/// Parses a JSON answer, naming the endpoint when it is not the expected shape.
fn parse<T: serde::de::DeserializeOwned>(
    api: &str,
    path: &str,
    response: &Response,
) -> anyhow::Result<T> {
    serde_json::from_slice(&response.body).with_context(|| {
        let shown = server_text(&String::from_utf8_lossy(&response.body), 120);
        format!("the Convex {api} answered POST {path} with an unexpected body: {shown}")
    })
}

/// A deployment reached with its admin key.
pub struct Deployment {
    client: Arc<Client>,
    name: String,
    endpoint: Endpoint,
    auth: Auth,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum QueryAnswer {
    Success {
        value: serde_json::Value,
    },
    Error {
        #[serde(rename = "errorMessage", default)]
        error_message: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
struct EnvVar {
    name: String,
    value: String,
}

impl Deployment {
    pub fn new(client: Arc<Client>, name: String, endpoint: Endpoint, admin_key: Secret) -> Self {
        Deployment {
            client,
            name,
            endpoint,
            auth: Auth::Convex(admin_key),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The WorkOS variables set on the deployment (one read for all of them).
    pub async fn workos_vars(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let path = "/api/query";
        let body = json!({ "path": LIST_ENV_VARS, "args": {}, "format": "json" });
        let response = self
            .client
            .send(
                Method::POST,
                self.endpoint.url(path),
                &self.auth,
                Some(&body),
            )
            .await?;
        if !response.status.is_success() {
            return Err(error("deployment", Method::POST, path, &response).into());
        }
        let answer: QueryAnswer = parse("deployment", path, &response)?;
        let value = match answer {
            QueryAnswer::Success { value } => value,
            QueryAnswer::Error { error_message } => anyhow::bail!(
                "the Convex deployment {} could not list its environment variables: {}",
                self.name,
                server_text(&error_message.unwrap_or_default(), 500)
            ),
        };
        let vars: Vec<EnvVar> = serde_json::from_value(value).with_context(|| {
            format!(
                "the Convex deployment {} answered POST {path} with an unexpected list",
                self.name
            )
        })?;
        let wanted = AuthVar::ALL.map(AuthVar::env_name);
        Ok(vars
            .into_iter()
            .filter(|v| wanted.contains(&v.name.as_str()))
            .map(|v| (v.name, v.value))
            .collect())
    }

    async fn update(&self, changes: &[(String, String)]) -> anyhow::Result<()> {
        let path = "/api/update_environment_variables";
        let changes: Vec<_> = changes
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        let body = json!({ "changes": changes });
        let response = self
            .client
            .send(
                Method::POST,
                self.endpoint.url(path),
                &self.auth,
                Some(&body),
            )
            .await?;
        if !response.status.is_success() {
            return Err(error("deployment", Method::POST, path, &response).into());
        }
        Ok(())
    }
}

/// The deployment variables as live state.
pub fn live_state(vars: &BTreeMap<String, String>) -> State {
    let mut state = State::new();
    for (name, value) in vars {
        let value = if name == AuthVar::ApiKey.env_name() {
            Value::Secret(Secret::new(value.clone()))
        } else {
            Value::Text(value.clone())
        };
        state.insert(
            Address::new(ResourceKind::ConvexEnvVar, name),
            Item::new(value),
        );
    }
    state.mark_read(ResourceKind::ConvexEnvVar);
    state
}

/// Writes deployment variables, all in one request.
pub struct ConvexWriter {
    deployment: Arc<Deployment>,
}

impl ConvexWriter {
    pub fn new(deployment: Arc<Deployment>) -> ConvexWriter {
        ConvexWriter { deployment }
    }
}

impl Writer for ConvexWriter {
    fn owns(&self, kind: ResourceKind) -> bool {
        kind == ResourceKind::ConvexEnvVar
    }

    async fn apply(&self, changes: Vec<Change>) -> Vec<Outcome> {
        let values: Vec<(String, String)> = changes
            .iter()
            .map(|c| {
                let name = c.address.name().unwrap_or_default().to_owned();
                let value = c
                    .after
                    .as_ref()
                    .and_then(Value::text)
                    .unwrap_or_default()
                    .to_owned();
                (name, value)
            })
            .collect();
        let result = self
            .deployment
            .update(&values)
            .await
            .map_err(|e| format!("{e:#}"));
        changes
            .into_iter()
            .map(|change| {
                let result = match &result {
                    Ok(()) => Ok(Done::new(change.action)),
                    Err(message) => Err(anyhow::anyhow!("{message}")),
                };
                Outcome { change, result }
            })
            .collect()
    }
}

/// Convex's management API, for provisioning.
pub struct Management {
    client: Arc<Client>,
    endpoint: Endpoint,
    auth: Auth,
}

/// A WorkOS environment provisioned for a deployment.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub environment_id: String,
    pub environment_name: String,
    pub client_id: String,
    pub api_key: Secret,
    pub newly_provisioned: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamAnswer {
    has_associated_workos_team: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProvisionAnswer {
    environment_id: String,
    environment_name: String,
    client_id: String,
    api_key: String,
    #[serde(default)]
    newly_provisioned: bool,
}

impl Management {
    pub fn new(client: Arc<Client>, endpoint: Endpoint, token: Secret) -> Management {
        Management {
            client,
            endpoint,
            auth: Auth::Bearer(token),
        }
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> anyhow::Result<Response> {
        let response = self
            .client
            .send(
                Method::POST,
                self.endpoint.url(path),
                &self.auth,
                Some(&body),
            )
            .await?;
        if !response.status.is_success() {
            return Err(error("management API", Method::POST, path, &response).into());
        }
        Ok(response)
    }

    /// Provisions (or fetches, when one exists) the WorkOS environment of `deployment`.
    pub async fn provision(
        &self,
        deployment: &str,
        production: bool,
    ) -> anyhow::Result<Provisioned> {
        let path = "/api/workos/has_associated_workos_team";
        let response = self
            .post(path, json!({ "deploymentName": deployment }))
            .await?;
        let team: TeamAnswer = parse("management API", path, &response)?;
        if !team.has_associated_workos_team {
            anyhow::bail!(
                "the Convex team of deployment {deployment} has no WorkOS team yet; create one \
                 once with `npx convex dev` (it asks for an email) or in the Convex dashboard, \
                 then run apply again"
            );
        }

        let path = "/api/workos/get_or_provision_workos_environment";
        let environment_type = if production {
            "production"
        } else {
            "nonproduction"
        };
        let body = json!({ "deploymentName": deployment, "environmentType": environment_type });
        let response = self.post(path, body).await?;
        let answer: ProvisionAnswer = parse("management API", path, &response)?;
        for (field, value) in [
            ("environmentId", &answer.environment_id),
            ("clientId", &answer.client_id),
            ("apiKey", &answer.api_key),
        ] {
            if value.is_empty() {
                anyhow::bail!(
                    "the Convex management API answered POST {path} with an empty {field}"
                );
            }
        }
        Ok(Provisioned {
            environment_id: answer.environment_id,
            environment_name: server_text(&answer.environment_name, 100),
            client_id: answer.client_id,
            api_key: Secret::new(answer.api_key),
            newly_provisioned: answer.newly_provisioned,
        })
    }
}

/// Where the deployment and the management API are, from the usual Convex variables (see the
/// user guide for the exact list and order).
#[derive(Debug, Clone)]
pub struct Location {
    pub deployment_name: Option<String>,
    /// The deployment's URL and the variable it came from.
    pub deployment_url: Option<(String, &'static str)>,
    pub admin_key: Option<Secret>,
    pub management_url: String,
    pub management_token: Option<Secret>,
}

pub const DEFAULT_PROVISION_HOST: &str = "https://api.convex.dev";

fn is_deployment_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Location {
    /// Reads the Convex variables through `get` (process environment, then `.env.local`).
    /// `stored_token` is the access token `npx convex login` keeps, if any.
    pub fn from_vars(
        get: &dyn Fn(&str) -> Option<String>,
        stored_token: Option<String>,
    ) -> Result<Location, String> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let deploy_key = non_empty("CONVEX_DEPLOY_KEY");

        let from_deployment = match non_empty("CONVEX_DEPLOYMENT") {
            Some(value) => {
                let name = value
                    .split_once(':')
                    .map_or(value.as_str(), |(_, n)| n)
                    .trim();
                if !is_deployment_name(name) {
                    return Err(format!(
                        "CONVEX_DEPLOYMENT=`{value}` does not name a deployment: expected \
                         `dev:<name>` as `npx convex dev` writes it"
                    ));
                }
                Some(name.to_owned())
            }
            None => None,
        };
        let from_key = deploy_key.as_deref().and_then(|key| {
            let (head, _) = key.split_once('|')?;
            let (kind, name) = head.split_once(':')?;
            (matches!(kind, "dev" | "prod") && is_deployment_name(name)).then(|| name.to_owned())
        });
        let url = non_empty("CONVEX_URL");
        let from_url = url.as_deref().and_then(|url| {
            let host = url.split_once("://")?.1.split(['/', ':']).next()?;
            let (name, rest) = host.split_once('.')?;
            (rest.ends_with("convex.cloud") && is_deployment_name(name)).then(|| name.to_owned())
        });
        let deployment_name = from_deployment.or(from_key).or(from_url);

        let deployment_url = match (url, &deployment_name) {
            (Some(url), _) => Some((url, "CONVEX_URL")),
            (None, Some(name)) => {
                Some((format!("https://{name}.convex.cloud"), "CONVEX_DEPLOYMENT"))
            }
            (None, None) => None,
        };
        let management_url =
            non_empty("CONVEX_PROVISION_HOST").unwrap_or_else(|| DEFAULT_PROVISION_HOST.to_owned());
        let management_token = non_empty("CONVEX_OVERRIDE_ACCESS_TOKEN")
            .or_else(|| deploy_key.clone())
            .or(stored_token.filter(|t| !t.is_empty()))
            .map(Secret::new);
        Ok(Location {
            deployment_name,
            deployment_url,
            admin_key: deploy_key.map(Secret::new),
            management_url,
            management_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(vars: &[(&str, &str)]) -> Result<Location, String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Location::from_vars(&|name| vars.get(name).cloned(), None)
    }

    #[test]
    fn the_deployment_is_found_from_the_usual_variables() {
        let l = locate(&[("CONVEX_DEPLOYMENT", "dev:happy-otter-123")]).unwrap();
        assert_eq!(l.deployment_name.as_deref(), Some("happy-otter-123"));
        assert_eq!(
            l.deployment_url.unwrap().0,
            "https://happy-otter-123.convex.cloud"
        );
        assert!(l.admin_key.is_none());

        let l = locate(&[("CONVEX_DEPLOY_KEY", "prod:brave-fox-456|abc")]).unwrap();
        assert_eq!(l.deployment_name.as_deref(), Some("brave-fox-456"));
        assert!(l.admin_key.is_some());
        assert!(l.management_token.is_some());

        let l = locate(&[("CONVEX_URL", "https://calm-cat-7.eu-west-1.convex.cloud")]).unwrap();
        assert_eq!(l.deployment_name.as_deref(), Some("calm-cat-7"));

        let l = locate(&[
            ("CONVEX_URL", "http://127.0.0.1:3210/d/x"),
            ("CONVEX_DEPLOYMENT", "dev:x"),
        ])
        .unwrap();
        assert_eq!(
            l.deployment_url.unwrap(),
            ("http://127.0.0.1:3210/d/x".into(), "CONVEX_URL")
        );
        assert_eq!(l.management_url, DEFAULT_PROVISION_HOST);
    }

    #[test]
    fn a_malformed_deployment_is_named() {
        let error = locate(&[("CONVEX_DEPLOYMENT", "dev:Not A Name")]).unwrap_err();
        assert!(error.contains("CONVEX_DEPLOYMENT"), "{error}");
    }
}
