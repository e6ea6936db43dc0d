//! An in-process emulator of the WorkOS API endpoints that authkit-sync uses, and of the Convex
//! endpoints it uses to find WorkOS credentials and provision WorkOS environments.
//!
//! It is the test double of the whole test suite, which talks real HTTP to it, and the backend
//! of `--emulator` and `emulate`, which let someone try the tool without a WorkOS account. It
//! aims to answer as WorkOS does (status codes, error shapes, pagination, rate-limit headers);
//! where WorkOS's behaviour is unknown, the choice made is documented at the code that makes it.
//!
//! It speaks HTTP only and imports nothing from the rest of the crate, so it cannot accidentally
//! share code with the client it is meant to check.
//!
//! Layout: [`Emulator`] starts and stops the server; `gate` authenticates, rate-limits, injects
//! the configured faults and adds the common headers; `faults` decides which request gets which
//! fault and counts requests, and `connection` lets a fault cut a connection; `workos` holds
//! the WorkOS handlers, `convex` the Convex management and deployment handlers, and `control`
//! the emulator-only `/_emulator/...` endpoints; `state` is the data model and its JSON state
//! file; `pagination`, `uri` and `ids` are the pieces the handlers share.
//!
//! The server listens on 127.0.0.1 only: the control endpoints need no key, and nothing about
//! an emulator should be reachable from another machine.

mod connection;
mod control;
mod convex;
mod error;
mod faults;
mod gate;
mod ids;
mod pagination;
mod ratelimit;
mod request;
mod state;
mod uri;
mod workos;

#[cfg(test)]
mod convex_tests;
#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::middleware;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::connection::{Connection, Listener};
use self::error::ApiError;
use self::faults::{Injector, Stats};
use self::gate::Family;
use self::ratelimit::RateLimiter;
use self::state::{DeploymentKind, Store};

pub use self::faults::{Fault, Faults, FaultsError};

/// The largest request body accepted; larger ones get 413. WorkOS's own limit is unknown, and
/// no request this tool makes comes near it.
pub(crate) const BODY_LIMIT: usize = 1 << 20;

/// How long `shutdown` waits for requests in flight before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long a request hit by the `slow` fault waits by default: longer than any client should
/// wait for an answer.
pub const DEFAULT_SLOW_DELAY: Duration = Duration::from_secs(60);

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// The loopback port to listen on; 0 picks any free port.
    pub port: u16,
    /// Where to keep the state between runs. A missing file starts a fresh state; the file is
    /// rewritten after every change and at shutdown.
    pub state_file: Option<PathBuf>,
    /// Requests allowed per API key per 60-second window; `None` means WorkOS's 6,000.
    pub rate_limit: Option<u32>,
    /// Behave like an older WorkOS API: no list endpoints and no homepage setter (404).
    pub legacy: bool,
    /// Make `POST /api/workos/get_or_provision_workos_environment` fail with this HTTP status
    /// (code `InternalServerError` for 5xx, `BadRequest` otherwise) once the request is
    /// authenticated, well formed and names a known deployment, whether or not an environment
    /// exists, to test how a client handles a provisioning failure. Nothing is provisioned
    /// while it is set; a number that is no HTTP status gives 500.
    pub fail_provisioning: Option<u16>,
    /// Faults to inject into WorkOS and Convex requests, each with its chance per request.
    pub faults: Faults,
    /// Which faults come in which order: the same seed gives the same sequence.
    pub seed: u64,
    /// Added to every WorkOS and Convex answer, faulted or not.
    pub latency: Duration,
    /// How long the `slow` fault holds a request before serving it.
    pub slow_delay: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 0,
            state_file: None,
            rate_limit: None,
            legacy: false,
            fail_provisioning: None,
            faults: Faults::default(),
            seed: 0,
            latency: Duration::ZERO,
            slow_delay: DEFAULT_SLOW_DELAY,
        }
    }
}

/// What the request handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    store: Store,
    limiter: RateLimiter,
    fail_provisioning: Option<u16>,
    injector: Injector,
    stats: Stats,
    /// Set when the emulator stops, to release requests held by the `slow` fault.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// A running emulator. Dropping it stops the server too, but only [`Emulator::shutdown`] waits
