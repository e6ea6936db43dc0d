//! `emulate`: the embedded emulator as a standalone server.

use crate::cli::{EmulateArgs, FaultArgs};
use crate::emulator::Emulator;

use super::{Exit, emit, emulator_config};

pub async fn emulate(args: EmulateArgs, faults: &FaultArgs) -> anyhow::Result<Exit> {
    let config = emulator_config(args.port, args.state, faults);
    let injected = (!config.faults.is_empty()).then(|| {
        format!(
            "Injecting faults {} (seed {}).\n",
            config.faults, config.seed
        )
    });
    let emulator = Emulator::start(config).await?;
    if args.json {
        let line = serde_json::json!({
            "url": emulator.url(),
            "apiKey": emulator.api_key(),
            "clientId": emulator.client_id(),
            "deploymentUrl": emulator.deployment_url(),
            "adminKey": emulator.admin_key(),
            "accessToken": emulator.access_token(),
        });
        emit(&format!("{line}\n"))?;
    } else {
        emit(&format!(
            "WorkOS and Convex emulator listening on {url}\n\
             WorkOS:\n  WORKOS_API_URL={url}\n  WORKOS_CLIENT_ID={}\n  WORKOS_API_KEY={}\n\
             Convex (deployment {}):\n  CONVEX_URL={}\n  CONVEX_DEPLOY_KEY={}\n  \
             CONVEX_PROVISION_HOST={url}\n{}Stop with Ctrl-C.\n",
            emulator.client_id(),
            emulator.api_key(),
            emulator.deployment_name(),
            emulator.deployment_url(),
            emulator.admin_key(),
            injected.unwrap_or_default(),
            url = emulator.url(),
        ))?;
    }
    wait_for_stop().await;
    emulator.shutdown().await?;
    Ok(Exit::Ok)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
