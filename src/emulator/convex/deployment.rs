//! The API of one Convex deployment, under `/d/<name>`: the system queries that read its
//! environment variables, and the endpoint that changes them.
//!
//! A real deployment has its own host; here the path prefix stands in for it, so a deployment
//! URL is `<emulator url>/d/<name>`. A request carries `Authorization: Convex <admin key>`. An
//! unknown deployment gets 404 before its key is looked at, as a host that does not exist
//! would never see the key.
//!
//! Queries answer 200 even when the function fails, with `{"status": "error", ...}`, because
//! that is how Convex reports a function's failure; only a request that is not a query call at
//! all gets an HTTP error.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::super::Shared;
use super::super::error::ApiError;
use super::super::request::authorization;
use super::super::state::{Deployment, State as EmulatorState, is_env_var_name};
use super::{json_body, path_name, string_field};

/// The system query that lists every variable (its default export) or reads one (`:get`).
const ENV_VARS_QUERY: &str = "_system/cli/queryEnvironmentVariables";

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/d/{name}/api/query", post(query))
        .route(
            "/d/{name}/api/update_environment_variables",
            post(update_environment_variables),
        )
}

/// The deployment called `name`, if the request carries its admin key.
fn admitted<'a>(
    state: &'a EmulatorState,
    name: &str,
    headers: &HeaderMap,
) -> Result<&'a Deployment, ApiError> {
    let deployment = state
        .deployment(name)
        .ok_or_else(|| ApiError::deployment_not_found(name))?;
    match authorization(headers, "Convex") {
        Some(key) if key == deployment.admin_key => Ok(deployment),
        _ => Err(ApiError::bad_admin_key()),
    }
}

/// A query call: `{"path", "args", "format"}`.
struct QueryCall {
    path: String,
    args: Map<String, Value>,
}

impl QueryCall {
    /// `args` must be an object. `format` may be left out, but if given must be `json`: the
    /// values here are strings, objects and null, which Convex's other format writes the same
    /// way, so leaving it out changes nothing, while another value is a client mistake.
    fn parse(body: Map<String, Value>) -> Result<Self, ApiError> {
        let path = string_field(&body, "path")?;
        let args = match body.get("args") {
            Some(Value::Object(args)) => args.clone(),
            _ => {
                return Err(ApiError::convex_bad_request(
                    "The field 'args' must be a JSON object.",
                ));
            }
        };
        match body.get("format") {
            None | Some(Value::Null) => {}
            Some(Value::String(format)) if format == "json" => {}
            Some(other) => {
                return Err(ApiError::convex_bad_request(format!(
                    "The field 'format' must be \"json\", got {other}."
                )));
            }
        }
        Ok(Self { path, args })
    }

    /// Runs the call against `deployment`, giving the `{"status", ...}` answer.
    fn run(&self, deployment: &Deployment) -> Value {
        let (module, export) = self
            .path
            .split_once(':')
            .unwrap_or((self.path.as_str(), "default"));
        if module != ENV_VARS_QUERY {
            return failure(format!("Could not find function for '{}'", self.path));
        }
        match export {
            "default" if self.args.is_empty() => success(Value::Array(
                deployment
                    .env_vars
                    .iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect(),
            )),
            "default" => self.invalid_args("no arguments"),
            "get" => match (self.args.get("name"), self.args.len()) {
                (Some(Value::String(name)), 1) => {
                    success(deployment.env_vars.get_key_value(name).map_or(
                        Value::Null,
                        |(name, value)| json!({"name": name, "value": value}),
                    ))
                }
                _ => self.invalid_args("{\"name\": string}"),
            },
            _ => failure(format!("Could not find function for '{}'", self.path)),
        }
    }

    fn invalid_args(&self, expected: &str) -> Value {
        failure(format!(
            "ArgumentValidationError: '{}' takes {expected}, got {}",
            self.path,
            Value::Object(self.args.clone())
        ))
    }
}

// Convex adds the function's log lines to every answer; system queries log nothing.
fn success(value: Value) -> Value {
    json!({"status": "success", "value": value, "logLines": []})
}

fn failure(message: String) -> Value {
    json!({"status": "error", "errorMessage": message, "logLines": []})
}

/// `{"path", "args", "format"}` -> the query's answer; see [`QueryCall`].
async fn query(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let name = path_name(path)?;
    let call = json_body(body).and_then(QueryCall::parse);

    let answer = shared
        .store
        .read(|state| {
            let deployment = admitted(state, &name, &headers)?;
            Ok::<_, ApiError>(call?.run(deployment))
        })
        .await?;
    Ok(Json(answer))
}

/// One entry of `changes`: a value sets the variable, no value (or null) deletes it.
struct Change {
    name: String,
    value: Option<String>,
}

/// Reads `{"changes": [{"name", "value"}]}`. Every entry is checked before any is applied, so a
/// bad entry anywhere leaves the variables as they were.
fn parse_changes(body: Map<String, Value>) -> Result<Vec<Change>, ApiError> {
    let Some(Value::Array(entries)) = body.get("changes") else {
        return Err(ApiError::convex_bad_request(
            "The field 'changes' must be a list of {name, value} objects.",
        ));
    };
    let mut changes = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let Value::Object(entry) = entry else {
            return Err(ApiError::convex_bad_request(format!(
                "changes[{index}] must be an object with 'name' and 'value'."
            )));
        };
        let name = string_field(entry, "name").map_err(|_| {
            ApiError::convex_bad_request(format!("changes[{index}].name must be a string."))
        })?;
        let value = match entry.get("value") {
            None | Some(Value::Null) => None,
            Some(Value::String(value)) => Some(value.clone()),
            Some(_) => {
                return Err(ApiError::convex_bad_request(format!(
                    "changes[{index}].value must be a string, or null to delete '{name}'."
                )));
            }
        };
        if !is_env_var_name(&name) {
            return Err(ApiError::convex(
                StatusCode::BAD_REQUEST,
                "InvalidEnvironmentVariableName",
                format!(
                    "Environment variable name '{name}' is invalid: a name starts with a letter \
                     or an underscore and has only letters, digits and underscores."
                ),
            ));
        }
        changes.push(Change { name, value });
    }
    Ok(changes)
}

/// `{"changes": [...]}` -> `{}`, once every change is applied and saved. Changes apply in order,
/// so when a name appears twice the later entry wins.
async fn update_environment_variables(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let name = path_name(path)?;
    let changes = json_body(body).and_then(parse_changes);

    shared
        .store
        .mutate(|state| {
            admitted(state, &name, &headers)?;
            let changes = changes?;
            let deployment = state
                .deployment_mut(&name)
                .ok_or_else(|| ApiError::deployment_not_found(&name))?;
            for Change { name, value } in changes {
                match value {
                    Some(value) => deployment.env_vars.insert(name, value),
                    None => deployment.env_vars.remove(&name),
                };
            }
            Ok(())
        })
        .await?;
    Ok(Json(json!({})))
}
