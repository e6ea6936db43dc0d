//! What handlers take from a request: the credential and the authenticated caller, the JSON
//! body and its fields, the query and path parameters, each turned into WorkOS's error answers
//! when malformed.
//!
//! Handlers accept axum's extractors as `Result`s and pass the rejections through here, because
//! axum's own rejections are plain text and WorkOS clients expect JSON on every error.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::BODY_LIMIT;
use super::error::ApiError;
use super::state::is_production_key;

/// The API key that authenticated the request; the gate puts it in the request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    api_key: String,
}

impl Caller {
    pub(crate) fn new(api_key: &str) -> Self {
        Self {
            api_key: api_key.to_owned(),
        }
    }

    pub(crate) fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Production environments apply stricter URL rules.
    pub(crate) fn is_production(&self) -> bool {
        is_production_key(&self.api_key)
    }
}

/// The credential of `Authorization: <scheme> <credential>`. The scheme name is
/// case-insensitive, as HTTP says; anything else (no header, another scheme, an empty
/// credential) is no credential at all.
pub(crate) fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (given, credential) = value.split_once(' ')?;
    let credential = credential.trim();
    (given.eq_ignore_ascii_case(scheme) && !credential.is_empty()).then_some(credential)
}

/// The request body as a JSON object. The `Content-Type` header is not checked: clients that
/// forget it still send JSON, and refusing them would test nothing useful.
///
/// JSON that is not an object (an array, a string, `null`) reads as an object without fields,
/// so the handler's first required field is reported missing (422). WorkOS's official emulator
/// answers that way; a 400 would be as plausible, but nothing contradicts the 422.
pub(crate) fn json_object(
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(BODY_LIMIT)
        } else {
            ApiError::invalid_request("The request body could not be read.")
        }
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Err(_) => Err(ApiError::invalid_json()),
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Ok(Map::new()),
    }
}

/// A required string field of a body object. An empty string counts as missing, as in WorkOS's
/// official emulator: it is never a valid value for any field the emulator reads.
pub(crate) fn string_field(body: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match body.get(field) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        None | Some(Value::Null) | Some(Value::String(_)) => Err(ApiError::invalid_parameter(
            format!("{field} is required."),
            field,
            "required",
        )),
        Some(_) => Err(ApiError::invalid_parameter(
            format!("{field} must be a string."),
            field,
            "invalid_type",
        )),
    }
}

/// The decoded query pairs, in order.
pub(crate) fn query_pairs(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|_| ApiError::invalid_request("The query string could not be decoded."))
}

/// The single `{id}` segment of a path.
pub(crate) fn path_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|_| ApiError::invalid_request("The id in the path could not be decoded."))
}
