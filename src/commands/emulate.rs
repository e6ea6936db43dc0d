//! `emulate`: the embedded emulator as a standalone server.

use crate::cli::EmulateArgs;
use crate::emulator::{self, Emulator};

use super::{Exit, emit};

pub async fn emulate(args: EmulateArgs) -> anyhow::Result<Exit> {
    let config = emulator::Config {
        port: args.port,
        state_file: args.state,
        ..Default::default()
    };
    let emulator = Emulator::start(config).await?;
    if args.json {
        let line = serde_json::json!({
            "url": emulator.url(),
            "apiKey": emulator.api_key(),
            "clientId": emulator.client_id(),
        });
        emit(&format!("{line}\n"))?;
    } else {
        emit(&format!(
            "WorkOS emulator listening on {url}\n  WORKOS_API_URL={url}\n  WORKOS_CLIENT_ID={}\n  \
             WORKOS_API_KEY={}\nStop with Ctrl-C.\n",
            emulator.client_id(),
            emulator.api_key(),
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
