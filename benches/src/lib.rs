//! Inputs and workloads shared by Reflector's benchmarks: the UPDATE messages
//! of the shared MRT dumps, a full-visit decoder, reference walks (byte sum,
//! lengths only), a synthetic full table with realistic attribute sharing, and
//! engines with a set of clients.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::mrt::{Body, Records};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{u32s, Attribute, Origin};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{Context, Ipv4Prefix, Nlri, Prefix, UpdatePacket, UpdateRepr};

/// The UPDATE messages of one MRT dump, stored back to back.
#[derive(Debug, Clone)]
pub struct Updates {
    /// The dump's file name.
    pub name: &'static str,
    /// Every UPDATE, header included, concatenated.
    pub bytes: Vec<u8>,
    /// Start and end of each message in `bytes`.
    pub spans: Vec<(usize, usize)>,
    /// Whether each message uses 4-octet AS numbers (from its MRT subtype).
    pub four_octet: Vec<bool>,
}

impl Updates {
    /// Every UPDATE of the shared MRT dump `name` (BGP4MP / BGP4MP_ET message records).
    pub fn load(name: &'static str) -> Self {
        let raw = reflector_testdata::mrt::load_mrt(name);
        let mut u = Updates {
            name,
            bytes: Vec::with_capacity(raw.len()),
            spans: Vec::new(),
            four_octet: Vec::new(),
        };
        for rec in Records::new(&raw) {
            let Ok(rec) = rec else { break };
            let Body::Bgp4mpMessage(m) = rec.body else {
                continue;
            };
            if m.message.get(18) != Some(&2) {
                continue;
            }
            let start = u.bytes.len();
            u.bytes.extend_from_slice(m.message);
            u.spans.push((start, u.bytes.len()));
            u.four_octet.push(m.four_octet_as);
        }
        u
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no message.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The messages, in file order.
    pub fn messages(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.spans
            .iter()
            .map(move |&(a, b)| self.bytes.get(a..b).unwrap_or(&[]))
    }

    /// The messages with their decoding context.
    pub fn with_context(&self) -> impl Iterator<Item = (&[u8], Context)> + '_ {
        self.messages().zip(&self.four_octet).map(|(m, &f)| {
            (
                m,
                Context {
                    four_octet_as: f,
                    extended_message: true,
                    ..Context::MODERN
                },
            )
        })
    }
}

/// What a decoder saw: counts that must agree between decoders, and a
/// checksum that keeps the work from being optimised away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Visit {
    /// Messages decoded without error.
    pub ok: u64,
    /// Messages the decoder rejected.
    pub errors: u64,
    /// Prefixes visited (announced and withdrawn, classic and MP).
    pub prefixes: u64,
    /// Path attributes decoded.
    pub attributes: u64,
    /// A value folded from every decoded field.
    pub checksum: u64,
}

fn mix(c: u64, v: u64) -> u64 {
    c.rotate_left(5) ^ v
}

fn prefix_key(p: &Prefix) -> u64 {
    match p {
        Prefix::V4(p) => p.key(),
        Prefix::V6(p) => (p.addr().to_bits() >> 64) as u64 ^ u64::from(p.len()),
    }
}

