//! Compact storage of keyed routes: a key inline up to a VPN-IPv4 route's
//! size, one path inline, and each path's NLRI rebuilt from the key and its
//! labels (kept apart in the table, in a slab, only when it cannot be).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::mem::size_of;

use super::wire::withdraw_nlri;
use super::Nb;
use crate::rib::{AttrId, Path, PeerId};
use crate::wire::family::NlriFormat;
use crate::wire::AfiSafi;

/// Key bytes inline up to this many.
const INLINE_KEY: usize = 14;

/// The key of an entry: inline up to 14 bytes (a VPN-IPv4 route's key is at
/// most 13), boxed beyond. Empty: the slot is free.
#[derive(Debug, Clone)]
pub(super) enum KeyBuf {
    /// Length and bytes.
    Inline(u8, [u8; INLINE_KEY]),
    /// Longer keys (boxed: a thin pointer keeps the key at 16 bytes).
    #[allow(clippy::box_collection)]
    Heap(Box<Vec<u8>>),
}

impl Default for KeyBuf {
    fn default() -> Self {
        KeyBuf::Inline(0, [0; INLINE_KEY])
    }
}

impl KeyBuf {
    pub(super) fn from_slice(key: &[u8]) -> Self {
        let mut b = [0u8; INLINE_KEY];
        match b.get_mut(..key.len()) {
            Some(d) => {
                d.copy_from_slice(key);
                KeyBuf::Inline(key.len() as u8, b)
            }
            None => KeyBuf::Heap(Box::new(key.to_vec())),
        }
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        match self {
            KeyBuf::Inline(n, b) => b.get(..usize::from(*n)).unwrap_or(&[]),
            KeyBuf::Heap(v) => v,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    fn heap_bytes(&self) -> usize {
        match self {
            KeyBuf::Inline(..) => 0,
            KeyBuf::Heap(v) => size_of::<Vec<u8>>() + v.capacity(),
        }
    }
}

/// How a path's NLRI follows from its entry's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The key's own NLRI (IP multicast, flow specification, RT membership,
    /// EVPN routes whose other fields are zero).
    Plain,
    /// The key with one label (labeled unicast, VPN; EVPN routes whose
    /// other fields are zero but the last label).
    Label([u8; 3]),
    /// Anything else (label stacks, multihomed EVPN routes): at this
    /// position of the table's [`OwnNlri`].
    Own(u32),
}

/// A [`Kind`] in four bytes: the top byte 0 for [`Kind::Plain`], 1 for
/// [`Kind::Label`] (the label below), from 2 on for [`Kind::Own`] (the
/// position's top bits in it, less 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tail(u32);

impl Tail {
    pub(super) const PLAIN: Tail = Tail(0);

    pub(super) fn kind(self) -> Kind {
        let [t, a, b, c] = self.0.to_be_bytes();
        match t {
            0 => Kind::Plain,
            1 => Kind::Label([a, b, c]),
            t => Kind::Own((u32::from(t) - 2) << 24 | (self.0 & 0xff_ffff)),
        }
    }

