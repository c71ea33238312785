//! Prefix-limit hold-offs: peers whose connections are refused for a while.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::serve::config::{Config, PeerSpec};

/// Peers whose connections are refused for a while: a prefix limit ended
/// their session and `max_prefixes_restart` is set.
pub(super) struct HoldOff {
    /// Per peer: the configured hold-off, and until when its connections are refused.
    peers: Mutex<Vec<(Option<u16>, Option<Instant>)>>,
}

impl HoldOff {
    pub(super) fn new(cfg: &Config) -> Self {
        HoldOff {
            peers: Mutex::new(
                cfg.peers
                    .iter()
                    .map(|p| (p.limits.restart_after, None))
                    .collect(),
            ),
        }
    }

    fn peers(&self) -> MutexGuard<'_, Vec<(Option<u16>, Option<Instant>)>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A peer added by a reload.
    pub(super) fn push(&self, p: &PeerSpec) {
        self.peers().push((p.limits.restart_after, None));
    }

    /// Start the peer's hold-off, if it has one; returns its length.
    pub(super) fn start(&self, peer: usize) -> Option<u16> {
        let mut peers = self.peers();
        let (after, until) = peers.get_mut(peer)?;
        let secs = (*after)?;
        *until = Some(Instant::now() + Duration::from_secs(u64::from(secs)));
        Some(secs)
    }

    /// Whether the peer's connections are refused now.
    pub(super) fn holds(&self, peer: usize) -> bool {
        let mut peers = self.peers();
        match peers.get_mut(peer) {
            Some((_, u)) if u.is_some_and(|t| Instant::now() < t) => true,
            Some((_, u)) => {
                *u = None;
                false
            }
            None => false,
        }
    }
}