/// Reflector's view path: strict validation of every message
/// ([`UpdatePacket::new_checked`]), then every attribute decoded and every
/// prefix visited. Allocates nothing.
pub fn visit_reflector(u: &Updates) -> Visit {
    let mut v = Visit::default();
    for (m, ctx) in u.with_context() {
        let Ok(p) = UpdatePacket::new_checked(m, &ctx) else {
            v.errors += 1;
            continue;
        };
        v.ok += 1;
        let mut c = v.checksum;
        for n in p.withdrawn().chain(p.nlri()) {
            c = mix(c, prefix_key(&n.prefix));
            v.prefixes += 1;
        }
        for a in p.attributes() {
            v.attributes += 1;
            c = mix(c, u64::from(a.type_code));
            match a.decode(&ctx) {
                Attribute::Origin(o) => c = mix(c, u64::from(o.to_u8())),
                Attribute::AsPath(path) | Attribute::As4Path(path) => {
                    for s in path.segments() {
                        c = mix(c, u64::from(s.kind.to_u8()));
                        for asn in s.asns() {
                            c = mix(c, u64::from(asn));
                        }
                    }
                }
                Attribute::NextHop(a) | Attribute::OriginatorId(a) => {
                    c = mix(c, u64::from(a.to_bits()))
                }
                Attribute::Med(x) | Attribute::LocalPref(x) | Attribute::Otc(x) => {
                    c = mix(c, u64::from(x))
                }
                Attribute::AtomicAggregate => c = mix(c, 1),
                Attribute::Aggregator { asn, address }
                | Attribute::As4Aggregator { asn, address } => {
                    c = mix(c, u64::from(asn) ^ u64::from(address.to_bits()))
                }
                Attribute::Communities(b)
                | Attribute::ClusterList(b)
                | Attribute::LargeCommunities(b) => {
                    for x in u32s(b) {
                        c = mix(c, u64::from(x));
                    }
                }
                Attribute::ExtendedCommunities(b) => {
                    for x in b.chunks_exact(8) {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(x);
                        c = mix(c, u64::from_be_bytes(w));
                    }
                }
                Attribute::MpReach(r) => {
                    c = mix(c, r.next_hop.len() as u64);
                    for n in r.prefixes().into_iter().flatten() {
                        c = mix(c, prefix_key(&n.prefix));
                        v.prefixes += 1;
                    }
                }
                Attribute::MpUnreach(r) => {
                    for n in r.prefixes().into_iter().flatten() {
                        c = mix(c, prefix_key(&n.prefix));
                        v.prefixes += 1;
                    }
                }
                Attribute::Unknown(r) => c = mix(c, r.value.len() as u64),
            }
        }
        v.checksum = c;
    }
    v
}

/// Reflector's validation alone: [`UpdatePacket::new_checked`] on every message.
pub fn validate_reflector(u: &Updates) -> Visit {
    let mut v = Visit::default();
    for (m, ctx) in u.with_context() {
        match UpdatePacket::new_checked(m, &ctx) {
            Ok(p) => {
                v.ok += 1;
                v.checksum = mix(v.checksum, p.attribute_offset() as u64);
            }
            Err(_) => v.errors += 1,
        }
    }
    v
}

/// The memory-bound ceiling: a sum over every byte.
pub fn byte_sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// Walk a field of prefixes by their length octets; `None` if one overruns.
fn walk_prefixes(field: &[u8], max_bits: u8, count: &mut u64) -> Option<()> {
    let mut i = 0usize;
    while i < field.len() {
        let bits = *field.get(i)?;
        if bits > max_bits {
            return None;
        }
        i += 1 + usize::from(bits).div_ceil(8);
        *count += 1;
    }
    (i == field.len()).then_some(())
}

