//! The WorkOS AuthKit configuration endpoints: redirect URIs, CORS origins and the app
//! homepage URL of the environment that the caller's API key belongs to.
//!
//! Status codes, error codes and bodies follow what WorkOS is known to send (see the project's
//! WorkOS API reference); where WorkOS's answer is unknown, the choice is noted at the handler.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use serde_json::{Value, json};

use super::Shared;
use super::error::ApiError;
use super::ids;
use super::pagination::{ListEnvelope, PageRequest, paginate};
use super::request::{Caller, json_object, path_id, query_pairs, string_field};
use super::state::{CorsOrigin, Environment, RedirectUri, State as EmulatorState};
use super::uri::{self, OriginProblem};

/// The routes this module serves; the gate has authenticated every request that reaches them.
///
/// `legacy` leaves out what older WorkOS API versions (and WorkOS's own emulator) lack: the
/// list endpoints and the homepage setter, which then answer 404 like any unknown path.
pub(crate) fn routes(legacy: bool) -> Router<Arc<Shared>> {
    let (redirect_uris, cors_origins) = if legacy {
        (
            get(missing_endpoint).post(create_redirect_uri),
            get(missing_endpoint).post(create_cors_origin),
        )
    } else {
        (
            get(list_redirect_uris).post(create_redirect_uri),
            get(list_cors_origins).post(create_cors_origin),
        )
    };
    let router = Router::new()
        .route("/user_management/redirect_uris", redirect_uris)
        .route(
            "/user_management/redirect_uris/{id}",
            delete(delete_redirect_uri),
        )
        .route("/user_management/cors_origins", cors_origins)
        .route(
            "/user_management/cors_origins/{id}",
            delete(delete_cors_origin),
        );
    if legacy {
        router
    } else {
        router.route(
            "/user_management/app_homepage_url",
            put(put_app_homepage_url),
        )
    }
}

/// A GET on a path whose POST exists: older servers answer 404, as for an unknown path.
async fn missing_endpoint() -> ApiError {
    ApiError::not_found()
}

type Created = (StatusCode, Json<Value>);

/// The caller's environment. The gate checked the key, but a reset between the check and this
/// lookup can remove it, and then the honest answer is the same 401.
fn environment<'a>(state: &'a EmulatorState, caller: &Caller) -> Result<&'a Environment, ApiError> {
    state
        .environment_by_key(caller.api_key())
        .ok_or_else(ApiError::unauthorized)
}

fn environment_mut<'a>(
    state: &'a mut EmulatorState,
    caller: &Caller,
) -> Result<&'a mut Environment, ApiError> {
    state
        .environment_by_key_mut(caller.api_key())
        .ok_or_else(ApiError::unauthorized)
}

fn redirect_uri_json(item: &RedirectUri) -> Value {
    json!({
        "object": "redirect_uri",
        "id": item.id,
        "uri": item.uri,
        "default": item.default,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    })
}

fn cors_origin_json(item: &CorsOrigin) -> Value {
    json!({
        "object": "cors_origin",
        "id": item.id,
        "origin": item.origin,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    })
}