    /// `None` for positions past what four bytes hold (254 × 2^24).
    pub(super) fn of(k: Kind) -> Option<Tail> {
        match k {
            Kind::Plain => Some(Tail::PLAIN),
            Kind::Label([a, b, c]) => Some(Tail(u32::from_be_bytes([1, a, b, c]))),
            Kind::Own(i) => {
                let top = u8::try_from((i >> 24) + 2).ok()?;
                Some(Tail(u32::from(top) << 24 | (i & 0xff_ffff)))
            }
        }
    }
}

/// The NLRI of key `key` of family `f` with `tail` (`None` for [`Kind::Own`]).
pub(super) fn compose(f: AfiSafi, key: &[u8], tail: Kind) -> Option<Nb> {
    let fmt = NlriFormat::of(f);
    match tail {
        Kind::Own(_) => None,
        Kind::Plain => match fmt {
            Some(NlriFormat::Ip | NlriFormat::Flowspec | NlriFormat::Rtc | NlriFormat::Evpn) => {
                Some(withdraw_nlri(f, key))
            }
            _ => None,
        },
        Kind::Label(l) => {
            let mut b = Nb::new();
            match fmt {
                Some(NlriFormat::Labeled | NlriFormat::Vpn) => {
                    let (first, rd, prefix) = labeled_parts(fmt, key)?;
                    // Byte by byte: these copies are too short for a call to memcpy.
                    b.push(first);
                    b.extend(l);
                    b.extend(rd.iter().chain(prefix).copied());
                }
                Some(NlriFormat::Evpn) => {
                    // The key's fields, the others zero but the last three bytes.
                    b = withdraw_nlri(f, key);
                    let n = b.len();
                    b.get_mut(n.checked_sub(3)?..)?.copy_from_slice(&l);
                }
                _ => return None,
            }
            Some(b)
        }
    }
}

/// A labeled (RFC 8277) or VPN (RFC 4364) key's NLRI on either side of its
/// label: the length octet (the key's prefix length plus the label's and
/// RD's bits), then the RD (empty for labeled unicast) and the prefix bytes.
fn labeled_parts(fmt: Option<NlriFormat>, key: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    match fmt {
        Some(NlriFormat::Labeled) => {
            let (len, prefix) = key.split_first()?;
            Some((len.checked_add(24)?, &[], prefix))
        }
        Some(NlriFormat::Vpn) => {
            let rd = key.get(..8)?;
            let (len, prefix) = key.get(8..)?.split_first()?;
            Some((len.checked_add(88)?, rd, prefix))
        }
        _ => None,
    }
}

/// How `nlri` is rebuilt from `key` (`None`: it is not, it must be kept).
pub(super) fn tail_of(f: AfiSafi, key: &[u8], nlri: &[u8]) -> Option<Kind> {
    let fmt = NlriFormat::of(f);
    let label = match fmt {
        Some(NlriFormat::Labeled | NlriFormat::Vpn) if nlri.len() == key.len() + 3 => {
            nlri.get(1..4)
        }
        // EVPN: the label last (MAC/IP advertisement, IP prefix), the other
        // fields not in the key zero (a single-homed route).
        Some(NlriFormat::Evpn) => nlri.get(nlri.len().saturating_sub(3)..),
        _ => None,
    };
    let rebuilds = |t: Kind| match (fmt, t) {
        // What `compose` would build around the label (which `label` took
        // from `nlri`), compared in place.
        (Some(NlriFormat::Labeled | NlriFormat::Vpn), Kind::Label(_)) => labeled_parts(fmt, key)
            .is_some_and(|(first, rd, prefix)| {
                nlri.first() == Some(&first)
                    && nlri.get(4..4 + rd.len()) == Some(rd)
                    && nlri.get(4 + rd.len()..) == Some(prefix)
            }),
        _ => compose(f, key, t).is_some_and(|n| n.as_slice() == nlri),
    };
    match label {
        Some(&[a, b, c]) if rebuilds(Kind::Label([a, b, c])) => Some(Kind::Label([a, b, c])),
        _ if rebuilds(Kind::Plain) => Some(Kind::Plain),
        _ => None,
    }
}

/// One path of a keyed route.
#[derive(Debug, Clone, Copy)]
pub(super) struct KPath {
    pub(super) path: Path,
    /// How its NLRI (as received, without the path identifier) follows from the key.
    pub(super) tail: Tail,
}

/// The NLRI of paths that their key does not give, each at a position.
#[derive(Debug, Default)]
pub(super) struct OwnNlri {
    slab: Vec<Box<[u8]>>,
    free: Vec<u32>,
}

impl OwnNlri {
    pub(super) fn get(&self, i: u32) -> &[u8] {
        self.slab.get(i as usize).map_or(&[], |b| b)
    }

    /// Keep `nlri` (at `at` if given, which it then replaces); returns its position.
    pub(super) fn put(&mut self, at: Option<u32>, nlri: &[u8]) -> u32 {
        if let Some(b) = at.and_then(|i| self.slab.get_mut(i as usize)) {
            *b = Box::from(nlri);
            return at.unwrap_or(0);
        }
        match self.free.pop() {
            Some(i) => {
                if let Some(b) = self.slab.get_mut(i as usize) {
                    *b = Box::from(nlri);
                }
                i
            }
            None => {
                self.slab.push(Box::from(nlri));
                (self.slab.len() - 1) as u32
            }
        }
    }

    /// Give position `i` up.
    pub(super) fn forget(&mut self, i: u32) {
        if let Some(b) = self.slab.get_mut(i as usize) {
            *b = Box::default();
            self.free.push(i);
        }
    }

