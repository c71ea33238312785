//! Import: received messages into the Loc-RIB, and routes originated locally.

use alloc::vec::Vec;
use core::net::IpAddr;

use super::family::RouteKey;
use super::family::FAMILIES;
use super::policy::Installed;
use super::rib::{remove_path, upsert, Upsert};
use super::{Engine, Event, Outcome};
use crate::error::{Action, Error, ErrorKind, NotifyData, Result};
use crate::policy::{Decision, Direction};
use crate::reflect::{self, ImportContext, Role};
use crate::rib::{AttrId, Interner, PeerId};
use crate::wire::update::UpdatePacket;
use crate::wire::update_repr::AttributeRepr;
use crate::wire::{AfiSafi, Context, Header, Ipv6Prefix, MessageType, Nlri, Prefix, Safi, Writer};
use smallvec::SmallVec;

/// The NOTIFICATION message for `e`, found in `msg`.
fn notification(e: &Error, msg: &[u8]) -> Vec<u8> {
    let data = e.data.resolve(msg);
    let mut body = Vec::with_capacity(2 + data.len());
    body.push(e.code);
    body.push(e.subcode);
    body.extend_from_slice(data.get(..data.len().min(4096 - 21)).unwrap_or(&[]));
    reflect::message(MessageType::Notification, &body).unwrap_or_default()
}

impl Engine {
    /// Handle one framed BGP message from a peer.
    pub fn handle_message(&mut self, peer: PeerId, msg: &[u8]) -> Outcome {
        let Some(p) = self.peers.get(peer.index()) else {
            return Outcome::NotUp;
        };
        if p.up.is_none() {
            return Outcome::NotUp;
        }
        let ctx = p.rx_ctx;
        let h = match Header::parse(msg, ctx.max_message_len()) {
            Ok(h) => h,
            Err(e) => return self.reset(peer, e, msg),
        };
        if usize::from(h.length) != msg.len() {
            let e = Error::new(
                ErrorKind::BadMessageLength,
                crate::error::code::MESSAGE_HEADER,
                crate::error::subcode::BAD_MESSAGE_LENGTH,
                Action::SessionReset,
                16,
            )
            .with_data(crate::error::NotifyData::u16(h.length));
            return self.reset(peer, e, msg);
        }
        match h.msg_type {
            MessageType::Update => self.handle_update(peer, msg, &ctx),
            MessageType::RouteRefresh => self.handle_route_refresh(peer, msg),
            t => Outcome::Ignored(t),
        }
    }

