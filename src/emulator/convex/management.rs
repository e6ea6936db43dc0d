//! Convex's management API, as the WorkOS integration of the Convex CLI uses it: whether a
//! deployment's team has a WorkOS team, getting or provisioning the WorkOS environment of a
//! deployment, and that environment's health.
//!
//! A request carries `Authorization: Bearer <token>`, where the token is an access token, which
//! may act on every deployment, or a deployment's admin key (a deploy key), which may act on
//! that deployment only. An unknown token is refused before the body is read; a deploy key
//! that names another deployment is refused as unknown too, whether that deployment exists or
//! not, so a key cannot be used to find out which deployments exist.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::super::Shared;
use super::super::error::ApiError;
use super::super::ids;
use super::super::request::authorization;
use super::super::state::{Deployment, Environment, State as EmulatorState};
use super::{json_body, path_name, string_field};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/api/workos/has_associated_workos_team",
            post(has_associated_workos_team),
        )
        .route(
            "/api/workos/get_or_provision_workos_environment",
            post(get_or_provision_workos_environment),
        )
        .route(
            "/api/deployments/{name}/workos_environment_health",
            get(workos_environment_health),
        )
}

/// What a known token may act on.
enum Grant {
    Everything,
    Deployment(String),
}

/// Who `token` is: an access token or a deployment's admin key; anything else is 401.
fn authenticate(state: &EmulatorState, token: Option<&str>) -> Result<Grant, ApiError> {
    let token = token.ok_or_else(ApiError::convex_unauthenticated)?;
    if state.access_tokens.iter().any(|known| known == token) {
        return Ok(Grant::Everything);
    }
    state
        .deployments
        .iter()
        .find(|deployment| deployment.admin_key == token)
        .map(|deployment| Grant::Deployment(deployment.name.clone()))
        .ok_or_else(ApiError::convex_unauthenticated)
}

/// The deployment called `name`, if `token` may act on it.
fn authorized_deployment<'a>(
    state: &'a EmulatorState,
    token: Option<&str>,
    name: &str,
) -> Result<&'a Deployment, ApiError> {
    match authenticate(state, token)? {
        Grant::Everything => {}
        Grant::Deployment(own) if own == name => {}
        Grant::Deployment(_) => return Err(ApiError::convex_unauthenticated()),
    }
    state
        .deployment(name)
        .ok_or_else(|| ApiError::deployment_not_found(name))
}

/// The token of the request, checked against the state before the body is looked at.
async fn bearer<'a>(shared: &Shared, headers: &'a HeaderMap) -> Result<Option<&'a str>, ApiError> {
    let token = authorization(headers, "Bearer");
    shared
        .store
        .read(|state| authenticate(state, token).map(drop))
        .await?;
    Ok(token)
}

/// `{deploymentName}` -> `{hasAssociatedWorkosTeam, teamId}` for the deployment's team.
async fn has_associated_workos_team(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = bearer(&shared, &headers).await?;
    let name = string_field(&json_body(body)?, "deploymentName")?;

    let answer = shared
        .store
        .read(|state| {
            let deployment = authorized_deployment(state, token, &name)?;
            let team = state
                .team(deployment.team_id)
                .ok_or_else(|| missing_team(deployment))?;
            Ok::<_, ApiError>(json!({
                "hasAssociatedWorkosTeam": team.workos_team_id.is_some(),
                "teamId": team.id,
            }))
        })
        .await?;
    Ok(Json(answer))
}