    /// Heap bytes: the positions, the NLRI and the free list.
    pub(super) fn heap_bytes(&self) -> usize {
        self.slab.capacity() * size_of::<Box<[u8]>>()
            + self.slab.iter().map(|b| b.len()).sum::<usize>()
            + self.free.capacity() * size_of::<u32>()
    }
}

/// The NLRI of path `kp` of the entry with key `key` in family `f`.
pub(super) fn nlri_of(f: AfiSafi, own: &OwnNlri, key: &[u8], kp: &KPath) -> Nb {
    match kp.tail.kind() {
        Kind::Own(i) => Nb::from_slice(own.get(i)),
        k => compose(f, key, k).unwrap_or_default(),
    }
}

/// Heap bytes of a hashbrown table of `capacity` (as it reports it) with
/// slots of `slot` bytes: its buckets (capacity is 7/8 of them from 8 on),
/// a control byte each, and one group of control bytes more.
pub(super) fn table_heap_bytes(capacity: usize, slot: usize) -> usize {
    let buckets = match capacity {
        0 => return 0,
        c if c < 8 => (c + 1).next_power_of_two(),
        c => (c / 7 * 8).next_power_of_two(),
    };
    buckets * (slot + 1) + 16
}

/// The paths of an entry, best first after a flush: one inline, more boxed.
///
/// The inline form holds the common path in 14 bytes, so that the list,
/// its tag and the thin pointer of the boxed form fit in 16: a path
/// without an ADD-PATH identifier from a peer whose id fits in 16 bits.
/// Any other path, alone or not, is kept boxed.
#[derive(Debug, Clone, Default)]
pub(super) enum PathList {
    /// No path (an emptied route until its withdrawals went out, or a free slot).
    #[default]
    Empty,
    /// One path whose remote identifier is 0 and whose peer's id is below 2^16.
    One {
        /// Its peer.
        peer: u16,
        /// Its attribute set.
        attrs: AttrId,
        /// Its own identifier.
        local_id: u32,
        /// How its NLRI follows from the key.
        tail: Tail,
    },
    /// Any other paths (boxed: a thin pointer keeps the list at 16 bytes).
    #[allow(clippy::box_collection)]
    Many(Box<Vec<KPath>>),
}

/// The paths of a [`PathList`], by value.
pub(super) struct Paths<'a> {
    one: Option<KPath>,
    many: core::slice::Iter<'a, KPath>,
}

impl Iterator for Paths<'_> {
    type Item = KPath;

    fn next(&mut self) -> Option<KPath> {
        self.one.take().or_else(|| self.many.next().copied())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.one.is_some()) + self.many.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Paths<'_> {}

impl PathList {
    /// The inline form of `kp`, if it has one.
    fn inline(kp: KPath) -> Option<PathList> {
        let peer = u16::try_from(kp.path.peer.0).ok()?;
        (kp.path.remote_id == 0).then_some(PathList::One {
            peer,
            attrs: kp.path.attrs,
            local_id: kp.path.local_id,
            tail: kp.tail,
        })
    }

    /// A list of the one path `kp`.
    fn single(kp: KPath) -> PathList {
        PathList::inline(kp).unwrap_or_else(|| PathList::Many(Box::new(alloc::vec![kp])))
    }

    /// The path at `i`.
    pub(super) fn get(&self, i: usize) -> Option<KPath> {
        match self {
            PathList::Empty => None,
            &PathList::One {
                peer,
                attrs,
                local_id,
                tail,
            } => (i == 0).then_some(KPath {
                path: Path {
                    attrs,
                    peer: PeerId(u32::from(peer)),
                    remote_id: 0,
                    local_id,
                },
                tail,
            }),
            PathList::Many(v) => v.get(i).copied(),
        }
    }

    /// Replace the path at `i` by `kp` (nothing if there is none).
    pub(super) fn set(&mut self, i: usize, kp: KPath) {
        match self {
            PathList::Many(v) if v.len() > 1 => {
                if let Some(p) = v.get_mut(i) {
                    *p = kp;
                }
            }
            // A lone path, inline or boxed: the new one is kept inline if it fits.
            _ if i == 0 && self.len() == 1 => *self = PathList::single(kp),
            _ => {}
        }
    }

    /// The paths in order, by value.
    pub(super) fn iter(&self) -> Paths<'_> {
        match self {
            PathList::Many(v) => Paths {
                one: None,
                many: v.iter(),
            },
            other => Paths {
                one: other.get(0),
                many: [].iter(),
            },
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            PathList::Empty => 0,
            PathList::One { .. } => 1,
            PathList::Many(v) => v.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        matches!(self, PathList::Empty)
    }

    pub(super) fn first(&self) -> Option<KPath> {
        self.get(0)
    }

    pub(super) fn push(&mut self, kp: KPath) {
        *self = match core::mem::take(self) {
            PathList::Empty => PathList::single(kp),
            PathList::Many(mut v) => {
                v.push(kp);
                PathList::Many(v)
            }
            one => PathList::Many(Box::new(one.iter().chain([kp]).collect())),
        };
    }