    pub(super) fn reset(&mut self, peer: PeerId, error: Error, msg: &[u8]) -> Outcome {
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.session_resets += 1;
        }
        self.push_event(Event::UpdateError { peer, error });
        self.peer_down(peer);
        Outcome::Reset {
            error,
            notification: notification(&error, msg),
        }
    }

    fn handle_update(&mut self, peer: PeerId, msg: &[u8], ctx: &Context) -> Outcome {
        let (pkt, soft) = match UpdatePacket::parse_revised(msg, ctx) {
            Ok(v) => v,
            Err(e) if e.action == Action::AfiSafiDisable => {
                return self.disable_family(peer, e, msg);
            }
            Err(e) => return self.reset(peer, e, msg),
        };
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return Outcome::NotUp;
        };
        p.counters.updates_received += 1;
        let role = p.cfg.role;
        let (bgp_role, peer_as) = (p.bgp_role(), p.cfg.asn);
        let sender_rid = p.router_id;
        let mut treat = pkt.is_treat_as_withdraw();
        let mut soft = soft;
        // Confederation segments from an eBGP peer outside any confederation
        // (we are in none): the AS_PATH is malformed for this session,
        // treat-as-withdraw (RFC 7606 §7.2, RFC 5065 §5.3).
        if role == Role::Ebgp && !treat {
            if let Some(a) = confed_segments(&pkt, ctx) {
                let e = Error::new(
                    ErrorKind::MalformedAsPath,
                    crate::error::code::UPDATE_MESSAGE,
                    crate::error::subcode::MALFORMED_AS_PATH,
                    Action::TreatAsWithdraw,
                    a.offset,
                )
                .with_range(a.offset, a.offset + a.header_len() + a.value.len())
                .with_attr(crate::wire::attribute::type_code::AS_PATH);
                treat = true;
                soft = Some(e);
            }
        }
        if let Some(e) = soft {
            match e.action {
                Action::TreatAsWithdraw => p.counters.treat_as_withdraw += 1,
                _ => p.counters.attribute_discard += 1,
            }
            self.push_event(Event::UpdateError { peer, error: e });
        }
        let mut withdrawn = 0u32;
        let mut announced = 0u32;
        // Paths the import policy rejected and modified.
        let mut policy_counts = (0u64, 0u64);
        let mut rejected = 0u32;
        // Withdrawals.
        for n in pkt.withdrawn() {
            withdrawn += self.withdraw_path(peer, n) as u32;
        }
        // Families the session did not negotiate (or turned off) are ignored.
        let mut on = crate::wire::AfiSafiSet::EMPTY;
        for f in FAMILIES {
            if p_has(&self.peers, peer, f.afi_safi) {
                on.insert(f.afi_safi);
            }
        }
        let usable = |f: AfiSafi| f.safi == Safi::UNICAST && f.is_ip() && on.contains(f);
        let keyed_on = |f: AfiSafi| super::keyed::keyed_index(f).is_some() && on.contains(f);
        let mut unnegotiated = 0u64;
        let mut unknown = 0u64;
        let mut ignored: smallvec::SmallVec<[(AfiSafi, u64); 2]> = smallvec::SmallVec::new();
        // NLRI of a family the session does not carry are counted, never silently dropped.
        let mut uncounted = |f: AfiSafi, field: &[u8], add_path: bool, withdraw: bool| {
            match crate::wire::family::check_nlri(
                f,
                field,
                add_path,
                withdraw,
                0,
                Action::AfiSafiDisable,
            ) {
                Some(r) => {
                    let n = r.map_or(0, |n| n as u64);
                    unnegotiated += n;
                    if n > 0 {
                        ignored.push((f, n));
                    }
                }
                None => {
                    unknown += 1;
                    ignored.push((f, 0));
                }
            }
        };
        let mut keyed_unreach = None;
        if let Some(mu) = pkt.mp_unreach() {
            match mu.prefixes() {
                Some(it) if usable(mu.afi_safi) => {
                    for n in it {
                        withdrawn += self.withdraw_path(peer, n) as u32;
                    }
                }
                _ if keyed_on(mu.afi_safi) => keyed_unreach = Some(mu),
                _ => uncounted(mu.afi_safi, mu.nlri_bytes, mu.add_path, true),
            }
        }
        if let Some(mu) = keyed_unreach {
            withdrawn += self
                .import_keyed(peer, mu.afi_safi, mu.nlri_bytes, mu.add_path, true, None)
                .1;
        }
        let mut keyed_reach = None;
        let mp = pkt.mp_reach().filter(|m| {
            let ok = usable(m.afi_safi);
            if !ok {
                if keyed_on(m.afi_safi) {
                    keyed_reach = Some(*m);
                } else {
                    uncounted(m.afi_safi, m.nlri_bytes, m.add_path, false);
                }
            }
            ok
        });
        // A keyed field is parsed once: counted, then imported (empty when malformed).
        let keyed_parsed = keyed_reach.map_or_else(Vec::new, |m| {
            super::keyed::parse_field(m.afi_safi, m.nlri_bytes, m.add_path, false)
        });
        let keyed_received = keyed_parsed.len();
        let classic = pkt.nlri();
        let mp_prefixes = mp.and_then(|m| m.prefixes());
        let received = classic.clone().count() + mp_prefixes.clone().map_or(0, |i| i.count());
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.withdrawals_received += u64::from(withdrawn);
            p.counters.prefixes_received += (received + keyed_received) as u64;
            p.counters.unnegotiated_prefixes += unnegotiated;
            p.counters.unknown_family_attrs += unknown;
        }
        for (family, nlri) in ignored {
            self.push_event(Event::UnknownFamily { peer, family, nlri });
        }
        if treat {
            for n in classic.chain(mp_prefixes.into_iter().flatten()) {
                withdrawn += self.withdraw_path(peer, n) as u32;
            }
            if let Some(m) = keyed_reach {
                withdrawn += self
                    .import_keyed_parsed(peer, m.afi_safi, keyed_parsed, None)
                    .1;
            }
            if let Some(e) = soft {
                return Outcome::TreatAsWithdraw(e);
            }
        } else if received + keyed_received > 0 {
            let ictx = ImportContext {
                role,
                four_octet: ctx.four_octet_as,
                bgp_role,
                peer_as,
            };
            let (import, deny_all, allow_own_as, session_as) = match self.peers.get(peer.index()) {
                Some(p) => (
                    p.import.clone(),
                    p.import.is_none() && role == Role::Ebgp && self.cfg.ebgp_requires_policy,
                    p.cfg.allow_own_as,
                    p.cfg.local_as,
                ),
                None => (None, false, 0, None),
            };
            // RFC 4456 §8 and RFC 4271 §9.1.2 loops (our AS: the one this
            // session uses), then RFC 9234 route leaks.
            let me = reflect::LocalIdentity {
                asn: session_as.unwrap_or(self.me.asn),
                ..self.me
            };
            let rid = self.cfg.router_id.to_bits();
            let loop_reason = |block: &[u8], allow_own_as: u8| {
                reflect::loop_check_allowing(block, role, &me, rid, allow_own_as).or_else(|| {
                    reflect::otc_leak(block, bgp_role, peer_as)
                        .then_some(reflect::LoopReason::RouteLeak)
                })
            };
            let mut scratch = core::mem::take(&mut self.scratch);
            for (with_nh, nlri, mp_nh) in [
                (true, Some(classic), None),
                (false, mp_prefixes, mp.map(|m| m.next_hop)),
            ] {
                let Some(nlri) = nlri else { continue };
                if nlri.as_bytes().is_empty() {
                    continue;
                }
                reflect::canonicalize(pkt.attributes(), &ictx, with_nh, &mut scratch);
                let looped = loop_reason(&scratch, allow_own_as);
                if let Some(reason) = looped {
                    for n in nlri {
                        rejected += 1;
                        self.withdraw_path(peer, n);
                        if self.cfg.record_events {
                            self.push_event(Event::LoopRejected {
                                peer,
                                prefix: n.prefix,
                                reason,
                            });
                        }
                    }
                    continue;
                }
                if import.is_some() || deny_all {
                    let (a, r) = self.import_with_policy(
                        peer,
                        import.as_deref(),
                        &scratch,
                        mp_nh,
                        nlri,
                        &mut policy_counts,
                    );
                    announced += a;
                    withdrawn += r;
                    continue;
                }
                let Some(id) = self.intern_from(peer, &scratch, mp_nh) else {
                    for n in nlri {
                        withdrawn += self.withdraw_path(peer, n) as u32;
                    }
                    continue;
                };
                for n in nlri {
                    self.attrs.retain(id);
                    if self.insert_path(peer, n, id) {
                        announced += 1;
                    }
                }
                self.attrs.release(id);
            }
            if let Some(m) = keyed_reach.filter(|_| keyed_received > 0) {
                // Keyed families: the same canonical set, loop checks, import
                // policy and RFC 8212.
                reflect::canonicalize(pkt.attributes(), &ictx, false, &mut scratch);
                let looped = loop_reason(&scratch, allow_own_as);
                if let (None, Some(pol)) = (looped, import.as_deref()) {
                    let (a, w) = self.import_keyed_with_policy(
                        peer,
                        pol,
                        m,
                        keyed_parsed,
                        &scratch,
                        &mut policy_counts,
                    );
                    announced += a;
                    withdrawn += w;
                } else {
                    let id = match (looped, deny_all) {
                        (None, false) => self.intern_from(peer, &scratch, Some(m.next_hop)),
                        _ => None,
                    };
                    let (a, w) = self.import_keyed_parsed(peer, m.afi_safi, keyed_parsed, id);
                    match (id, looped) {
                        (Some(id), _) => {
                            announced += a;
                            self.attrs.release(id);
                        }
                        (None, Some(_)) => rejected += keyed_received as u32,
                        (None, None) if deny_all => policy_counts.0 += keyed_received as u64,
                        (None, None) => withdrawn += w,
                    }
                }
            }
            self.scratch = scratch;
        }
        let _ = sender_rid;
        let mut eor = None;
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.accepted += u64::from(announced);
            p.counters.rejected_loop += u64::from(rejected);
            p.counters.policy_rejected_in += policy_counts.0;
            p.counters.policy_modified_in += policy_counts.1;
            if p.restart.is_some() {
                eor = pkt.end_of_rib();
            }
        }
        if let Some(f) = eor {
            // RFC 4724 §4.2: End-of-RIB from the restarted peer ends the family's stale paths.
            self.sweep_stale(peer, f, true);
        }
        if announced > 0 {
            if let Some(out) = self.check_prefix_limits(peer) {
                return out;
            }
        }
        match soft {
            Some(e) if e.action == Action::AttributeDiscard => Outcome::AttributeDiscarded(e),
            _ => Outcome::Accepted {
                announced,
                withdrawn,
                rejected,
            },
        }
    }

    /// RFC 7606 §2 AFI/SAFI disable (RFC 4760 §7): the peer's paths of the
    /// family the malformed MP attribute names are withdrawn and the family is
    /// off until the session ends. A family that cannot be told, or that the
    /// session does not carry, resets the session instead.
    fn disable_family(&mut self, peer: PeerId, error: Error, msg: &[u8]) -> Outcome {
        let kind = error
            .attr_type
            .unwrap_or(crate::wire::attribute::type_code::MP_REACH_NLRI);
        let family = crate::wire::update::mp_family(msg, kind)
            .and_then(super::family::Family::of)
            .filter(|f| p_has(&self.peers, peer, f.afi_safi));
        let Some(f) = family else {
            return self.reset(peer, error.with_action(Action::SessionReset), msg);
        };
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.updates_received += 1;
            p.counters.families_disabled += 1;
            p.disabled.insert(f.afi_safi);
        }
        (f.sweep)(self, peer);
        self.push_event(Event::UpdateError { peer, error });
        Outcome::FamilyDisabled {
            family: f.afi_safi,
            error,
        }
    }

    /// Import the prefixes `nlri` with the canonical set `block` through the
    /// peer's import policy (`None` with RFC 8212 in force: reject all).
    /// Returns (paths announced, paths withdrawn because rejected).
    fn import_with_policy(
        &mut self,
        peer: PeerId,
        policy: Option<&Installed>,
        block: &[u8],
        mp_nh: Option<&[u8]>,
        nlri: crate::wire::NlriIter<'_>,
        counts: &mut (u64, u64),
    ) -> (u32, u32) {
        let (mut announced, mut withdrawn) = (0u32, 0u32);
        let Some(pol) = policy else {
            for n in nlri {
                counts.0 += 1;
                withdrawn += self.withdraw_path(peer, n) as u32;
            }
            return (announced, withdrawn);
        };
        let (neighbor, session) = match self.peers.get(peer.index()) {
            Some(p) => (
                Some(p.cfg.address),
                super::policy::session_of(self.cfg.local_as, &p.cfg),
            ),
            None => return (0, 0),
        };
        let mut memo = ImportMemo::default();
        for n in nlri {
            let sig = pol.signature(&n.prefix);
            let route = crate::policy::Route::unicast(n.prefix, neighbor, block, mp_nh);
            match memo.decide(self, peer, pol, sig, &route, &session) {
                None => {
                    counts.0 += 1;
                    withdrawn += self.withdraw_path(peer, n) as u32;
                }
                Some(id) => {
                    ImportMemo::take(self, id, block, mp_nh, counts);
                    if self.insert_path(peer, n, id) {
                        announced += 1;
                    }
                }
            }
        }
        memo.release(self);
        (announced, withdrawn)
    }

    /// Intern a set for a route from `peer`, charging a new set to it; `None`
    /// (counted, and an event at the crossing) when a new set would take the
    /// peer past its attribute-set memory limit.
    pub(super) fn intern_from(
        &mut self,
        peer: PeerId,
        block: &[u8],
        mp_nh: Option<&[u8]>,
    ) -> Option<AttrId> {
        let owner = peer.0.wrapping_add(1);
        let max = self
            .peers
            .get(peer.index())
            .and_then(|p| p.cfg.max_attr_bytes);
        if let Some(max) = max {
            let bytes = self.attrs.owned_bytes(owner);
            let new = self.attrs.lookup(block, mp_nh).is_none();
            let over = new && bytes + Interner::<()>::set_bytes(block, mp_nh) > max;
            let p = self.peers.get_mut(peer.index())?;
            if over {
                p.counters.attr_limit_refused += 1;
                if !p.attr_over {
                    p.attr_over = true;
                    self.push_event(Event::AttrMemoryLimit { peer, bytes, max });
                }
                return None;
            }
            if new {
                p.attr_over = false;
            }
        }
        Some(self.attrs.intern_owned(block, mp_nh, owner))
    }

    /// Insert a path holding one reference to `id` (consumed). Returns whether it changed anything.
    fn insert_path(&mut self, peer: PeerId, n: Nlri, id: AttrId) -> bool {
        let rid = n.path_id.unwrap_or(0);
        match n.prefix {
            Prefix::V4(p) => self.insert_keyed::<u64>(peer, p.key(), rid, id),
            Prefix::V6(p) => self.insert_keyed::<Ipv6Prefix>(peer, p, rid, id),
        }
    }

    /// [`Engine::insert_path`] in the family with key type `K`.
    fn insert_keyed<K: RouteKey>(&mut self, peer: PeerId, key: K, rid: u32, id: AttrId) -> bool {
        if let Some(r) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.restart.as_mut())
        {
            if r.stale.contains(K::FAMILY) {
                K::refreshed(r).insert((key, rid));
            }
        }
        let max_paths = self
            .peers
            .get(peer.index())
            .and_then(|p| p.cfg.max_paths_per_prefix);
        let next = &mut self.next_local_id;
        match upsert::<K>(
            &mut self.rib,
            &mut self.attrs,
            key,
            (peer, rid),
            id,
            next,
            max_paths,
        ) {
            Upsert::Unchanged => false,
            Upsert::Replaced => true,
            Upsert::Added => {
                if let Some(h) = self
                    .peers
                    .get_mut(peer.index())
                    .and_then(|p| p.held.get_mut(K::INDEX))
                {
                    *h += 1;
                }
                true
            }
            Upsert::Refused => {
                if let Some(p) = self.peers.get_mut(peer.index()) {
                    p.counters.paths_refused += 1;
                }
                if let Some(prefix) = key.prefix().filter(|_| self.cfg.record_events) {
                    self.push_event(Event::PathLimit { peer, prefix });
                }
                false
            }
        }
    }

    fn withdraw_path(&mut self, peer: PeerId, n: Nlri) -> bool {
        let rid = n.path_id.unwrap_or(0);
        let (gone, index) = match n.prefix {
            Prefix::V4(p) => (
                remove_path::<u64>(&mut self.rib, &mut self.attrs, p.key(), peer, rid),
                <u64 as RouteKey>::INDEX,
            ),
            Prefix::V6(p) => (
                remove_path::<Ipv6Prefix>(&mut self.rib, &mut self.attrs, p, peer, rid),
                <Ipv6Prefix as RouteKey>::INDEX,
            ),
        };
        if gone {
            if let Some(h) = self
                .peers
                .get_mut(peer.index())
                .and_then(|p| p.held.get_mut(index))
            {
                *h = h.saturating_sub(1);
            }
        }
        gone
    }

    /// After an UPDATE: a peer above a prefix limit is warned once (event,
    /// counter) or, unless the limit only warns, its session ends with
    /// Cease / Maximum Number of Prefixes Reached (RFC 4486 §4).
    fn check_prefix_limits(&mut self, peer: PeerId) -> Option<Outcome> {
        let p = self.peers.get_mut(peer.index())?;
        if p.cfg.max_prefixes_ipv4.is_none() && p.cfg.max_prefixes_ipv6.is_none() {
            return None;
        }
        let mut crossed = None;
        for f in FAMILIES {
            let Some(limit) = p.cfg.prefix_limit(f.afi_safi) else {
                continue;
            };
            let (Some(&held), Some(over)) = (p.held.get(f.index), p.over_limit.get_mut(f.index))
            else {
                continue;
            };
            if held <= u64::from(limit.max) {
                *over = false;
                continue;
            }
            if *over {
                continue;
            }
            *over = true;
            p.counters.prefix_limit_hits += 1;
            crossed = Some((f.afi_safi, limit, held));
            if !limit.warning_only {
                break;
            }
        }
        let (family, limit, held) = crossed?;
        self.push_event(Event::PrefixLimit {
            peer,
            family,
            max: limit.max,
            held,
            warning_only: limit.warning_only,
        });
        if limit.warning_only {
            return None;
        }
        let error = Error::new(
            ErrorKind::MaxPrefixes,
            crate::error::code::CEASE,
            crate::error::subcode::CEASE_MAX_PREFIXES,
            Action::SessionReset,
            0,
        )
        .with_data(NotifyData::max_prefixes(
            family.afi.0,
            family.safi.0,
            limit.max,
        ));
        if let Some(p) = self.peers.get_mut(peer.index()) {
            p.counters.session_resets += 1;
        }
        self.peer_down(peer);
        Some(Outcome::Reset {
            error,
            notification: notification(&error, &[]),
        })
    }

    /// Originate a route from this engine (as a speaker's own network).
    ///
    /// ORIGIN (IGP) and an empty AS_PATH are added when `attributes` lack
    /// them; NEXT_HOP comes from `next_hop` (through MP_REACH_NLRI for IPv6
    /// prefixes and for IPv4 prefixes with an IPv6 next hop).
    pub fn originate(
        &mut self,
        prefix: Prefix,
        next_hop: IpAddr,
        attributes: &[AttributeRepr],
    ) -> Result<()> {
        use crate::wire::attribute::{type_code, Origin};
        use crate::wire::update_repr::{AsPath, AttributeValue};
        let mut list: Vec<AttributeRepr> = attributes
            .iter()
            .filter(|a| {
                !matches!(
                    a.value.type_code(),
                    type_code::NEXT_HOP | type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI
                )
            })
            .cloned()
            .collect();
        let has = |l: &[AttributeRepr], t: u8| l.iter().any(|a| a.value.type_code() == t);
        if !has(&list, type_code::ORIGIN) {
            list.push(AttributeRepr::new(AttributeValue::Origin(Origin::Igp)));
        }
        if !has(&list, type_code::AS_PATH) {
            list.push(AttributeRepr::new(
                AttributeValue::AsPath(AsPath::default()),
            ));
        }
        let mp_nh: Option<Vec<u8>> = match (prefix, next_hop) {
            (Prefix::V4(_), IpAddr::V4(v4)) => {
                list.push(AttributeRepr::new(AttributeValue::NextHop(v4)));
                None
            }
            (_, IpAddr::V6(v6)) => Some(v6.octets().to_vec()),
            (Prefix::V6(_), IpAddr::V4(v4)) => Some(v4.to_ipv6_mapped().octets().to_vec()),
        };
        let ctx = Context::MODERN;
        let len: usize = list.iter().map(|a| a.buffer_len(&ctx)).sum();
        let mut raw = alloc::vec![0u8; len];
        let mut w = Writer::new(&mut raw);
        for a in &list {
            a.emit(&mut w, &ctx)?;
        }
        let it = crate::wire::attribute::AttrIter::new_checked(&raw, 0)?;
        let mut block = Vec::new();
        reflect::canonicalize(
            it,
            &ImportContext {
                role: Role::Client,
                four_octet: true,
                bgp_role: None,
                peer_as: self.cfg.local_as,
            },
            mp_nh.is_none(),
            &mut block,
        );
        let id = self.attrs.intern(&block, mp_nh.as_deref());
        self.insert_path(PeerId::LOCAL, Nlri::new(prefix), id);
        Ok(())
    }

    /// Withdraw a route this engine originated.
    pub fn withdraw_local(&mut self, prefix: Prefix) -> bool {
        self.withdraw_path(PeerId::LOCAL, Nlri::new(prefix))
    }
}