/// Lengths only: message length, withdrawn and attribute block lengths, every
/// attribute TLV length and every prefix length (classic and MP), nothing decoded.
pub fn lengths_walk(u: &Updates) -> Visit {
    let mut v = Visit::default();
    for m in u.messages() {
        let mut prefixes = 0u64;
        let mut attrs = 0u64;
        let ok = (|| -> Option<()> {
            let len = usize::from(u16::from_be_bytes([*m.get(16)?, *m.get(17)?]));
            if len != m.len() {
                return None;
            }
            let wl = usize::from(u16::from_be_bytes([*m.get(19)?, *m.get(20)?]));
            walk_prefixes(m.get(21..21 + wl)?, 32, &mut prefixes)?;
            let at = 21 + wl;
            let al = usize::from(u16::from_be_bytes([*m.get(at)?, *m.get(at + 1)?]));
            let block = m.get(at + 2..at + 2 + al)?;
            let mut i = 0usize;
            while i < block.len() {
                let fl = *block.get(i)?;
                let t = *block.get(i + 1)?;
                let (hl, vl) = if fl & 0x10 != 0 {
                    (
                        4,
                        usize::from(u16::from_be_bytes([*block.get(i + 2)?, *block.get(i + 3)?])),
                    )
                } else {
                    (3, usize::from(*block.get(i + 2)?))
                };
                let val = block.get(i + hl..i + hl + vl)?;
                if t == 14 || t == 15 {
                    let afi = u16::from_be_bytes([*val.first()?, *val.get(1)?]);
                    let bits = if afi == 2 { 128 } else { 32 };
                    let nlri = if t == 14 {
                        let nhl = usize::from(*val.get(3)?);
                        val.get(5 + nhl..)?
                    } else {
                        val.get(3..)?
                    };
                    walk_prefixes(nlri, bits, &mut prefixes)?;
                }
                attrs += 1;
                i += hl + vl;
            }
            walk_prefixes(m.get(at + 2 + al..)?, 32, &mut prefixes)
        })();
        match ok {
            Some(()) => {
                v.ok += 1;
                v.prefixes += prefixes;
                v.attributes += attrs;
            }
            None => v.errors += 1,
        }
    }
    v.checksum = v.prefixes;
    v
}

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The distinct AS paths (flattened) announced in the given dumps' UPDATEs.
pub fn real_as_paths(dumps: &[&Updates]) -> Vec<Vec<u32>> {
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    let mut out = Vec::new();
    for u in dumps {
        for (m, ctx) in u.with_context() {
            let Ok(p) = UpdatePacket::new_checked(m, &ctx) else {
                continue;
            };
            if let Some(path) = p.as_path() {
                let asns: Vec<u32> = path.asns().collect();
                if !asns.is_empty() && seen.insert(asns.clone()) {
                    out.push(asns);
                }
            }
        }
    }
    out
}

/// A synthetic IPv4 table as the UPDATE messages a client would send.
#[derive(Debug, Clone)]
pub struct Table {
    /// The UPDATE messages, each at most 4,096 bytes.
    pub messages: Vec<Vec<u8>>,
    /// Distinct prefixes announced.
    pub prefixes: usize,
    /// Distinct attribute sets.
    pub attr_sets: usize,
}

impl Table {
    /// Total size of the messages.
    pub fn bytes(&self) -> usize {
        self.messages.iter().map(Vec::len).sum()
    }
}

/// A plausible prefix length: mostly /24, then /22–/23, /16–/21, and a few shorter.
fn prefix_len(rng: &mut Rng) -> u8 {
    match rng.below(100) {
        0..=59 => 24,
        60..=74 => 23 - rng.below(2) as u8,
        75..=94 => 16 + rng.below(6) as u8,
        _ => 8 + rng.below(8) as u8,
    }
}

