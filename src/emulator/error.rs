//! The error answers the emulator sends, each in the shape WorkOS uses for that case.
//!
//! WorkOS is not uniform: most errors are `{message, code}`, parameter problems add an `errors`
//! list of `{field, code}`, and the CORS endpoint answers validation failures in a
//! class-validator style `{message, errors: [{property, constraints}]}`. Clients are expected
//! to read these loosely, and the emulator reproduces the variety on purpose so that they are
//! tested against it.
//!
//! Convex's management and deployment APIs are uniform: every error is `{code, message}` with
//! a PascalCase code. Their constructors start with `convex`, or name a Convex-only case.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A status and JSON body to answer with instead of the normal result.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }

    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Unauthorized", "code": "unauthorized"}),
        )
    }

    pub(crate) fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "Too many requests", "code": "rate_limit_exceeded"}),
        )
    }

    pub(crate) fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            json!({"message": "Not Found", "code": "not_found"}),
        )
    }

    /// An id in the path that names no object of the key's environment. `what` is the
    /// capitalised resource name, e.g. "Redirect URI".
    pub(crate) fn entity_not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            json!({"message": format!("{what} not found"), "code": "entity_not_found"}),
        )
    }

    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({
                "message": format!("Request body is larger than {limit} bytes"),
                "code": "payload_too_large",
            }),
        )
    }

    /// The body could not be parsed as JSON at all (an empty body included). Code and message
    /// are those of WorkOS's official emulator; production's are not documented.
    pub(crate) fn invalid_json() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            json!({"message": "Problems parsing JSON", "code": "invalid_request_body"}),
        )
    }

    /// The request is malformed in a way no single parameter explains (an unreadable body, an
    /// undecodable query string or path).
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            json!({"message": message.into(), "code": "invalid_request"}),
        )
    }

    /// One named parameter is missing, of the wrong type or out of range.
    pub(crate) fn invalid_parameter(message: impl Into<String>, field: &str, code: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "code": "invalid_request_parameters",
                "message": message.into(),
                "errors": [{"field": field, "code": code}],
            }),
        )
    }

    pub(crate) fn redirect_uri_exists(uri: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "message": format!("Redirect URI '{uri}' already exists."),
                "code": "redirect_uri_already_exists",
            }),
        )
    }

    pub(crate) fn invalid_redirect_uri(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"code": "invalid_redirect_uri", "message": message.into()}),
        )
    }

    pub(crate) fn duplicate_cors_origin() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            json!({"code": "duplicate_cors_origin", "message": "CORS origin already exists."}),
        )
    }

    /// A CORS origin that fails validation, in the class-validator shape the CORS endpoint
    /// uses: `constraint` names the failed rule and `explanation` says what was expected.
    pub(crate) fn invalid_cors_origin(constraint: &str, explanation: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "message": "Validation failed.",
                "errors": [{"property": "origin", "constraints": {constraint: explanation}}],
            }),
        )
    }

    /// Something on the emulator's side failed (only writing the state file can).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": message.into(), "code": "internal_error"}),
        )
    }
}

impl ApiError {
    /// A Convex error answer: `{"code": code, "message": message}`.
    pub(crate) fn convex(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self::new(status, json!({"code": code, "message": message.into()}))
    }

    /// A request Convex cannot make sense of: an unreadable body, a missing or ill-typed field.
    pub(crate) fn convex_bad_request(message: impl Into<String>) -> Self {
        Self::convex(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// A management API request without a token that may act on the deployment it names.
    pub(crate) fn convex_unauthenticated() -> Self {
        Self::convex(
            StatusCode::UNAUTHORIZED,
            "Unauthenticated",
            "The access token or deploy key is missing, unknown, or not valid for this \
             deployment.",
        )
    }

    /// A deployment API request without the deployment's admin key.
    pub(crate) fn bad_admin_key() -> Self {
        Self::convex(
            StatusCode::UNAUTHORIZED,
            "BadAdminKey",
            "The provided admin key was invalid for this deployment.",
        )
    }

    pub(crate) fn deployment_not_found(name: &str) -> Self {
        Self::convex(
            StatusCode::NOT_FOUND,
            "DeploymentNotFound",
            format!("Deployment '{name}' not found."),
        )
    }

    pub(crate) fn convex_not_found() -> Self {
        Self::convex(StatusCode::NOT_FOUND, "NotFound", "No such endpoint.")
    }

    pub(crate) fn convex_method_not_allowed() -> Self {
        Self::convex(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "This endpoint does not accept this method.",
        )
    }

    pub(crate) fn convex_payload_too_large(limit: usize) -> Self {
        Self::convex(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            format!("Request body is larger than {limit} bytes."),
        )
    }
}

impl ApiError {
    /// The answer of an injected fault (see `faults`): 429 in the rate-limit shape, a 5xx in
    /// the shape of a server failure, each in the shape of its API family.
    pub(crate) fn injected(status: StatusCode, convex: bool) -> Self {
        let reason = status.canonical_reason().unwrap_or("Server error");
        match (status, convex) {
            (StatusCode::TOO_MANY_REQUESTS, false) => Self::rate_limited(),
            (StatusCode::TOO_MANY_REQUESTS, true) => {
                Self::convex(status, "RateLimited", "Too many requests; retry later.")
            }
            (_, false) => Self::new(
                status,
                json!({"message": format!("{reason} (injected fault)"), "code": "server_error"}),
            ),
            (_, true) => Self::convex(
                status,
                "InternalServerError",
                format!("{reason} (injected fault)"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