/// Whether `peer` is up with `f` negotiated and not turned off.
fn p_has(peers: &[super::peer::PeerState], peer: PeerId, f: AfiSafi) -> bool {
    peers.get(peer.index()).is_some_and(|p| p.has_family(f))
}

/// The AS_PATH of `pkt` if it holds an AS_CONFED_SEQUENCE or AS_CONFED_SET segment.
fn confed_segments<'a>(
    pkt: &'a UpdatePacket<&[u8]>,
    ctx: &Context,
) -> Option<crate::wire::attribute::RawAttribute<'a>> {
    use crate::wire::attribute::{type_code, AsPathView, SegmentType};
    let a = pkt
        .attributes()
        .find(|a| a.type_code == type_code::AS_PATH)?;
    let path = AsPathView::new_checked(a.value, ctx.four_octet_as)?;
    path.segments()
        .any(|s| matches!(s.kind, SegmentType::ConfedSequence | SegmentType::ConfedSet))
        .then_some(a)
}

/// The import policy's answers for the routes of one UPDATE: one per
/// signature of the conditions on the family and prefix (the same
/// conditions held: the same outcome) or, without one (a hook), per exact
/// trace. Every set interned for an answer is held until [`ImportMemo::release`];
/// each path takes its own reference.
#[derive(Default)]
pub(super) struct ImportMemo {
    seen: SmallVec<[(u64, Option<AttrId>); 4]>,
    by_trace: SmallVec<[(u64, Option<AttrId>); 4]>,
    held: SmallVec<[AttrId; 4]>,
}

