//! Transmit: what is queued for each peer and how the embedder takes it.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bytes::Bytes;
use hashbrown::HashMap;
use smallvec::SmallVec;

use super::Engine;
use crate::reflect::OutBlock;
use crate::rib::PeerId;
use crate::wire::Ipv6Prefix;

/// What a peer that negotiated ADD-PATH sending was told per prefix: our path
/// identifiers and their blocks.
/// The paths (identifier, block) an ADD-PATH peer holds for one prefix; one
/// inline, as most prefixes have one path.
pub(super) type AdjPaths = SmallVec<[(u32, Arc<OutBlock>); 1]>;

pub(super) type AdjOut<K> = HashMap<K, AdjPaths>;

/// A peer's outgoing messages, and its Adj-RIB-Out when it has one.
#[derive(Debug, Default)]
pub(super) struct Tx {
    /// Whole messages ready to send, oldest first. A chunk written once for a
    /// class of peers is shared by all of them (reference-counted, not copied).
    chunks: VecDeque<Bytes>,
    /// Read position in the front chunk.
    pos: usize,
    /// Messages being written for this peer alone; sealed into `chunks`
    /// before anything shared is queued behind them.
    pub(super) out: Vec<u8>,
    pub(super) adj_v4: AdjOut<u64>,
    pub(super) adj_v6: AdjOut<Ipv6Prefix>,
    /// What the peer was told of keyed routes, with ADD-PATH.
    pub(super) adj_keyed: super::keyed::KeyedAdj,
    /// Per keyed family, one bit per route: held by the peer (without ADD-PATH).
    pub(super) keyed_sent: Vec<Vec<u64>>,
}

impl Tx {
    fn seal(&mut self) {
        if !self.out.is_empty() {
            self.chunks
                .push_back(Bytes::from(core::mem::take(&mut self.out)));
        }
    }

    pub(super) fn push_shared(&mut self, b: &Bytes) {
        self.seal();
        if !b.is_empty() {
            self.chunks.push_back(b.clone());
        }
    }

    /// The unread part of the front chunk, dropping chunks already read.
    fn front(&mut self) -> Option<&[u8]> {
        self.seal();
        while self.chunks.front().is_some_and(|c| self.pos >= c.len()) {
            self.chunks.pop_front();
            self.pos = 0;
        }
        self.chunks.front()?.get(self.pos..)
    }

    fn queued(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum::<usize>()
            - self.pos.min(self.chunks.front().map_or(0, Bytes::len))
            + self.out.len()
    }

    fn take(&mut self) -> Vec<Bytes> {
        self.seal();
        let mut v: Vec<Bytes> = core::mem::take(&mut self.chunks).into();
        if let Some(first) = v.first_mut() {
            let pos = self.pos.min(first.len());
            *first = first.slice(pos..);
        }
        self.pos = 0;
        v.retain(|c| !c.is_empty());
        v
    }
}

impl Engine {
    /// Take the next message queued for `peer` into `buf`; returns its length.
    ///
    /// Pending changes are flushed first. `buf` should hold the peer's maximum
    /// message size (4,096 bytes, or 65,535 with extended messages): a message
    /// that does not fit stays queued, `None` is returned, and
    /// [`Engine::next_transmit_len`] tells the size needed.
    pub fn poll_transmit(&mut self, peer: PeerId, buf: &mut [u8]) -> Option<usize> {
        self.flush();
        self.refill(peer);
        let tx = &mut self.peers.get_mut(peer.index())?.tx;
        let rest = tx.front()?;
        let len = usize::from(u16::from_be_bytes([*rest.get(16)?, *rest.get(17)?]));
        let msg = rest.get(..len)?;
        let dst = buf.get_mut(..len)?;
        dst.copy_from_slice(msg);
        tx.pos += len;
        Some(len)
    }

    /// Length of the next message queued for `peer` (after flushing pending changes).
    pub fn next_transmit_len(&mut self, peer: PeerId) -> Option<usize> {
        self.flush();
        self.refill(peer);
        let rest = self.peers.get_mut(peer.index())?.tx.front()?;
        Some(usize::from(u16::from_be_bytes([
            *rest.get(16)?,
            *rest.get(17)?,
        ])))
    }

    /// Take every message queued for `peer`, concatenated (after flushing
    /// pending changes), a resumed peer's whole catch-up included.
    pub fn take_transmit(&mut self, peer: PeerId) -> Vec<u8> {
        let mut chunks = self.take_transmit_chunks(peer);
        while self
            .peers
            .get(peer.index())
            .and_then(|p| p.paused.as_ref())
            .is_some_and(|q| !q.held)
        {
            let more = self.take_transmit_chunks(peer);
            if more.is_empty() && !self.is_catching_up(peer) {
                break;
            }
            chunks.extend(more);
        }
        match <[Bytes; 1]>::try_from(chunks) {
            Ok([one]) => Vec::from(one),
            Err(chunks) => chunks.concat(),
        }
    }

    /// Take every message queued for `peer` as chunks of whole messages, without
    /// copying (after flushing pending changes). Chunks written once for several
    /// peers of the same class are shared between them. A peer catching up
    /// after a pause gets its next catch-up step when nothing else is queued.
    pub fn take_transmit_chunks(&mut self, peer: PeerId) -> Vec<Bytes> {
        self.flush();
        self.refill(peer);
        self.peers
            .get_mut(peer.index())
            .map(|p| p.tx.take())
            .unwrap_or_default()
    }

    /// A resumed peer with nothing queued gets its next catch-up step.
    fn refill(&mut self, peer: PeerId) {
        let due = self
            .peers
            .get(peer.index())
            .is_some_and(|p| p.tx.queued() == 0 && p.paused.as_ref().is_some_and(|q| !q.held));
        if due {
            self.catch_up_step(peer);
        }
    }

    /// Bytes queued for `peer` (not counting changes not yet flushed).
    pub fn pending_bytes(&self, peer: PeerId) -> usize {
        self.peers.get(peer.index()).map_or(0, |p| p.tx.queued())
    }
}