    /// The paths from `v`, in its order.
    pub(super) fn from_vec(mut v: Vec<KPath>) -> Self {
        match v.len() {
            0 => PathList::Empty,
            1 => v.pop().map_or(PathList::Empty, PathList::single),
            _ => PathList::Many(Box::new(v)),
        }
    }

    /// Keep the paths `keep` says to, in their order.
    pub(super) fn retain(&mut self, keep: impl FnMut(&KPath) -> bool) {
        let mut keep = keep;
        match self {
            PathList::Empty => {}
            PathList::One { .. } => {
                if self.first().is_some_and(|kp| !keep(&kp)) {
                    *self = PathList::Empty;
                }
            }
            PathList::Many(v) => {
                let before = v.len();
                v.retain(|kp| keep(kp));
                if v.len() != before {
                    *self = PathList::from_vec(core::mem::take(&mut **v));
                }
            }
        }
    }

    /// Remove and return the path at `i`.
    pub(super) fn remove(&mut self, i: usize) -> Option<KPath> {
        let out = self.get(i)?;
        let mut n = 0;
        self.retain(|_| {
            n += 1;
            n - 1 != i
        });
        Some(out)
    }

    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            PathList::Many(v) => size_of::<Vec<KPath>>() + v.capacity() * size_of::<KPath>(),
            _ => 0,
        }
    }
}

