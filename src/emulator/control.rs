//! Endpoints that exist only in the emulator, never in WorkOS, for tests and for people
//! exploring the tool: `GET /_emulator/state` returns the whole state (the state file's
//! document), `GET /_emulator/stats` counts the WorkOS and Convex requests received (per
//! method and path, and per injected fault), and `POST /_emulator/reset` restores the fresh
//! default state and zeroes the counts.
//!
//! They need no API key and are not rate limited, so a test can always look behind the API it
//! is exercising. The emulator listens on loopback only, which is what makes that acceptable.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::Shared;
use super::error::ApiError;
use super::faults::Counts;
use super::state::State as EmulatorState;

const PREFIX: &str = "/_emulator/";

/// Whether `path` belongs to the control endpoints (and so skips authentication).
pub(crate) fn owns(path: &str) -> bool {
    path.starts_with(PREFIX)
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/state", get(state))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/reset", post(reset))
}

async fn state(State(shared): State<Arc<Shared>>) -> Json<EmulatorState> {
    Json(shared.store.snapshot().await)
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<Counts> {
    Json(shared.stats.snapshot())
}

/// Restores the fresh state (written to the state file, if any) and forgets rate-limit
/// windows, so a test starts from a clean emulator without restarting it. Answers with the
/// new state.
async fn reset(State(shared): State<Arc<Shared>>) -> Result<Json<EmulatorState>, ApiError> {
    let fresh = shared
        .store
        .mutate(|state| {
            *state = EmulatorState::fresh();
            Ok(state.clone())
        })
        .await?;
    shared.limiter.clear();
    shared.stats.clear();
    Ok(Json(fresh))
}
