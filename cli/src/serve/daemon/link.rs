//! What the engine task and one connection share: the [`Link`] with the
//! connection's output queue and the engine's control requests ([`Ctl`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use reflector_core::session::StopReason;
use reflector_core::wire::notification::NotificationRepr;
use reflector_core::Error;
use tokio::sync::Notify;

use crate::serve::status::{PeerStatus, Scan};

/// Something the engine task tells a connection.
pub(super) enum Ctl {
    /// The engine rejected a message: send its NOTIFICATION and close.
    Fail(Error, Bytes),
    /// Close with this Cease.
    Stop(StopReason),
    /// Send this NOTIFICATION and close.
    Notify(NotificationRepr),
}

/// Cease, Other Configuration Change (RFC 4486 subcode 6).
pub(super) fn other_configuration_change() -> NotificationRepr {
    NotificationRepr {
        code: reflector_core::error::code::CEASE,
        subcode: reflector_core::error::subcode::CEASE_OTHER_CONFIG_CHANGE,
        data: Vec::new(),
    }
}

/// What the engine task and one connection share: the connection's output
/// queue and its control requests. An idle link holds no buffers.
#[derive(Default)]
pub(super) struct Link {
    pub(super) state: Mutex<LinkState>,
    /// Output bytes queued and not yet written.
    pub(super) queued: AtomicUsize,
    /// Output bytes written so far.
    pub(super) written: AtomicU64,
    /// The engine paused this peer's output; the writer reports when it has drained.
    pub(super) paused: std::sync::atomic::AtomicBool,
    /// Wakes the writer: output queued, or the connection closing.
    pub(super) out_ready: Notify,
    /// Wakes the connection: a control request.
    pub(super) ctl_ready: Notify,
    /// The peer's status: messages sent are counted as they are queued.
    pub(super) stats: Option<Arc<PeerStatus>>,
}

#[derive(Default)]
pub(super) struct LinkState {
    pub(super) out: VecDeque<Bytes>,
    ctl: Vec<Ctl>,
    /// No more output: the writer finishes what is queued and exits.
    pub(super) closed: bool,
    /// The socket failed: output is dropped.
    pub(super) broken: bool,
    /// Follows the message headers of the output, for the counters.
    scan: Scan,
}

impl Link {
    pub(super) fn state(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue bytes for the peer (dropped once the socket has failed).
    pub(super) fn send(&self, b: Bytes) {
        if b.is_empty() {
            return;
        }
        let mut st = self.state();
        if st.broken || st.closed {
            return;
        }
        self.queued.fetch_add(b.len(), Ordering::Relaxed);
        if let Some(stats) = &self.stats {
            st.scan.feed(&b, &stats.tx);
        }
        st.out.push_back(b);
        drop(st);
        self.out_ready.notify_one();
    }

    /// Ask the connection to act.
    pub(super) fn control(&self, c: Ctl) {
        self.state().ctl.push(c);
        self.ctl_ready.notify_one();
    }

    pub(super) fn take_control(&self) -> Vec<Ctl> {
        std::mem::take(&mut self.state().ctl)
    }

    /// No more output: the writer drains the queue and shuts the socket down.
    pub(super) fn close(&self) {
        self.state().closed = true;
        self.out_ready.notify_one();
    }
}