async fn list_redirect_uris(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<ListEnvelope>, ApiError> {
    let page = PageRequest::from_query(&query_pairs(query)?)?;
    let envelope = shared
        .store
        .read(|state| {
            let environment = environment(state, &caller)?;
            Ok::<_, ApiError>(paginate(
                &environment.redirect_uris,
                |item| item.id.as_str(),
                &page,
                redirect_uri_json,
            ))
        })
        .await?;
    Ok(Json(envelope))
}

/// Creates a redirect URI. The first one in an environment becomes the default, unless it has
/// a wildcard: WorkOS does not allow a wildcard default. "First" means the environment has no
/// redirect URI at all; deleting the default does not promote another one.
async fn create_redirect_uri(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Created, ApiError> {
    let uri = string_field(&json_object(body)?, "uri")?;
    uri::check_redirect_uri(&uri, caller.is_production()).map_err(|problem| {
        ApiError::invalid_redirect_uri(format!("Redirect URI '{uri}' is invalid: {problem}."))
    })?;

    let created = shared
        .store
        .mutate(|state| {
            let environment = environment_mut(state, &caller)?;
            // WorkOS matches duplicates as exact strings; so does the emulator.
            if environment.redirect_uris.iter().any(|item| item.uri == uri) {
                return Err(ApiError::redirect_uri_exists(&uri));
            }
            let now = ids::timestamp_now();
            let item = RedirectUri {
                id: ids::new_id("redirect_uri_"),
                default: environment.redirect_uris.is_empty() && !uri.contains('*'),
                uri,
                created_at: now.clone(),
                updated_at: now,
            };
            environment.redirect_uris.push(item.clone());
            Ok(item)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(redirect_uri_json(&created))))
}

async fn delete_redirect_uri(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(path)?;
    shared
        .store
        .mutate(|state| {
            let items = &mut environment_mut(state, &caller)?.redirect_uris;
            let index = items
                .iter()
                .position(|item| item.id == id)
                .ok_or_else(|| ApiError::entity_not_found("Redirect URI"))?;
            items.remove(index);
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_cors_origins(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<ListEnvelope>, ApiError> {
    let page = PageRequest::from_query(&query_pairs(query)?)?;
    let envelope = shared
        .store
        .read(|state| {
            let environment = environment(state, &caller)?;
            Ok::<_, ApiError>(paginate(
                &environment.cors_origins,
                |item| item.id.as_str(),
                &page,
                cors_origin_json,
            ))
        })
        .await?;
    Ok(Json(envelope))
}

async fn create_cors_origin(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Created, ApiError> {
    let origin = string_field(&json_object(body)?, "origin")?;
    uri::check_origin(&origin, caller.is_production()).map_err(|problem| match problem {
        OriginProblem::NotAnOrigin => {
            ApiError::invalid_cors_origin("isOrigin", "origin must be a valid origin")
        }
        // WorkOS's exact wording here is unknown; the shape matches its other CORS failures.
        OriginProblem::NotProductionSafe => ApiError::invalid_cors_origin(
            "isProductionOrigin",
            "origin must use https and must not be localhost in a production environment",
        ),
    })?;

    let created = shared
        .store
        .mutate(|state| {
            let environment = environment_mut(state, &caller)?;
            if environment
                .cors_origins
                .iter()
                .any(|item| item.origin == origin)
            {
                return Err(ApiError::duplicate_cors_origin());
            }
            let now = ids::timestamp_now();
            let item = CorsOrigin {
                id: ids::new_id("cors_origin_"),
                origin,
                created_at: now.clone(),
                updated_at: now,
            };
            environment.cors_origins.push(item.clone());
            Ok(item)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(cors_origin_json(&created))))
}

async fn delete_cors_origin(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(path)?;
    shared
        .store
        .mutate(|state| {
            let items = &mut environment_mut(state, &caller)?.cors_origins;
            let index = items
                .iter()
                .position(|item| item.id == id)
                .ok_or_else(|| ApiError::entity_not_found("CORS origin"))?;
            items.remove(index);
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the app homepage URL. WorkOS's success answer is unverified; the emulator answers 200
/// with `{"object": "app_homepage_url", "url": ...}`. There is no GET, as in WorkOS; tests read
/// the value through `/_emulator/state`.
async fn put_app_homepage_url(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let url = string_field(&json_object(body)?, "url")?;
    uri::check_homepage_url(&url, caller.is_production()).map_err(|problem| {
        ApiError::invalid_parameter(
            format!("url '{url}' is invalid: {problem}."),
            "url",
            "invalid",
        )
    })?;

    shared
        .store
        .mutate(|state| {
            environment_mut(state, &caller)?.app_homepage_url = Some(url.clone());
            Ok(())
        })
        .await?;
    Ok(Json(json!({"object": "app_homepage_url", "url": url})))
}
