//! What every task of the daemon shares: the peer slots, their connections,
//! the engine's queue, and the control socket's view of them.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use reflector_core::session::StopReason;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};

use super::hold_off::HoldOff;
use super::link::{Ctl, Link};
use super::ToEngine;
use crate::serve::bmp;
use crate::serve::config::{Config, PeerSpec};
use crate::serve::control::{self, MainJob};
use crate::serve::status::{PeerStatus, Statuses};

pub(super) struct ConnEntry {
    pub(super) id: u64,
    pub(super) outbound: bool,
    pub(super) remote_id: Option<u32>,
    pub(super) established: bool,
    pub(super) link: Arc<Link>,
}

pub(super) struct Shared {
    /// The global settings (its `peers` are in `slots`).
    pub(super) cfg: Config,
    /// Every peer ever configured, by slot (`None` once removed by a reload):
    /// connections, the engine task and the hold-offs use the slot number.
    pub(super) slots: Mutex<Vec<Option<PeerSpec>>>,
    pub(super) start: Instant,
    pub(super) conns: Mutex<Vec<Vec<ConnEntry>>>,
    pub(super) next_conn: AtomicU64,
    pub(super) engine: mpsc::Sender<ToEngine>,
    /// The input budget ([`ENGINE_INPUT`](super::ENGINE_INPUT) bytes) shared by every connection.
    pub(super) input: Arc<Semaphore>,
    pub(super) hold_off: Arc<HoldOff>,
    pub(super) shutdown: watch::Receiver<bool>,
    /// The listening sockets, for TCP-MD5 keys changed by a reload.
    pub(super) listeners: Vec<(SocketAddr, Arc<TcpListener>)>,
    /// The BMP client, when collectors are configured.
    pub(super) bmp: Option<bmp::Bmp>,
    /// Per peer, what `reflector show` and the metrics read.
    pub(super) status: Statuses,
    /// Jobs for the main loop from the control socket.
    pub(super) main: mpsc::UnboundedSender<MainJob>,
    /// RFC 4724: we restarted and defer route selection (the Restart State
    /// bit of the OPENs we send); cleared when the deferral ends.
    pub(super) restarting: Arc<AtomicBool>,
}

impl control::Daemon for Shared {
    fn config(&self) -> &Config {
        &self.cfg
    }
    fn started(&self) -> Instant {
        self.start
    }
    fn slots(&self) -> Vec<Option<PeerSpec>> {
        Shared::slots(self).clone()
    }
    fn status(&self, slot: usize) -> Arc<PeerStatus> {
        self.status.get(slot)
    }
    fn stop(&self, slot: usize, why: StopReason) {
        for c in self.conns().get(slot).into_iter().flatten() {
            c.link.control(Ctl::Stop(why.clone()));
        }
    }
    fn to_engine(&self, job: control::EngineJob) {
        let tx = self.engine.clone();
        tokio::spawn(async move { tx.send(ToEngine::Control(job)).await });
    }
    fn to_main(&self, job: MainJob) {
        let _ = self.main.send(job);
    }
}

impl Shared {
    pub(super) fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn conns(&self) -> MutexGuard<'_, Vec<Vec<ConnEntry>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn slots(&self) -> MutexGuard<'_, Vec<Option<PeerSpec>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration of the peer in this slot, unless a reload removed it.
    pub(super) fn spec(&self, peer: usize) -> Option<PeerSpec> {
        self.slots().get(peer).cloned().flatten()
    }

    pub(super) fn peer_by_addr(&self, a: IpAddr) -> Option<usize> {
        let a = a.to_canonical();
        self.slots()
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.address == a))
    }

    pub(super) fn live_connections(&self) -> usize {
        self.conns().iter().map(Vec::len).sum()
    }
}