impl ImportMemo {
    /// The set `route` is imported with from `peer` under `pol` (`None`: rejected).
    pub(super) fn decide(
        &mut self,
        e: &mut Engine,
        peer: PeerId,
        pol: &Installed,
        sig: Option<u64>,
        route: &crate::policy::Route<'_>,
        session: &crate::policy::Session,
    ) -> Option<AttrId> {
        if let Some(s) = sig {
            if let Some((_, id)) = self.seen.iter().find(|(k, _)| *k == s) {
                return *id;
            }
        }
        let (d, trace) = pol.evaluate(Direction::Import, peer, route, session);
        if sig.is_none() && trace.is_exact() {
            if let Some((_, id)) = self.by_trace.iter().find(|(t, _)| *t == trace.0) {
                return *id;
            }
        }
        let id = match d {
            Decision::Reject => None,
            Decision::Accept => e.intern_from(peer, route.block, route.mp_next_hop),
            Decision::Modified(a) => e.intern_from(peer, &a.block, a.mp_next_hop.as_deref()),
        };
        self.held.extend(id);
        match sig {
            Some(s) => self.seen.push((s, id)),
            None if trace.is_exact() => self.by_trace.push((trace.0, id)),
            // A hook's answer is this route's alone.
            None => {}
        }
        id
    }

    /// Take a reference to `id` for one path imported with the set `block`
    /// and `mp_nh` received, counting it in `counts.1` if the policy changed them.
    pub(super) fn take(
        e: &mut Engine,
        id: AttrId,
        block: &[u8],
        mp_nh: Option<&[u8]>,
        counts: &mut (u64, u64),
    ) {
        if e.attrs
            .get(id)
            .is_some_and(|s| s.block() != block || s.mp_next_hop() != mp_nh)
        {
            counts.1 += 1;
        }
        e.attrs.retain(id);
    }

    /// Drop the references taken for the answers.
    pub(super) fn release(self, e: &mut Engine) {
        for id in self.held {
            e.attrs.release(id);
        }
    }
}