/// `prefixes` distinct IPv4 prefixes sharing `sets` distinct attribute sets.
///
/// Each set takes a real AS path from `paths` (cycled), an ORIGIN, a next hop
/// among a client's few addresses, a MED for a third of them, 1–4 communities
/// of the path's ASes, and one tag community that makes it distinct. Set sizes
/// are skewed (a few large sets, a long tail of one- and two-prefix sets), as
/// in real tables. Prefixes of one set are packed into as few UPDATEs as fit.
pub fn synthetic_table(prefixes: usize, sets: usize, paths: &[Vec<u32>], seed: u64) -> Table {
    let mut rng = Rng::new(seed);
    let sets = sets.clamp(1, prefixes.max(1));
    // Distinct prefixes.
    let mut seen: HashSet<u64> = HashSet::with_capacity(prefixes);
    let mut list: Vec<Ipv4Prefix> = Vec::with_capacity(prefixes);
    while list.len() < prefixes {
        let addr = Ipv4Addr::from_bits((1u32 << 24) + rng.below(222u64 << 24) as u32);
        if let Some(p) = Ipv4Prefix::new(addr, prefix_len(&mut rng)) {
            if seen.insert(p.key()) {
                list.push(p);
            }
        }
    }
    // Skewed assignment; the first `sets` prefixes give every set at least one.
    let mut members: Vec<Vec<Ipv4Prefix>> = vec![Vec::new(); sets];
    for (i, p) in list.into_iter().enumerate() {
        let s = if i < sets {
            i
        } else {
            let u = rng.unit();
            ((u * u * u) * sets as f64) as usize
        };
        if let Some(m) = members.get_mut(s.min(sets - 1)) {
            m.push(p);
        }
    }
    let ctx = Context::MODERN;
    let mut messages = Vec::new();
    for (i, nlri) in members.iter().enumerate() {
        let path = paths
            .get(i % paths.len().max(1))
            .cloned()
            .unwrap_or_else(|| vec![64_512 + (i as u32 % 1000)]);
        let mut attrs = vec![
            AttributeRepr::new(AttributeValue::Origin(match rng.below(10) {
                0..=7 => Origin::Igp,
                8 => Origin::Egp,
                _ => Origin::Incomplete,
            })),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&path))),
            AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(
                10,
                0,
                0,
                1 + rng.below(4) as u8,
            ))),
        ];
        if rng.below(3) == 0 {
            attrs.push(AttributeRepr::new(AttributeValue::Med(
                rng.below(1000) as u32
            )));
        }
        let mut comms: Vec<u32> = (0..1 + rng.below(4))
            .map(|_| {
                let asn = path
                    .get(rng.below(path.len() as u64) as usize)
                    .copied()
                    .unwrap_or(0);
                ((asn & 0xffff) << 16) | rng.below(1000) as u32
            })
            .collect();
        comms.push(((64_512 + (i as u32 >> 16)) << 16) | (i as u32 & 0xffff));
        attrs.push(AttributeRepr::new(AttributeValue::Communities(comms)));
        pack(&attrs, nlri, &ctx, &mut messages);
    }
    Table {
        messages,
        prefixes,
        attr_sets: sets,
    }
}

/// Encode `nlri` under `attrs` into UPDATEs of at most the session's maximum size.
fn pack(attrs: &[AttributeRepr], nlri: &[Ipv4Prefix], ctx: &Context, out: &mut Vec<Vec<u8>>) {
    let mut u = UpdateRepr {
        withdrawn: Vec::new(),
        attributes: attrs.to_vec(),
        nlri: Vec::new(),
    };
    let base = u.buffer_len(ctx);
    let mut len = base;
    for p in nlri {
        let n = Nlri::new(Prefix::V4(*p));
        if len + n.wire_len() > ctx.max_message_len() && !u.nlri.is_empty() {
            if let Ok(m) = u.to_vec(ctx) {
                out.push(m);
            }
            u.nlri.clear();
            len = base;
        }
        len += n.wire_len();
        u.nlri.push(n);
    }
    if !u.nlri.is_empty() {
        if let Ok(m) = u.to_vec(ctx) {
            out.push(m);
        }
    }
}

