//! A new configuration applied to the running daemon (SIGHUP or
//! `reflector ctl reload`).

use std::sync::Arc;

use reflector_core::session::StopReason;
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::link::{other_configuration_change, Ctl};
use super::peer_setup::{note_default_deny, PeerSetup};
use super::shared::Shared;
use super::tcp::connect_loop;
use super::{EngineReload, ToEngine};
use crate::serve::config::{Config, PeerSpec};
use crate::serve::reload::{self, Stop};
use crate::serve::sock;

/// Apply a new configuration to the running daemon (see [`reload`]); says
/// what changed, or why the configuration was refused.
pub(super) async fn apply(sh: &Arc<Shared>, new: Config) -> Result<String, String> {
    let slots = sh.slots().clone();
    let plan = match reload::plan(&sh.cfg, &slots, &new) {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "new configuration refused: the running one stays");
            return Err(format!(
                "new configuration refused, the running one stays: {e}"
            ));
        }
    };
    if plan.is_empty() {
        info!("configuration unchanged");
        return Ok("configuration unchanged".into());
    }
    note_default_deny(
        &sh.cfg,
        plan.add.iter().chain(plan.policies.iter().map(|c| &c.spec)),
    );
    let first_new = slots.len();
    let job = EngineReload {
        remove: plan.stop.iter().map(|(slot, _)| *slot).collect(),
        add: plan
            .add
            .iter()
            .map(|p| PeerSetup::new(&sh.cfg, p))
            .collect(),
        policies: plan.policies.clone(),
    };
    // The new slots exist before the engine can hear of their connections.
    {
        let mut conns = sh.conns();
        for p in &plan.add {
            conns.push(Vec::new());
            sh.hold_off.push(p);
        }
    }
    let (done_tx, done_rx) = oneshot::channel();
    if sh
        .engine
        .send(ToEngine::Reload(job, done_tx))
        .await
        .is_err()
    {
        return Err("the engine task has stopped".into());
    }
    let _ = done_rx.await;
    {
        let mut slots = sh.slots();
        for (slot, _) in &plan.stop {
            if let Some(s) = slots.get_mut(*slot) {
                *s = None;
            }
        }
        for c in &plan.policies {
            if let Some(s) = slots.get_mut(c.slot) {
                *s = Some(c.spec.clone());
            }
        }
        slots.extend(plan.add.iter().cloned().map(Some));
    }
    let (before, now): (Vec<PeerSpec>, Vec<PeerSpec>) = (
        slots.iter().flatten().cloned().collect(),
        sh.slots().iter().flatten().cloned().collect(),
    );
    for (a, l) in &sh.listeners {
        if let Err(e) = sock::rekey_listener(&**l, *a, &before, &now) {
            warn!(listen = %a, error = %e, "TCP-MD5 keys not updated");
        }
    }
    for (slot, why) in &plan.stop {
        let name = slots.get(*slot).cloned().flatten().map(|p| p.name);
        let conns = sh.conns();
        let links = conns.get(*slot).into_iter().flatten();
        for c in links {
            c.link.control(match why {
                Stop::Deconfigured => Ctl::Stop(StopReason::Deconfigured),
                Stop::Changed => Ctl::Notify(other_configuration_change()),
            });
        }
        match why {
            Stop::Deconfigured => info!(peer = ?name, "peer removed (Cease, Peer De-configured)"),
            Stop::Changed => {
                info!(peer = ?name, "peer settings changed: session restarts (Cease, Other Configuration Change)")
            }
        }
    }
    for c in &plan.policies {
        info!(
            peer = %c.spec.name,
            import = c.import.is_some(),
            export = c.export.is_some(),
            "policies changed: applied to the live session"
        );
    }
    for (k, p) in plan.add.iter().enumerate() {
        info!(peer = %p.name, address = %p.address, "peer added");
        if !p.passive {
            tokio::spawn(connect_loop(sh.clone(), first_new + k));
        }
    }
    info!(
        stopped = plan.stop.len(),
        added = plan.add.len(),
        policies = plan.policies.len(),
        "configuration reloaded"
    );
    Ok(format!(
        "configuration reloaded: {} peers stopped, {} added, {} with new policies",
        plan.stop.len(),
        plan.add.len(),
        plan.policies.len()
    ))
}
