//! The Convex endpoints that authkit-sync uses: the management API, which tells whether a
//! deployment's team has a WorkOS team and provisions a WorkOS environment for a deployment, and
//! each deployment's own API, which reads and writes its environment variables.
//!
//! An environment provisioned here is an ordinary environment of the emulator's state, so its
//! API key works on the WorkOS endpoints of the same emulator, as it would against the real
//! services.
//!
//! Both APIs authenticate in their handlers rather than in the gate, because the deployment a
//! credential must match is named in the body or the path. Their errors are Convex's
//! `{code, message}`, never WorkOS's shapes.

mod deployment;
mod management;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::{BODY_LIMIT, Shared};

/// Whether `path` belongs to Convex: `/api/...` is the management API and `/d/<name>/...` the
/// API of one deployment. WorkOS has no paths under either.
pub(crate) fn owns(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/d/")
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .merge(management::routes())
        .merge(deployment::routes())
}

/// The request body as a JSON object, or Convex's 400 (413 when too large).
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::convex_payload_too_large(BODY_LIMIT)
        } else {
            ApiError::convex_bad_request("The request body could not be read.")
        }
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::convex_bad_request(
            "The request body must be a JSON object.",
        )),
        Err(error) => Err(ApiError::convex_bad_request(format!(
            "The request body is not valid JSON: {error}."
        ))),
    }
}

/// A required string field of a body object.
fn string_field(body: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match body.get(field) {
        Some(Value::String(value)) => Ok(value.clone()),
        None | Some(Value::Null) => Err(ApiError::convex_bad_request(format!(
            "The field '{field}' is required."
        ))),
        Some(_) => Err(ApiError::convex_bad_request(format!(
            "The field '{field}' must be a string."
        ))),
    }
}

/// The deployment name in a request's path.
fn path_name(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(name)| name).map_err(|_| {
        ApiError::convex_bad_request("The deployment name in the path could not be decoded.")
    })
}