/// A VPN-IPv4 table shaped like a provider network's: `vrfs` VRFs, each on
/// `pes_per_vrf` PEs with its own RD per PE (type 0, `65000:(vrf*16+pe)`),
/// one label per VRF per PE (per-VRF label allocation) and one or two route
/// targets (`65000:vrf`, and a shared hub target for one VRF in eight);
/// `routes` prefixes in all, /24 to /32 out of 10/8 (prefixes repeat across
/// VRFs, as customer address space does), spread evenly over the VRFs and
/// their PEs. One UPDATE carries up to 4,096 bytes of the NLRI of one (VRF,
/// PE) pair: ORIGIN, empty AS_PATH, LOCAL_PREF, the route targets and an
/// MP_REACH_NLRI whose next hop is the PE (`192.168.x.y`, with its RD of zeros).
pub fn vpn_table(routes: usize, vrfs: usize, pes_per_vrf: usize, seed: u64) -> Table {
    use reflector_core::wire::update_repr::{MpNlri, MpReachRepr};
    use reflector_core::wire::vpn::{emit_labeled, Label, RouteDistinguisher};
    use reflector_core::wire::{AfiSafi, Writer};
    let ctx = Context::MODERN;
    let mut rng = Rng::new(seed);
    let pairs = (vrfs * pes_per_vrf).max(1);
    let per_pair = routes.div_ceil(pairs);
    let mut messages = Vec::new();
    let mut made = 0usize;
    for pair in 0..pairs {
        let (vrf, pe) = (pair / pes_per_vrf.max(1), pair % pes_per_vrf.max(1));
        let rd = RouteDistinguisher::as2(65000, (vrf * 16 + pe) as u32);
        let label = Label::new(16 + (vrf * 16 + pe) as u32 % 0xf_0000, true).to_bytes();
        let pe_addr = Ipv4Addr::new(192, 168, (pe / 250) as u8, (pe % 250 + 1) as u8);
        let mut nh = vec![0u8; 8];
        nh.extend_from_slice(&pe_addr.octets());
        let rt = |n: u32| {
            let mut c = [0u8, 2, 0xfd, 0xe8, 0, 0, 0, 0];
            c[4..].copy_from_slice(&n.to_be_bytes());
            c
        };
        let mut rts = vec![rt(vrf as u32)];
        if vrf % 8 == 0 {
            rts.push(rt(1_000_000));
        }
        let attrs = vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
            AttributeRepr::new(AttributeValue::ExtendedCommunities(rts)),
        ];
        let mut nlri: Vec<u8> = Vec::new();
        let mut flush = |nlri: &mut Vec<u8>| {
            if nlri.is_empty() {
                return;
            }
            let mut a = attrs.clone();
            a.push(AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
                afi_safi: AfiSafi::VPNV4,
                next_hop: nh.clone(),
                reserved: 0,
                nlri: MpNlri::Opaque(std::mem::take(nlri)),
            })));
            let u = UpdateRepr {
                withdrawn: Vec::new(),
                attributes: a,
                nlri: Vec::new(),
            };
            if let Ok(m) = u.to_vec(&ctx) {
                messages.push(m);
            }
        };
        let mut seen: HashSet<u64> = HashSet::new();
        let take = per_pair.min(routes - made);
        while seen.len() < take {
            let len = 24 + rng.below(9) as u8;
            let addr = Ipv4Addr::from_bits((10u32 << 24) | rng.below(1 << 24) as u32);
            let Some(p) = Ipv4Prefix::new(addr, len) else {
                continue;
            };
            if !seen.insert(p.key()) {
                continue;
            }
            let mut buf = [0u8; 32];
            let mut w = Writer::new(&mut buf);
            if emit_labeled(&mut w, None, &label, Some(rd), &Prefix::V4(p)).is_ok() {
                if nlri.len() + w.len() > 3_900 {
                    flush(&mut nlri);
                }
                nlri.extend_from_slice(w.written());
            }
        }
        flush(&mut nlri);
        made += take;
        if made >= routes {
            break;
        }
    }
    Table {
        messages,
        prefixes: made,
        attr_sets: pairs,
    }
}

/// An engine with one injecting client and `clients` receiving clients, all up.
#[derive(Debug)]
pub struct Bench {
    /// The engine.
    pub engine: Engine,
    /// The client that sends the table.
    pub source: PeerId,
    /// The clients that receive it.
    pub clients: Vec<PeerId>,
}

/// Our AS in the benchmarks.
pub const LOCAL_AS: u32 = 63_400;

impl Bench {
    /// Build the engine, bring every peer up and drain the initial End-of-RIBs.
    pub fn new(clients: usize) -> Self {
        Self::with_families(clients, &[])
    }