/// `{deploymentName, environmentType}` -> the deployment's WorkOS environment, created on the
/// first call and the same one on every later call (`newlyProvisioned` tells which).
///
/// `environmentType` decides the kind of API key (`sk_live_` for `production`, `sk_test_` for
/// `nonproduction`) whatever the deployment's kind, since the Convex CLI maps a prod deployment
/// to either. Once an environment exists, the type of later calls is not compared with it: the
/// answer is the environment the deployment has. Provisioning only creates the environment;
/// writing its credentials into the deployment's variables is the client's job, as in Convex.
async fn get_or_provision_workos_environment(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = bearer(&shared, &headers).await?;
    let body = json_body(body)?;
    let name = string_field(&body, "deploymentName")?;
    let production = match string_field(&body, "environmentType")?.as_str() {
        "production" => true,
        "nonproduction" => false,
        other => {
            return Err(ApiError::convex_bad_request(format!(
                "The field 'environmentType' must be 'production' or 'nonproduction', got \
                 '{other}'."
            )));
        }
    };

    let existing = shared
        .store
        .read(|state| {
            let deployment = authorized_deployment(state, token, &name)?;
            Ok::<_, ApiError>(provisioned(state, deployment).map(|e| provision_answer(e, false)))
        })
        .await?;
    // The injected failure stands where provisioning would happen: after the request has been
    // judged valid, and whether or not an environment exists.
    if let Some(status) = shared.fail_provisioning {
        return Err(injected_failure(status));
    }
    if let Some(answer) = existing {
        return Ok(Json(answer));
    }

    let answer = shared
        .store
        .mutate(|state| {
            let deployment = authorized_deployment(state, token, &name)?;
            // Another request may have provisioned it since the read above.
            if let Some(environment) = provisioned(state, deployment) {
                return Ok(provision_answer(environment, false));
            }
            let team = state
                .team(deployment.team_id)
                .ok_or_else(|| missing_team(deployment))?;
            if team.workos_team_id.is_none() {
                return Err(ApiError::convex(
                    StatusCode::BAD_REQUEST,
                    "WorkosTeamNotAssociated",
                    format!(
                        "Team '{}' has no WorkOS team associated with it; associate one \
                         before provisioning an environment for '{name}'.",
                        team.name
                    ),
                ));
            }

            let environment = new_environment(deployment, production);
            let answer = provision_answer(&environment, true);
            let id = environment.id.clone();
            state.environments.push(environment);
            if let Some(deployment) = state.deployment_mut(&name) {
                deployment.workos_environment_id = Some(id);
            }
            Ok(answer)
        })
        .await?;
    Ok(Json(answer))
}

/// `GET` -> `{id, name, clientId}` of the deployment's environment, or 404 when there is none.
async fn workos_environment_health(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = bearer(&shared, &headers).await?;
    let name = path_name(path)?;

    let answer = shared
        .store
        .read(|state| {
            let deployment = authorized_deployment(state, token, &name)?;
            let environment = provisioned(state, deployment).ok_or_else(|| {
                ApiError::convex(
                    StatusCode::NOT_FOUND,
                    "WorkOSEnvironmentNotProvisioned",
                    format!("No WorkOS environment has been provisioned for '{name}'."),
                )
            })?;
            Ok::<_, ApiError>(json!({
                "id": environment.id,
                "name": environment.name,
                "clientId": environment.client_id,
            }))
        })
        .await?;
    Ok(Json(answer))
}

/// The environment linked to `deployment`, if it has one.
fn provisioned<'a>(state: &'a EmulatorState, deployment: &Deployment) -> Option<&'a Environment> {
    let id = deployment.workos_environment_id.as_deref()?;
    state.environment_by_id(id)
}

/// A new, empty environment for `deployment`, named like `happy-otter-123 dev`.
fn new_environment(deployment: &Deployment, production: bool) -> Environment {
    let key_prefix = if production { "sk_live_" } else { "sk_test_" };
    Environment {
        id: ids::new_id("environment_"),
        name: format!("{} {}", deployment.name, deployment.kind.as_str()),
        client_id: ids::new_id("client_"),
        api_keys: vec![ids::new_secret(key_prefix)],
        redirect_uris: Vec::new(),
        cors_origins: Vec::new(),
        app_homepage_url: None,
    }
}

fn provision_answer(environment: &Environment, newly_provisioned: bool) -> Value {
    json!({
        "environmentId": environment.id,
        "environmentName": environment.name,
        "clientId": environment.client_id,
        // Validation guarantees every environment a key.
        "apiKey": environment.api_keys.first().map(String::as_str).unwrap_or_default(),
        "newlyProvisioned": newly_provisioned,
    })
}

/// A deployment whose team is gone; validation rules it out, and no request removes a team.
fn missing_team(deployment: &Deployment) -> ApiError {
    ApiError::convex(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        format!(
            "Deployment '{}' belongs to team {}, which does not exist.",
            deployment.name, deployment.team_id
        ),
    )
}

/// The answer `Config::fail_provisioning` asks for. A number that is no HTTP status gives 500.
fn injected_failure(status: u16) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = if status.is_server_error() {
        "InternalServerError"
    } else {
        "BadRequest"
    };
    ApiError::convex(
        status,
        code,
        format!("Provisioning failed: the emulator is set to answer {status} here."),
    )
}