/// Heap bytes of an entry's key and path list.
pub(super) fn entry_heap_bytes(key: &KeyBuf, paths: &PathList) -> usize {
    key.heap_bytes() + paths.heap_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_parts_stay_small() {
        assert_eq!(size_of::<KeyBuf>(), 16);
        assert_eq!(size_of::<KPath>(), 20);
        assert_eq!(size_of::<PathList>(), 16);
        assert_eq!(size_of::<super::super::KEntry>(), 40);
    }

    fn kp(peer: u32, remote_id: u32, local_id: u32, attrs: u32, tail: u32) -> KPath {
        KPath {
            path: Path {
                attrs: AttrId(attrs),
                peer: PeerId(peer),
                remote_id,
                local_id,
            },
            tail: Tail(tail),
        }
    }

    fn fields(p: &KPath) -> (u32, u32, u32, u32, u32) {
        let x = p.path;
        (x.peer.0, x.remote_id, x.local_id, x.attrs.0, p.tail.0)
    }

    /// An edit of a path list.
    #[derive(Debug, Clone)]
    enum Op {
        Push(u32, u32, u32, u32, u32),
        Set(usize, u32, u32, u32, u32, u32),
        Remove(usize),
        /// Drop the paths of this peer.
        Retain(u32),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        // Peers on either side of 2^16, with and without an ADD-PATH identifier.
        let peer = prop_oneof![
            Just(1u32),
            Just(65_535),
            Just(65_536),
            Just(PeerId::LOCAL.0)
        ];
        let rid = prop_oneof![Just(0u32), Just(7), any::<u32>()];
        let path = (peer, rid, any::<u32>(), any::<u32>(), any::<u32>());
        prop_oneof![
            3 => path.clone().prop_map(|(a, b, c, d, e)| Op::Push(a, b, c, d, e)),
            1 => (0usize..4, path).prop_map(|(i, (a, b, c, d, e))| Op::Set(i, a, b, c, d, e)),
            1 => (0usize..4).prop_map(Op::Remove),
            1 => prop_oneof![Just(1u32), Just(65_536)].prop_map(Op::Retain),
        ]
    }

    proptest::proptest! {
        /// A path list holds what a plain vector of the same edits holds, in
        /// its order, and keeps a lone path inline whenever it can.
        #[test]
        fn path_lists_hold_what_a_vector_holds(ops in proptest::collection::vec(op(), 0..24)) {
            let mut list = PathList::default();
            let mut model: Vec<KPath> = Vec::new();
            for o in ops {
                match o {
                    Op::Push(a, b, c, d, e) => {
                        list.push(kp(a, b, c, d, e));
                        model.push(kp(a, b, c, d, e));
                    }
                    Op::Set(i, a, b, c, d, e) => {
                        list.set(i, kp(a, b, c, d, e));
                        if let Some(p) = model.get_mut(i) {
                            *p = kp(a, b, c, d, e);
                        }
                    }
                    Op::Remove(i) => {
                        let got = list.remove(i);
                        let want = (i < model.len()).then(|| model.remove(i));
                        proptest::prop_assert_eq!(got.as_ref().map(fields), want.as_ref().map(fields));
                    }
                    Op::Retain(peer) => {
                        list.retain(|p| p.path.peer.0 != peer);
                        model.retain(|p| p.path.peer.0 != peer);
                    }
                }
                let got: Vec<_> = list.iter().map(|p| fields(&p)).collect();
                let want: Vec<_> = model.iter().map(fields).collect();
                proptest::prop_assert_eq!(&got, &want);
                proptest::prop_assert_eq!(list.len(), model.len());
                proptest::prop_assert_eq!(list.iter().len(), model.len());
                proptest::prop_assert_eq!(list.is_empty(), model.is_empty());
                proptest::prop_assert_eq!(list.first().map(|p| fields(&p)), model.first().map(fields));
                let inline = matches!(list, PathList::One { .. });
                let fits = model.len() == 1
                    && model.iter().all(|p| p.path.remote_id == 0 && p.path.peer.0 < 65_536);
                proptest::prop_assert_eq!(inline, fits);
                proptest::prop_assert_eq!(list.heap_bytes() == 0, model.len() < 2 && (model.is_empty() || fits));
            }
        }
    }

    #[test]
    fn tails_hold_every_kind() {
        for k in [
            Kind::Plain,
            Kind::Label([1, 2, 3]),
            Kind::Own(0),
            Kind::Own(0xff_ffff),
            Kind::Own(1 << 24),
            Kind::Own(254 * (1 << 24) - 1),
        ] {
            assert_eq!(Tail::of(k).map(Tail::kind), Some(k));
        }
        assert_eq!(Tail::of(Kind::Own(254 << 24)), None);
        let mut own = OwnNlri::default();
        let a = own.put(None, &[1, 2]);
        let b = own.put(None, &[3]);
        own.forget(a);
        assert_eq!(own.put(None, &[4]), a);
        assert_eq!(own.put(Some(b), &[5, 6]), b);
        assert_eq!((own.get(a), own.get(b)), (&[4][..], &[5, 6][..]));
    }

    #[test]
    fn table_bytes_count_every_bucket() {
        for n in [0usize, 1, 3, 7, 8, 100, 1000, 1 << 20] {
            let mut t: hashbrown::HashMap<u64, [u8; 24]> = hashbrown::HashMap::new();
            t.reserve(n);
            let c = t.capacity();
            let b = table_heap_bytes(c, 32);
            // Capacity is 7/8 of the buckets (all but one below 8), a power of two.
            let buckets = if c == 0 { 0 } else { (b - 16) / 33 };
            let _ = &mut t;
            assert!(c == 0 || buckets.is_power_of_two(), "{n}: {c} {buckets}");
            assert!(
                buckets >= c + usize::from(c > 0) && buckets <= 2 * (c + 1),
                "{n}"
            );
        }
    }

    #[test]
    fn one_label_vpn_and_labeled_routes_rebuild_from_their_key() {
        // VPN-IPv4 65000:1:10.1.0.0/16, label 100; labeled 192.0.2.0/24.
        let cases: [(AfiSafi, &[u8]); 2] = [
            (
                AfiSafi::VPNV4,
                &[104, 0, 6, 0x41, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 10, 1],
            ),
            (AfiSafi::IPV4_LABELED, &[48, 0, 6, 0x41, 192, 0, 2]),
        ];
        for (f, nlri) in cases {
            let parsed = super::super::wire::parse_field(f, nlri, false, false);
            let (_, key, n) = &parsed[0];
            let t = tail_of(f, key, n).unwrap();
            assert!(matches!(t, Kind::Label(_)), "{f:?}");
            assert_eq!(Tail::of(t).unwrap().kind(), t);
            assert_eq!(compose(f, key, t).unwrap().as_slice(), nlri);
        }
    }

    #[test]
    fn evpn_mac_routes_rebuild_unless_multihomed() {
        // Type 2, RD 65000:1, ESI zero (then 1), tag 0, MAC, no IP, label 100.
        let mut nlri: Vec<u8> = alloc::vec![2, 33, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1];
        nlri.extend_from_slice(&[0; 10]);
        nlri.extend_from_slice(&[0, 0, 0, 0, 48, 2, 0, 0, 0, 0, 1, 0, 0, 6, 0x41]);
        for (esi, want) in [(0u8, Some(Kind::Label([0, 6, 0x41]))), (1, None)] {
            nlri[19] = esi;
            let parsed = super::super::wire::parse_field(AfiSafi::EVPN, &nlri, false, false);
            let (_, key, n) = &parsed[0];
            assert_eq!(n.as_slice(), nlri.as_slice());
            let t = tail_of(AfiSafi::EVPN, key, n);
            assert_eq!(t, want);
            if let Some(t) = t {
                assert_eq!(compose(AfiSafi::EVPN, key, t).unwrap().as_slice(), nlri);
            }
        }
    }
}