/// for the server to finish and writes the state file a last time.
#[derive(Debug)]
pub struct Emulator {
    url: String,
    api_key: String,
    client_id: String,
    environment_id: String,
    convex: ConvexCredentials,
    shared: Arc<Shared>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Emulator {
    /// Binds 127.0.0.1:`port`, loads the state file if it exists (a missing file means a fresh
    /// state: one sandbox environment, one Convex team with a dev and a prod deployment; a
    /// malformed file is an error naming the file and the problem) and serves in a background
    /// task.
    pub async fn start(config: Config) -> anyhow::Result<Emulator> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", config.port))?;
        let address = listener
            .local_addr()
            .context("cannot read the emulator's listening address")?;

        let store = Store::open(config.state_file).await?;
        let credentials = store
            .read(|state| {
                let environment = state.default_environment()?;
                Some((
                    environment.id.clone(),
                    environment.client_id.clone(),
                    environment.api_keys.first()?.clone(),
                ))
            })
            .await;
        // Loading validates that the first environment has a key; this only guards the code.
        let (environment_id, client_id, api_key) = credentials
            .ok_or_else(|| anyhow!("the emulator state has no environment with a key"))?;
        let convex = store
            .read(|state| {
                let dev = state.first_deployment(DeploymentKind::Dev)?;
                let prod = state.first_deployment(DeploymentKind::Prod)?;
                Some(ConvexCredentials {
                    deployment_name: dev.name.clone(),
                    admin_key: dev.admin_key.clone(),
                    prod_deployment_name: prod.name.clone(),
                    prod_admin_key: prod.admin_key.clone(),
                    access_token: state.access_tokens.first()?.clone(),
                })
            })
            .await
            // Loading validates these too.
            .ok_or_else(|| {
                anyhow!("the emulator state lacks a dev or prod deployment or an access token")
            })?;

        let limit = config.rate_limit.unwrap_or(ratelimit::DEFAULT_LIMIT);
        let shared = Arc::new(Shared {
            store,
            limiter: RateLimiter::new(limit),
            fail_provisioning: config.fail_provisioning,
            injector: Injector::new(
                config.faults,
                config.seed,
                config.latency,
                config.slow_delay,
            ),
            stats: Stats::default(),
            stopping: tokio::sync::watch::Sender::new(false),
        });
        let app = router(Arc::clone(&shared), config.legacy)
            .into_make_service_with_connect_info::<Connection>();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(Listener(listener), app)
                .with_graceful_shutdown(async move {
                    // Either an explicit stop or the sender being dropped with the Emulator.
                    let _ = stopped.await;
                })
                .await
        });

        let url = format!("http://{address}");
        tracing::debug!(url, "WorkOS emulator listening");
        Ok(Emulator {
            url,
            api_key,
            client_id,
            environment_id,
            convex,
            shared,
            stop,
            server,
        })
    }

    /// The base URL to use instead of `https://api.workos.com`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The API key of the default environment (`sk_test_emulator_default` in a fresh state).
    /// Like the other accessors, it describes the state the emulator started with; after
    /// `POST /_emulator/reset` on an emulator loaded from a file, the fresh state's values
    /// apply instead.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The client id (`client_...`) of the default environment.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The id (`environment_...`) of the default environment.
    pub fn environment_id(&self) -> &str {
        &self.environment_id
    }

    /// The name of the dev deployment (`happy-otter-123` in a fresh state): the first deployment
    /// of kind `dev`.
    pub fn deployment_name(&self) -> &str {
        &self.convex.deployment_name
    }

    /// The URL of the dev deployment's API, e.g. `http://127.0.0.1:41234/d/happy-otter-123`,
    /// to use where Convex would give `https://happy-otter-123.convex.cloud`.
    pub fn deployment_url(&self) -> String {
        format!("{}/d/{}", self.url, self.convex.deployment_name)
    }

    /// The dev deployment's admin key (`dev:happy-otter-123|emulator-admin-key` when fresh),
    /// for `Authorization: Convex <key>` on its API, or as a deploy key on the management API.
    pub fn admin_key(&self) -> &str {
        &self.convex.admin_key
    }

    /// The name of the prod deployment (`brave-fox-456` in a fresh state).
    pub fn prod_deployment_name(&self) -> &str {
        &self.convex.prod_deployment_name
    }

    /// The prod deployment's admin key (`prod:brave-fox-456|emulator-admin-key` when fresh).
    pub fn prod_admin_key(&self) -> &str {
        &self.convex.prod_admin_key
    }

    /// A management API access token (`emulator-access-token` when fresh), which may act on
    /// every deployment.
    pub fn access_token(&self) -> &str {
        &self.convex.access_token
    }

    /// Stops serving and returns once the state file (if any) is written.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let Emulator {
            shared,
            stop,
            mut server,
            ..
        } = self;

        // The receiver is gone only if the server already ended, which the join reports.
        shared.stopping.send_replace(true);
        let _ = stop.send(());
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => return Err(error).context("the emulator server failed"),
            Ok(Err(error)) => return Err(error).context("the emulator server task failed"),
            Err(_elapsed) => {
                // A client keeps a request open; the state is consistent anyway, because
                // every change is applied and saved under one lock.
                server.abort();
            }
        }

        shared.store.flush().await?;
        Ok(())
    }
}

/// The Convex credentials the emulator started with; see the accessors of [`Emulator`].
#[derive(Debug)]
struct ConvexCredentials {
    deployment_name: String,
    admin_key: String,
    prod_deployment_name: String,
    prod_admin_key: String,
    access_token: String,
}

/// All routes, behind the gate. The gate wraps the finished router as one service, not each
/// route (which is what `Router::layer` on the inner router would do): only then does it see
/// every answer exactly as sent, including 404s, wrong methods and body-limit refusals, after
/// the router has added its own headers (such as `Allow`).
fn router(shared: Arc<Shared>, legacy: bool) -> Router {
    let routes = Router::new()
        .merge(workos::routes(legacy))
        .merge(convex::routes())
        .merge(control::routes())
        .fallback(not_found)
        .with_state(Arc::clone(&shared));
    Router::new()
        .fallback_service(routes)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(shared, gate::gate))
}

/// An unknown path, answered in the shape of the API family it falls in.
async fn not_found(uri: Uri) -> ApiError {
    match Family::of(uri.path()) {
        Family::Convex => ApiError::convex_not_found(),
        Family::Control | Family::WorkOs => ApiError::not_found(),
    }
}
