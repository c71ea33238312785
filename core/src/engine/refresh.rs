//! Route refresh (RFC 2918) and enhanced route refresh (RFC 7313).

use alloc::vec::Vec;

use super::family::Family;
use super::{Engine, Outcome};
use crate::error::{Action, Error, ErrorKind};
use crate::rib::PeerId;
use crate::wire::route_refresh::{RouteRefreshRepr, Subtype, ROUTE_REFRESH_LEN};
use crate::wire::{Afi, AfiSafi, MessageType, Safi};

impl Engine {
    pub(super) fn handle_route_refresh(&mut self, peer: PeerId, msg: &[u8]) -> Outcome {
        if msg.len() != 23 {
            let e = Error::new(
                ErrorKind::InvalidRouteRefreshLength,
                crate::error::code::ROUTE_REFRESH,
                crate::error::subcode::INVALID_ROUTE_REFRESH_LENGTH,
                Action::SessionReset,
                16,
            )
            .with_range(0, msg.len().min(4096));
            return self.reset(peer, e, msg);
        }
        let b = |i: usize| msg.get(i).copied().unwrap_or(0);
        let family = AfiSafi::new(Afi(u16::from_be_bytes([b(19), b(20)])), Safi(b(22)));
        let enhanced = self
            .peers
            .get(peer.index())
            .and_then(|p| p.up.as_ref())
            .is_some_and(|n| n.enhanced_route_refresh);
        match (Subtype::from_u8(b(21)), Family::of(family)) {
            (Subtype::Normal, _) => {
                self.route_refresh(peer, family);
                Outcome::RouteRefresh(family)
            }
            // RFC 7313 §4: the peer re-advertises its Adj-RIB-Out; until its
            // EoRR its current paths are stale, then those not sent again go.
            (Subtype::BeginOfRefresh, Some(known)) if enhanced => {
                self.begin_stale(peer, known);
                Outcome::Ignored(MessageType::RouteRefresh)
            }
            (Subtype::EndOfRefresh, _) if enhanced => {
                self.sweep_stale(peer, family, true);
                Outcome::Ignored(MessageType::RouteRefresh)
            }
            // Markers without the capability, and unknown subtypes (RFC 7313 §5), are ignored.
            _ => Outcome::Ignored(MessageType::RouteRefresh),
        }
    }

    /// Queue the peer's Adj-RIB-Out for `family` again (RFC 2918), followed by End-of-RIB.
    pub fn route_refresh(&mut self, peer: PeerId, family: AfiSafi) {
        if !self.is_up(peer) {
            return;
        }
        self.flush();
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        p.counters.route_refreshes += 1;
        let Some(known) = Family::of(family).filter(|_| p.has_family(family)) else {
            return;
        };
        // RFC 7313 §4: with enhanced route refresh the re-advertisement is
        // framed by BoRR and EoRR (instead of ending with End-of-RIB).
        let enhanced = p.up.as_ref().is_some_and(|n| n.enhanced_route_refresh);
        if enhanced {
            push_route_refresh(&mut p.tx.out, family, Subtype::BeginOfRefresh);
        }
        let end = !enhanced;
        (known.dump)(self, peer, end);
        if let Some(p) = self.peers.get_mut(peer.index()).filter(|_| enhanced) {
            push_route_refresh(&mut p.tx.out, family, Subtype::EndOfRefresh);
        }
    }
}

/// Append a ROUTE-REFRESH of `subtype` for `family` (RFC 7313 markers).
fn push_route_refresh(out: &mut Vec<u8>, family: AfiSafi, subtype: Subtype) {
    let msg = RouteRefreshRepr {
        afi_safi: family,
        subtype,
        orf: Vec::new(),
    };
    let mut buf = [0u8; ROUTE_REFRESH_LEN];
    if let Ok(n) = msg.emit(&mut buf) {
        out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    }
}