    /// [`Bench::new`] with `extra` families negotiated on every session besides IPv4 and IPv6 unicast.
    pub fn with_families(clients: usize, extra: &[reflector_core::wire::AfiSafi]) -> Self {
        let mut engine = Engine::new(EngineConfig::new(LOCAL_AS, Ipv4Addr::new(10, 255, 0, 1)));
        let peer = |e: &mut Engine, n: u32| {
            let addr = Ipv4Addr::from_bits(0x0a00_0000 + n);
            let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(addr), LOCAL_AS));
            let mut neg = Negotiated::unicast(addr);
            for f in extra {
                neg.families.insert(*f);
            }
            e.peer_up(id, neg);
            id
        };
        let source = peer(&mut engine, 1);
        let clients: Vec<PeerId> = (0..clients as u32)
            .map(|i| peer(&mut engine, 100 + i))
            .collect();
        drop(engine.take_transmit(source));
        for &c in &clients {
            drop(engine.take_transmit(c));
        }
        Bench {
            engine,
            source,
            clients,
        }
    }

    /// Feed every message from the source; returns how many were not accepted.
    pub fn inject<'a>(&mut self, messages: impl IntoIterator<Item = &'a [u8]>) -> usize {
        let mut refused = 0;
        for m in messages {
            if !matches!(
                self.engine.handle_message(self.source, m),
                Outcome::Accepted { .. }
            ) {
                refused += 1;
            }
        }
        refused
    }

    /// Drain every receiving client's output; returns the bytes taken.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        for &c in &self.clients {
            n += self.engine.take_transmit(c).len();
        }
        n
    }

    /// Prefixes sent to each receiving client so far.
    pub fn prefixes_sent(&self) -> Vec<u64> {
        self.clients
            .iter()
            .map(|&c| self.engine.counters(c).map_or(0, |k| k.prefixes_sent))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_table_visit_counts_match_sources() {
        // SOURCES.md: 89,679 UPDATEs, 577,737 IPv4 announcements and 3 withdrawals.
        let u = Updates::load("updates.et-header.2015.gz");
        assert_eq!(u.len(), 89_679);
        let v = visit_reflector(&u);
        assert_eq!((v.ok, v.errors), (89_679, 0));
        assert_eq!(v.prefixes, 577_737 + 3);
        let w = lengths_walk(&u);
        assert_eq!(
            (w.ok, w.prefixes, w.attributes),
            (v.ok, v.prefixes, v.attributes)
        );
        assert_eq!(validate_reflector(&u).ok, v.ok);
    }

    #[test]
    fn rrc00_visit_counts_match_sources() {
        // SOURCES.md: UPDATE 54,107; announced 150,389 + 9,559, withdrawn 2,173 + 453.
        let u = Updates::load("updates.20190101.0000.gz");
        assert_eq!(u.len(), 54_107);
        let v = visit_reflector(&u);
        assert_eq!(v.ok, 54_107);
        assert_eq!(v.prefixes, 150_389 + 9_559 + 2_173 + 453);
        assert_eq!(lengths_walk(&u).prefixes, v.prefixes);
    }

    #[test]
    fn lengths_walk_rejects_a_cut_message() {
        let mut u = Updates::load("updates.20190101.0000.gz");
        let (a, b) = u.spans[0];
        u.bytes.truncate(b - 1);
        u.spans = vec![(a, b - 1)];
        u.four_octet.truncate(1);
        assert_eq!(lengths_walk(&u).errors, 1);
        assert_eq!(visit_reflector(&u).errors, 1);
    }

    #[test]
    fn synthetic_table_has_the_asked_shape() {
        let paths = vec![vec![65_001, 3_356, 15_169], vec![65_002, 174]];
        let t = synthetic_table(20_000, 6_000, &paths, 7);
        let mut b = Bench::new(1);
        assert_eq!(b.inject(t.messages.iter().map(Vec::as_slice)), 0);
        assert!(t.messages.iter().all(|m| m.len() <= 4096));
        assert_eq!(b.engine.prefix_counts(), (20_000, 0));
        assert_eq!(b.engine.memory().attr_sets, 6_000);
        b.drain();
        assert_eq!(b.prefixes_sent(), vec![20_000]);
    }
}
