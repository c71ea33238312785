//! The OPEN message (RFC 4271 §4.2, §6.2; RFC 5492 capabilities; RFC 9072
//! extended optional parameters length) and capability negotiation.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |                      (after the 19-byte header)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |  Optional Parameters (variable) ...
//! +-+-+-+-+-+-+-+-+
//! ```
//!
//! With RFC 9072, `Opt Parm Len` = 255 followed by a parameter type of 255
//! announces a 2-byte extended length, and every parameter then has a 2-byte
//! length too.

use core::net::Ipv4Addr;

use super::capability::{code as cap_code, BgpRole, Capability, CapabilityTlvIter};
use super::header::{Header, MessageType, MAX_LEN};
use super::{AfiSafi, AfiSafiSet, Context, Reader};
use crate::error::{code, subcode, Action, Error, ErrorKind, NotifyData, Result};

/// The only BGP version Reflector speaks.
pub const BGP_VERSION: u8 = 4;
/// AS_TRANS (RFC 6793): the 2-byte My AS of a speaker whose AS does not fit.
pub const AS_TRANS: u16 = 23456;
/// Optional parameter type: Capabilities (RFC 5492).
pub const PARAM_CAPABILITIES: u8 = 2;

mod field {
    use core::ops::Range;
    pub const VERSION: usize = 19;
    pub const MY_AS: Range<usize> = 20..22;
    pub const HOLD_TIME: Range<usize> = 22..24;
    pub const BGP_ID: Range<usize> = 24..28;
    pub const OPT_PARM_LEN: usize = 28;
    pub const OPT_PARMS: usize = 29;
}

/// Smallest OPEN: the header plus 10 fixed bytes.
pub const MIN_OPEN_LEN: usize = 29;

fn open_error(kind: ErrorKind, sub: u8, offset: usize) -> Error {
    Error::new(kind, code::OPEN_MESSAGE, sub, Action::SessionReset, offset)
}

fn malformed_params(offset: usize) -> Error {
    // RFC 4271 §6.2 / RFC 9072: inconsistent parameter lengths are an OPEN
    // Message Error with the Unspecific subcode.
    open_error(ErrorKind::MalformedOptionalParameters, 0, offset)
}

/// Where the optional parameters live and how they are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ParamLayout {
    extended: bool,
    start: usize,
    end: usize,
}

fn param_layout(buf: &[u8]) -> Result<ParamLayout> {
    let mut r = Reader::new(
        buf.get(field::OPT_PARM_LEN..).unwrap_or(&[]),
        field::OPT_PARM_LEN,
    );
    let len = r.u8()?;
    if len == 255 && r.rest().first() == Some(&255) {
        r.u8()?;
        let ext = r.u16().map_err(|_| malformed_params(field::OPT_PARMS))?;
        let start = field::OPT_PARMS + 3;
        return Ok(ParamLayout {
            extended: true,
            start,
            end: start + usize::from(ext),
        });
    }
    Ok(ParamLayout {
        extended: false,
        start: field::OPT_PARMS,
        end: field::OPT_PARMS + usize::from(len),
    })
}

/// One optional parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptParam<'a> {
    /// Parameter type (2 = Capabilities).
    pub param_type: u8,
    /// Parameter value.
    pub value: &'a [u8],
    /// Offset of the value in the message.
    pub offset: usize,
}

/// Iterator over the optional parameters of an OPEN.
#[derive(Debug, Clone)]
pub struct OptParamIter<'a> {
    r: Reader<'a>,
    extended: bool,
}

impl<'a> OptParamIter<'a> {
    fn step(&mut self) -> Result<OptParam<'a>> {
        let param_type = self.r.u8()?;
        let len = if self.extended {
            usize::from(self.r.u16()?)
        } else {
            usize::from(self.r.u8()?)
        };
        let offset = self.r.offset();
        let value = self.r.take(len)?;
        Ok(OptParam {
            param_type,
            value,
            offset,
        })
    }
}

impl<'a> Iterator for OptParamIter<'a> {
    type Item = OptParam<'a>;
    fn next(&mut self) -> Option<OptParam<'a>> {
        if self.r.is_empty() {
            return None;
        }
        match self.step() {
            Ok(p) => Some(p),
            Err(_) => {
                self.r = Reader::new(&[], 0);
                None
            }
        }
    }
}

/// Iterator over every capability of every Capabilities parameter, in order.
#[derive(Debug, Clone)]
pub struct CapabilityIter<'a> {
    params: OptParamIter<'a>,
    current: CapabilityTlvIter<'a>,
}

impl<'a> Iterator for CapabilityIter<'a> {
    type Item = Capability<'a>;
    fn next(&mut self) -> Option<Capability<'a>> {
        loop {
            if let Some(c) = self.current.next() {
                return Some(c);
            }
            // Each turn consumes one parameter, so the loop ends.
            let p = self.params.next()?;
            if p.param_type == PARAM_CAPABILITIES {
                self.current = CapabilityTlvIter::new(p.value);
            }
        }
    }
}

/// A validated OPEN message over borrowed or owned bytes (header included).
#[derive(Debug, Clone)]
pub struct OpenPacket<T: AsRef<[u8]>> {
    buf: T,
    layout: ParamLayout,
}

impl<T: AsRef<[u8]>> OpenPacket<T> {
    /// Validate a whole OPEN message (RFC 4271 §6.1, §6.2; RFC 5492; RFC 9072).
    ///
    /// Errors carry the NOTIFICATION to send: 1/2 for lengths the header
    /// contradicts, 2/1 (data: version 4) for another version, 2/0 for
    /// optional parameters or capabilities that overrun their lengths, 2/4
    /// for a parameter type other than Capabilities, 2/6 for a hold time of
    /// 1 or 2 seconds, 2/3 for a BGP identifier of 0; for a BGP Role
    /// capability (RFC 9234) 2/0 when its length is not 1 and 2/11 Role
    /// Mismatch when two of them carry different roles.
    pub fn new_checked(buf: T) -> Result<Self> {
        let layout = Self::check(buf.as_ref())?;
        Ok(OpenPacket { buf, layout })
    }

    fn check(b: &[u8]) -> Result<ParamLayout> {
        // RFC 8654 §3: the extended message size never applies to OPEN.
        let h = Header::parse(b, MAX_LEN)?;
        if h.msg_type != MessageType::Open {
            return Err(super::header::bad_type());
        }
        check_length(b, h)?;
        let version = b.get(field::VERSION).copied().unwrap_or(0);
        if version != BGP_VERSION {
            return Err(open_error(
                ErrorKind::UnsupportedVersion,
                subcode::UNSUPPORTED_VERSION,
                field::VERSION,
            )
            .with_data(NotifyData::u16(u16::from(BGP_VERSION))));
        }
        let layout = param_layout(b)?;
        if layout.end != b.len() {
            return Err(malformed_params(field::OPT_PARM_LEN));
        }
        let mut params = OptParamIter {
            r: Reader::new(b.get(layout.start..).unwrap_or(&[]), layout.start),
            extended: layout.extended,
        };
        let mut role: Option<u8> = None;
        while !params.r.is_empty() {
            let at = params.r.offset();
            let p = params.step().map_err(|_| malformed_params(at))?;
            if p.param_type != PARAM_CAPABILITIES {
                return Err(open_error(
                    ErrorKind::UnsupportedOptionalParameter,
                    subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
                    at,
                ));
            }
            CapabilityTlvIter::check(p.value, p.offset).map_err(malformed_params)?;
            check_role(p.value, p.offset, &mut role)?;
        }
        let hold = u16::from_be_bytes(fixed(b, field::HOLD_TIME.start));
        if hold == 1 || hold == 2 {
            return Err(open_error(
                ErrorKind::UnacceptableHoldTime,
                subcode::UNACCEPTABLE_HOLD_TIME,
                field::HOLD_TIME.start,
            ));
        }
        if fixed::<4>(b, field::BGP_ID.start) == [0; 4] {
            return Err(open_error(
                ErrorKind::BadBgpIdentifier,
                subcode::BAD_BGP_IDENTIFIER,
                field::BGP_ID.start,
            ));
        }
        Ok(layout)
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Consume the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// BGP version (always 4 after validation).
    pub fn version(&self) -> u8 {
        self.as_bytes().get(field::VERSION).copied().unwrap_or(0)
    }

    /// My Autonomous System: the 2-byte AS field (AS_TRANS for 4-byte speakers).
    pub fn my_as(&self) -> u16 {
        u16::from_be_bytes(fixed(self.as_bytes(), field::MY_AS.start))
    }

    /// The speaker's AS: the 4-octet AS capability's value when present, else [`Self::my_as`].
    pub fn asn(&self) -> u32 {
        self.capabilities()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(a),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as()))
    }

    /// Proposed hold time in seconds (0 = no keepalives).
    pub fn hold_time(&self) -> u16 {
        u16::from_be_bytes(fixed(self.as_bytes(), field::HOLD_TIME.start))
    }

    /// BGP Identifier as an integer.
    pub fn bgp_id(&self) -> u32 {
        u32::from_be_bytes(fixed(self.as_bytes(), field::BGP_ID.start))
    }

    /// BGP Identifier as an address.
    pub fn bgp_id_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.bgp_id())
    }

    /// Whether the RFC 9072 extended optional parameters length encoding is used.
    pub fn extended_params(&self) -> bool {
        self.layout.extended
    }

    /// The optional parameters.
    pub fn opt_params(&self) -> OptParamIter<'_> {
        let (start, end) = (self.layout.start, self.layout.end);
        OptParamIter {
            r: Reader::new(self.as_bytes().get(start..end).unwrap_or(&[]), start),
            extended: self.layout.extended,
        }
    }

    /// Every capability of every Capabilities parameter, in wire order.
    pub fn capabilities(&self) -> CapabilityIter<'_> {
        CapabilityIter {
            params: self.opt_params(),
            current: CapabilityTlvIter::new(&[]),
        }
    }
}

/// RFC 9234 §4.1/§4.2 on the BGP Role capabilities of one Capabilities
/// parameter (`value`, at `base` in the message; its TLVs already tile it):
/// a length other than 1 is an OPEN Message Error (2/0, as BIRD sends);
/// two Role capabilities with different values are a Role Mismatch (2/11).
/// `seen` carries the first role across parameters.
fn check_role(value: &[u8], base: usize, seen: &mut Option<u8>) -> Result<()> {
    let mut r = Reader::new(value, base);
    while !r.is_empty() {
        let at = r.offset();
        let c = r.u8()?;
        let len = r.u8()?;
        let v = r.take(usize::from(len))?;
        if c != cap_code::ROLE {
            continue;
        }
        let [role] = v else {
            return Err(malformed_params(at));
        };
        match *seen {
            Some(first) if first != *role => {
                return Err(open_error(
                    ErrorKind::RoleMismatch,
                    subcode::ROLE_MISMATCH,
                    at,
                ))
            }
            _ => *seen = Some(*role),
        }
    }
    Ok(())
}

fn fixed<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        out.copy_from_slice(s);
    }
    out
}

/// The buffer must hold exactly the message the header announces.
pub(crate) fn check_length(b: &[u8], h: Header) -> Result<()> {
    let len = usize::from(h.length);
    if b.len() < len {
        return Err(Error::truncated(b.len()));
    }
    if b.len() > len {
        return Err(Error::new(
            ErrorKind::BadMessageLength,
            code::MESSAGE_HEADER,
            subcode::BAD_MESSAGE_LENGTH,
            Action::SessionReset,
            16,
        )
        .with_data(NotifyData::u16(h.length)));
    }
    Ok(())
}

/// Up to 16 AFI/SAFIs, without an allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Families {
    items: [AfiSafi; 16],
    len: u8,
}

impl Default for Families {
    fn default() -> Self {
        Families {
            items: [AfiSafi::IPV4_UNICAST; 16],
            len: 0,
        }
    }
}

impl Families {
    /// Whether `f` is listed.
    pub fn contains(&self, f: AfiSafi) -> bool {
        self.as_slice().contains(&f)
    }

    /// Add `f` if absent; families beyond 16 are dropped.
    pub fn insert(&mut self, f: AfiSafi) {
        if self.contains(f) {
            return;
        }
        if let Some(slot) = self.items.get_mut(usize::from(self.len)) {
            *slot = f;
            self.len += 1;
        }
    }

    /// The families, in insertion order.
    pub fn as_slice(&self) -> &[AfiSafi] {
        self.items.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of families.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What one side's OPEN advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Advertised {
    /// AS number (capability 65 if present, else My AS).
    pub asn: u32,
    /// Sent capability 65.
    pub four_octet_as: bool,
    /// Multiprotocol families (empty = none advertised).
    pub families: Families,
    /// Families it can receive multiple paths for.
    pub add_path_receive: AfiSafiSet,
    /// Families it can send multiple paths for.
    pub add_path_send: AfiSafiSet,
    /// Sent capability 6.
    pub extended_message: bool,
    /// Sent capability 2 or 128.
    pub route_refresh: bool,
    /// Sent capability 70.
    pub enhanced_route_refresh: bool,
    /// Graceful restart time when capability 64 was sent.
    pub graceful_restart: Option<u16>,
    /// Families capability 5 lists with next-hop AFI 2 (IPv6): the speaker
    /// takes their NLRI with an IPv6 next hop (RFC 8950 §3).
    pub extended_next_hop: AfiSafiSet,
    /// Restart Flags of capability 64 (0x8 = restarting, 0x4 = notification support).
    pub graceful_restart_flags: u8,
    /// Families capability 64 lists, whatever their flags (RFC 4724 §3).
    pub graceful_restart_families: AfiSafiSet,
    /// Families capability 64 lists with the Forwarding State bit set (RFC 4724 §3).
    pub graceful_restart_preserved: AfiSafiSet,
    /// BGP role (RFC 9234) when capability 9 was sent.
    pub role: Option<BgpRole>,
    /// Proposed hold time.
    pub hold_time: u16,
    /// BGP identifier.
    pub bgp_id: u32,
}

impl Advertised {
    /// Summarize a validated OPEN.
    pub fn from_open<T: AsRef<[u8]>>(open: &OpenPacket<T>) -> Self {
        let mut a = Advertised {
            asn: u32::from(open.my_as()),
            hold_time: open.hold_time(),
            bgp_id: open.bgp_id(),
            ..Advertised::default()
        };
        for c in open.capabilities() {
            match c {
                Capability::Multiprotocol(f) => a.families.insert(f),
                Capability::RouteRefresh | Capability::CiscoRouteRefresh => a.route_refresh = true,
                Capability::ExtendedMessage => a.extended_message = true,
                Capability::Role(r) => a.role = Some(r),
                Capability::GracefulRestart {
                    restart_flags,
                    restart_time,
                    families,
                } => {
                    a.graceful_restart = Some(restart_time);
                    a.graceful_restart_flags = restart_flags;
                    for f in families {
                        a.graceful_restart_families.insert(f.afi_safi);
                        if f.flags & 0x80 != 0 {
                            a.graceful_restart_preserved.insert(f.afi_safi);
                        }
                    }
                }
                Capability::FourOctetAs(asn) => {
                    a.four_octet_as = true;
                    a.asn = asn;
                }
                Capability::AddPath(it) => {
                    for f in it {
                        if f.flags & super::capability::add_path::RECEIVE != 0 {
                            a.add_path_receive.insert(f.afi_safi);
                        }
                        if f.flags & super::capability::add_path::SEND != 0 {
                            a.add_path_send.insert(f.afi_safi);
                        }
                    }
                }
                Capability::EnhancedRouteRefresh => a.enhanced_route_refresh = true,
                Capability::ExtendedNextHop(it) => {
                    for e in it {
                        if e.next_hop_afi == super::Afi::IPV6 {
                            a.extended_next_hop.insert(e.afi_safi);
                        }
                    }
                }
                Capability::LongLivedGracefulRestart(_)
                | Capability::Fqdn { .. }
                | Capability::Unknown { .. } => {}
            }
        }
        // RFC 4760 §8: a speaker that advertises no Multiprotocol capability speaks IPv4 unicast.
        if a.families.is_empty() {
            a.families.insert(AfiSafi::IPV4_UNICAST);
        }
        a
    }
}

/// What a session negotiated, from our OPEN and the peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Both sides support 4-octet AS numbers (RFC 6793).
    pub four_octet_as: bool,
    /// The peer's AS (from its capability 65 when present).
    pub peer_as: u32,
    /// The peer's BGP identifier.
    pub peer_bgp_id: u32,
    /// Families both sides advertised.
    pub families: Families,
    /// Families whose UPDATEs from the peer carry path identifiers (we receive, they send).
    pub add_path_receive: AfiSafiSet,
    /// Families whose UPDATEs to the peer carry path identifiers (we send, they receive).
    pub add_path_send: AfiSafiSet,
    /// Both sides support extended messages (RFC 8654).
    pub extended_message: bool,
    /// Both sides support ROUTE-REFRESH (RFC 2918, or the Cisco code 128).
    pub route_refresh: bool,
    /// Both sides support enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// The peer's graceful restart time, when both sides advertised graceful restart (RFC 4724).
    pub graceful_restart: Option<u16>,
    /// Negotiated families in which the peer preserved its forwarding state across a restart
    /// (its capability 64 F bits; empty unless `graceful_restart` is set).
    pub graceful_restart_preserved: AfiSafiSet,
    /// Our BGP role (RFC 9234) on an eBGP session where we advertised one
    /// (`None` on iBGP: RFC 9234 roles apply between ASes only).
    pub local_role: Option<BgpRole>,
    /// The peer's BGP role (RFC 9234) on an eBGP session where it sent one (`None` on iBGP).
    pub peer_role: Option<BgpRole>,
    /// Families both sides can receive with an IPv6 next hop (RFC 8950:
    /// capability 5 entries with next-hop AFI 2 in both OPENs).
    pub extended_next_hop: AfiSafiSet,
    /// Hold time: the smaller of the two proposals (RFC 4271 §4.2).
    pub hold_time: u16,
}

impl Negotiated {
    /// Negotiate from our OPEN and the peer's.
    pub fn new<A: AsRef<[u8]>, B: AsRef<[u8]>>(
        ours: &OpenPacket<A>,
        theirs: &OpenPacket<B>,
    ) -> Self {
        Self::from_advertised(&Advertised::from_open(ours), &Advertised::from_open(theirs))
    }

    /// Negotiate from the two summaries.
    pub fn from_advertised(ours: &Advertised, theirs: &Advertised) -> Self {
        let mut families = Families::default();
        for f in ours.families.as_slice() {
            if theirs.families.contains(*f) {
                families.insert(*f);
            }
        }
        let mut add_path_receive = AfiSafiSet::EMPTY;
        let mut add_path_send = AfiSafiSet::EMPTY;
        let graceful_restart = ours.graceful_restart.and(theirs.graceful_restart);
        let mut graceful_restart_preserved = AfiSafiSet::EMPTY;
        for f in families.as_slice() {
            if graceful_restart.is_some() && theirs.graceful_restart_preserved.contains(*f) {
                graceful_restart_preserved.insert(*f);
            }
            if ours.add_path_receive.contains(*f) && theirs.add_path_send.contains(*f) {
                add_path_receive.insert(*f);
            }
            if ours.add_path_send.contains(*f) && theirs.add_path_receive.contains(*f) {
                add_path_send.insert(*f);
            }
        }
        let ebgp = ours.asn != theirs.asn;
        Negotiated {
            four_octet_as: ours.four_octet_as && theirs.four_octet_as,
            peer_as: theirs.asn,
            peer_bgp_id: theirs.bgp_id,
            families,
            add_path_receive,
            add_path_send,
            extended_message: ours.extended_message && theirs.extended_message,
            route_refresh: ours.route_refresh && theirs.route_refresh,
            enhanced_route_refresh: ours.enhanced_route_refresh && theirs.enhanced_route_refresh,
            graceful_restart,
            graceful_restart_preserved,
            local_role: ours.role.filter(|_| ebgp),
            peer_role: theirs.role.filter(|_| ebgp),
            extended_next_hop: ours
                .extended_next_hop
                .intersection(theirs.extended_next_hop),
            hold_time: ours.hold_time.min(theirs.hold_time),
        }
    }

    /// The role the peer plays on this session for the RFC 9234 procedures
    /// (OTC): the role it sent, else the counterpart of ours when we sent one
    /// and the session came up without it (not strict). `None` without roles.
    pub fn remote_role(&self) -> Option<BgpRole> {
        self.peer_role
            .or_else(|| self.local_role.and_then(BgpRole::counterpart))
    }

    /// The context for decoding what the peer sends.
    pub fn receive_context(&self) -> Context {
        Context {
            four_octet_as: self.four_octet_as,
            extended_message: self.extended_message,
            add_path: self.add_path_receive,
        }
    }

    /// The context for encoding what we send to the peer.
    pub fn send_context(&self) -> Context {
        Context {
            four_octet_as: self.four_octet_as,
            extended_message: self.extended_message,
            add_path: self.add_path_send,
        }
    }

    /// Keepalive interval: a third of the hold time (RFC 4271 §10), 0 when the hold time is 0.
    pub fn keepalive_time(&self) -> u16 {
        self.hold_time / 3
    }
}

#[cfg(feature = "alloc")]
pub use repr::OpenRepr;

#[cfg(feature = "alloc")]
mod repr {
    use super::*;
    use crate::wire::capability::CapabilityRepr;
    use crate::wire::Writer;
    use alloc::vec::Vec;

    /// An owned OPEN message.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct OpenRepr {
        /// BGP version.
        pub version: u8,
        /// 2-byte My AS field.
        pub my_as: u16,
        /// Hold time.
        pub hold_time: u16,
        /// BGP identifier.
        pub bgp_id: u32,
        /// Use the RFC 9072 extended parameters encoding.
        pub extended_params: bool,
        /// Capabilities parameters, each with its capabilities, in wire order.
        pub params: Vec<Vec<CapabilityRepr>>,
    }

    impl OpenRepr {
        /// An OPEN with all capabilities in one parameter; `asn` above 65535
        /// goes in as AS_TRANS (add a [`CapabilityRepr::FourOctetAs`] yourself).
        /// The extended parameter encoding is chosen when the parameters exceed 255 bytes.
        pub fn new(asn: u32, hold_time: u16, bgp_id: u32, caps: Vec<CapabilityRepr>) -> Self {
            let mut o = OpenRepr {
                version: BGP_VERSION,
                my_as: u16::try_from(asn).unwrap_or(AS_TRANS),
                hold_time,
                bgp_id,
                extended_params: false,
                params: if caps.is_empty() {
                    Vec::new()
                } else {
                    alloc::vec![caps]
                },
            };
            o.extended_params = o.params_len(false) > 255;
            o
        }

        /// The owned form of a validated OPEN.
        pub fn parse<T: AsRef<[u8]>>(open: &OpenPacket<T>) -> Self {
            OpenRepr {
                version: open.version(),
                my_as: open.my_as(),
                hold_time: open.hold_time(),
                bgp_id: open.bgp_id(),
                extended_params: open.extended_params(),
                params: open
                    .opt_params()
                    .map(|p| {
                        CapabilityTlvIter::new(p.value)
                            .map(|c| CapabilityRepr::parse(&c))
                            .collect()
                    })
                    .collect(),
            }
        }

        /// All capabilities, flattened across parameters.
        pub fn capabilities(&self) -> impl Iterator<Item = &CapabilityRepr> {
            self.params.iter().flatten()
        }

        pub(crate) fn params_len(&self, extended: bool) -> usize {
            let per = if extended { 3 } else { 2 };
            self.params
                .iter()
                .map(|p| per + p.iter().map(CapabilityRepr::buffer_len).sum::<usize>())
                .sum()
        }

        /// Encoded length, header included.
        pub fn buffer_len(&self) -> usize {
            let ext = if self.extended_params { 3 } else { 0 };
            MIN_OPEN_LEN + ext + self.params_len(self.extended_params)
        }

        /// Write the whole message (header included) into `buf`; returns the length written.
        pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
            let len = self.buffer_len();
            let total = u16::try_from(len).map_err(|_| Error::overflow(0))?;
            let mut w = Writer::new(buf);
            Header {
                length: total,
                msg_type: MessageType::Open,
            }
            .emit(&mut w)?;
            w.u8(self.version)?;
            w.u16(self.my_as)?;
            w.u16(self.hold_time)?;
            w.u32(self.bgp_id)?;
            let plen = self.params_len(self.extended_params);
            if self.extended_params {
                w.u8(255)?;
                w.u8(255)?;
                w.u16(u16::try_from(plen).map_err(|_| Error::overflow(w.len()))?)?;
            } else {
                w.u8(u8::try_from(plen).map_err(|_| Error::overflow(w.len()))?)?;
            }
            for p in &self.params {
                let vlen: usize = p.iter().map(CapabilityRepr::buffer_len).sum();
                w.u8(PARAM_CAPABILITIES)?;
                if self.extended_params {
                    w.u16(u16::try_from(vlen).map_err(|_| Error::overflow(w.len()))?)?;
                } else {
                    w.u8(u8::try_from(vlen).map_err(|_| Error::overflow(w.len()))?)?;
                }
                for c in p {
                    c.emit(&mut w)?;
                }
            }
            Ok(w.len())
        }

        /// The encoded message in a new vector.
        pub fn to_vec(&self) -> Result<Vec<u8>> {
            let mut v = alloc::vec![0u8; self.buffer_len()];
            let n = self.emit(&mut v)?;
            v.truncate(n);
            Ok(v)
        }
    }

    impl Negotiated {
        /// Negotiate from two owned OPENs (each is encoded and validated first).
        pub fn from_reprs(ours: &OpenRepr, theirs: &OpenRepr) -> Result<Self> {
            let a = OpenPacket::new_checked(ours.to_vec()?)?;
            let b = OpenPacket::new_checked(theirs.to_vec()?)?;
            Ok(Negotiated::new(&a, &b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::capability::CapabilityRepr;
    use std::vec;
    use std::vec::Vec;

    fn open_bytes(version: u8, my_as: u16, hold: u16, id: u32, params: &[u8]) -> Vec<u8> {
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&((29 + params.len()) as u16).to_be_bytes());
        v.push(1);
        v.push(version);
        v.extend_from_slice(&my_as.to_be_bytes());
        v.extend_from_slice(&hold.to_be_bytes());
        v.extend_from_slice(&id.to_be_bytes());
        v.push(params.len() as u8);
        v.extend_from_slice(params);
        v
    }

    const CAPS: &[u8] = &[
        2, 6, 1, 4, 0, 1, 0, 1, // one parameter, one capability
        2, 12, 2, 0, 65, 4, 0, 0, 0xfd, 0xe8, 70, 0, 128, 0, // one parameter, several
    ];

    #[test]
    fn rfc4271_4_2_fields_and_capabilities() {
        let b = open_bytes(4, 23456, 90, 0x0a000001, CAPS);
        let o = OpenPacket::new_checked(&b[..]).unwrap();
        assert_eq!(o.version(), 4);
        assert_eq!(o.my_as(), 23456);
        assert_eq!(o.asn(), 65000);
        assert_eq!(o.hold_time(), 90);
        assert_eq!(o.bgp_id_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(o.opt_params().count(), 2);
        let codes: Vec<u8> = o.capabilities().map(|c| c.code()).collect();
        assert_eq!(codes, [1, 2, 65, 70, 128]);
        let r = OpenRepr::parse(&o);
        assert_eq!(r.to_vec().unwrap(), b);
    }

    #[test]
    fn rfc4271_6_2_unsupported_version_carries_version_4() {
        let b = open_bytes(3, 1, 90, 1, &[]);
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 1));
        assert_eq!(e.data.resolve(&b), &[0, 4]);
    }

    #[test]
    fn rfc4271_6_2_hold_time_one_is_unacceptable() {
        for hold in [1, 2] {
            let b = open_bytes(4, 1, hold, 1, &[]);
            let e = OpenPacket::new_checked(&b[..]).unwrap_err();
            assert_eq!((e.code, e.subcode), (2, 6), "hold {hold}");
        }
        for hold in [0, 3] {
            let b = open_bytes(4, 1, hold, 1, &[]);
            assert!(OpenPacket::new_checked(&b[..]).is_ok());
        }
    }

    #[test]
    fn rfc4271_6_2_bgp_identifier_zero_is_bad() {
        let b = open_bytes(4, 1, 90, 0, &[]);
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 3));
    }

    #[test]
    fn rfc4271_6_2_unsupported_optional_parameter() {
        let b = open_bytes(4, 1, 90, 1, &[1, 2, 0, 0]);
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 4));
        assert_eq!(e.offset, 29);
    }

    #[test]
    fn rfc5492_capability_overrunning_parameter_is_open_error() {
        // Parameter of 4 bytes holding a capability that claims 9.
        let b = open_bytes(4, 1, 90, 1, &[2, 4, 65, 9, 0, 0]);
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 0));
        assert_eq!(e.kind, ErrorKind::MalformedOptionalParameters);
    }

    #[test]
    fn rfc4271_6_2_opt_param_len_disagreeing_with_message_length() {
        let mut b = open_bytes(4, 1, 90, 1, &[2, 2, 2, 0]);
        b[28] = 6;
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 0));
        let mut b = open_bytes(4, 1, 90, 1, &[2, 2, 2, 0]);
        b[30] = 9; // parameter length overruns
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 0));
    }

    #[test]
    fn rfc4271_6_1_short_open_is_bad_length() {
        let mut b = open_bytes(4, 1, 90, 1, &[]);
        b[17] = 28;
        b.pop();
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
    }

    #[test]
    fn rfc8654_3_open_may_not_exceed_4096() {
        let big: Vec<u8> = (0..25)
            .flat_map(|_| [2u8, 200].into_iter().chain([0u8; 200]))
            .collect();
        let mut params = vec![0u8; 0];
        params.extend_from_slice(&big);
        let mut v = vec![0xff; 16];
        let total = 29 + 3 + params.len();
        v.extend_from_slice(&(total as u16).to_be_bytes());
        v.extend_from_slice(&[1, 4, 0, 1, 0, 90, 0, 0, 0, 1, 255, 255]);
        v.extend_from_slice(&(params.len() as u16).to_be_bytes());
        v.extend_from_slice(&params);
        let e = OpenPacket::new_checked(&v[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
    }

    #[test]
    fn rfc9072_2_extended_parameters_round_trip() {
        let caps: Vec<CapabilityRepr> = (0..80)
            .map(|i| CapabilityRepr::Unknown {
                code: 200,
                data: vec![i as u8; 3],
            })
            .collect();
        let r = OpenRepr::new(4_200_000_000, 180, 7, caps);
        assert!(r.extended_params);
        assert_eq!(r.my_as, AS_TRANS);
        let bytes = r.to_vec().unwrap();
        assert_eq!(&bytes[28..30], &[255, 255]);
        let o = OpenPacket::new_checked(&bytes[..]).unwrap();
        assert!(o.extended_params());
        assert_eq!(o.capabilities().count(), 80);
        assert_eq!(OpenRepr::parse(&o), r);
    }

    #[test]
    fn negotiation_takes_minimum_hold_and_common_families() {
        use CapabilityRepr as C;
        let ap = |sr| {
            C::AddPath(vec![crate::wire::capability::AddPathFamily {
                afi_safi: AfiSafi::IPV4_UNICAST,
                send_receive: sr,
            }])
        };
        let ours = OpenRepr::new(
            65000,
            90,
            1,
            vec![
                C::Multiprotocol(AfiSafi::IPV4_UNICAST),
                C::Multiprotocol(AfiSafi::IPV6_UNICAST),
                C::FourOctetAs(65000),
                C::RouteRefresh,
                C::ExtendedMessage,
                ap(3),
            ],
        );
        let theirs = OpenRepr::new(
            4_200_000_001,
            30,
            2,
            vec![
                C::Multiprotocol(AfiSafi::IPV4_UNICAST),
                C::FourOctetAs(4_200_000_001),
                C::CiscoRouteRefresh,
                ap(2),
            ],
        );
        let n = Negotiated::from_reprs(&ours, &theirs).unwrap();
        assert_eq!(n.hold_time, 30);
        assert_eq!(n.peer_as, 4_200_000_001);
        assert!(n.four_octet_as);
        assert!(n.route_refresh);
        assert!(!n.extended_message);
        assert_eq!(n.families.as_slice(), &[AfiSafi::IPV4_UNICAST]);
        assert!(n.receive_context().add_path(AfiSafi::IPV4_UNICAST));
        assert!(!n.send_context().add_path(AfiSafi::IPV4_UNICAST));
        // No capabilities at all: 2-byte AS, IPv4 unicast only.
        let plain = OpenRepr::new(65001, 90, 3, vec![]);
        let n = Negotiated::from_reprs(&ours, &plain).unwrap();
        assert!(!n.four_octet_as);
        assert_eq!(n.peer_as, 65001);
        assert_eq!(n.families.as_slice(), &[AfiSafi::IPV4_UNICAST]);
    }

    #[test]
    fn rfc9234_4_1_role_capability_of_wrong_length_is_2_0() {
        // One parameter: a Role capability with two value bytes.
        let b = open_bytes(4, 1, 90, 1, &[2, 4, 9, 2, 3, 0]);
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 0));
        assert_eq!(e.offset, 31);
        let b = open_bytes(4, 1, 90, 1, &[2, 2, 9, 0]);
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 0));
        // Length 1 is fine.
        let b = open_bytes(4, 1, 90, 1, &[2, 3, 9, 1, 3]);
        let o = OpenPacket::new_checked(&b[..]).unwrap();
        assert_eq!(Advertised::from_open(&o).role, Some(BgpRole::CUSTOMER));
    }

    #[test]
    fn rfc9234_4_2_two_different_roles_are_role_mismatch() {
        // Across two parameters.
        let b = open_bytes(4, 1, 90, 1, &[2, 3, 9, 1, 3, 2, 3, 9, 1, 4]);
        let e = OpenPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 11));
        assert_eq!(e.kind, ErrorKind::RoleMismatch);
        // The same role twice is one role.
        let b = open_bytes(4, 1, 90, 1, &[2, 6, 9, 1, 3, 9, 1, 3]);
        assert!(OpenPacket::new_checked(&b[..]).is_ok());
    }

    #[test]
    fn rfc9234_roles_and_rfc8950_next_hop_negotiation() {
        use crate::wire::capability::ExtendedNextHop;
        use CapabilityRepr as C;
        let enh = || {
            C::ExtendedNextHop(vec![ExtendedNextHop {
                afi_safi: AfiSafi::IPV4_UNICAST,
                next_hop_afi: crate::wire::Afi::IPV6,
            }])
        };
        let ours = OpenRepr::new(
            65000,
            90,
            1,
            vec![C::FourOctetAs(65000), C::Role(BgpRole::PROVIDER), enh()],
        );
        let theirs = OpenRepr::new(
            65001,
            90,
            2,
            vec![C::FourOctetAs(65001), C::Role(BgpRole::CUSTOMER), enh()],
        );
        let n = Negotiated::from_reprs(&ours, &theirs).unwrap();
        assert_eq!(n.local_role, Some(BgpRole::PROVIDER));
        assert_eq!(n.peer_role, Some(BgpRole::CUSTOMER));
        assert_eq!(n.remote_role(), Some(BgpRole::CUSTOMER));
        assert!(n.extended_next_hop.contains(AfiSafi::IPV4_UNICAST));
        // The peer sends neither: no extended next hop; its role is the counterpart of ours.
        let plain = OpenRepr::new(65001, 90, 2, vec![C::FourOctetAs(65001)]);
        let n = Negotiated::from_reprs(&ours, &plain).unwrap();
        assert_eq!(n.peer_role, None);
        assert_eq!(n.remote_role(), Some(BgpRole::CUSTOMER));
        assert!(n.extended_next_hop.is_empty());
        // iBGP: roles are not used (RFC 9234 §4).
        let ibgp = OpenRepr::new(
            65000,
            90,
            2,
            vec![C::FourOctetAs(65000), C::Role(BgpRole::CUSTOMER)],
        );
        let n = Negotiated::from_reprs(&ours, &ibgp).unwrap();
        assert_eq!(
            (n.local_role, n.peer_role, n.remote_role()),
            (None, None, None)
        );
    }

    mod prop {
        use super::*;
        use crate::wire::capability::{AddPathFamily, ExtendedNextHop, GracefulRestartFamily};
        use crate::wire::{Afi, Safi};
        use proptest::collection::vec as pvec;
        use proptest::prelude::*;

        fn family() -> impl Strategy<Value = AfiSafi> {
            (any::<u16>(), any::<u8>()).prop_map(|(a, s)| AfiSafi::new(Afi(a), Safi(s)))
        }

        fn capability() -> impl Strategy<Value = CapabilityRepr> {
            use CapabilityRepr as C;
            prop_oneof![
                family().prop_map(C::Multiprotocol),
                Just(C::RouteRefresh),
                pvec(
                    (family(), any::<u16>()).prop_map(|(f, n)| ExtendedNextHop {
                        afi_safi: f,
                        next_hop_afi: Afi(n)
                    }),
                    1..5
                )
                .prop_map(C::ExtendedNextHop),
                Just(C::ExtendedMessage),
                any::<u8>().prop_map(|r| C::Role(crate::wire::capability::BgpRole(r))),
                (
                    0u8..16,
                    0u16..4096,
                    pvec(
                        (family(), any::<u8>()).prop_map(|(f, fl)| GracefulRestartFamily {
                            afi_safi: f,
                            flags: fl
                        }),
                        0..5
                    )
                )
                    .prop_map(|(restart_flags, restart_time, families)| {
                        C::GracefulRestart {
                            restart_flags,
                            restart_time,
                            families,
                        }
                    }),
                any::<u32>().prop_map(C::FourOctetAs),
                pvec(
                    (family(), any::<u8>()).prop_map(|(f, sr)| AddPathFamily {
                        afi_safi: f,
                        send_receive: sr
                    }),
                    1..5
                )
                .prop_map(C::AddPath),
                Just(C::EnhancedRouteRefresh),
                pvec(any::<u8>(), 0..20).prop_map(C::LongLivedGracefulRestart),
                (pvec(any::<u8>(), 0..20), pvec(any::<u8>(), 0..20))
                    .prop_map(|(hostname, domain)| C::Fqdn { hostname, domain }),
                Just(C::CiscoRouteRefresh),
                (150u8..=255, pvec(any::<u8>(), 0..30))
                    .prop_map(|(code, data)| C::Unknown { code, data }),
            ]
        }

        fn open() -> impl Strategy<Value = OpenRepr> {
            (
                any::<u16>(),
                any::<u16>().prop_filter("hold 1, 2", |h| *h != 1 && *h != 2),
                1u32..,
                any::<bool>(),
                pvec(pvec(capability(), 0..6), 0..5),
            )
                .prop_map(|(my_as, hold_time, bgp_id, ext, params)| {
                    let mut o = OpenRepr {
                        version: BGP_VERSION,
                        my_as,
                        hold_time,
                        bgp_id,
                        extended_params: ext,
                        params,
                    };
                    if o.params_len(false) > 255 {
                        o.extended_params = true;
                    }
                    // RFC 9234 §4.2: every Role capability of one OPEN carries the same role.
                    let first = o.capabilities().find_map(|c| match c {
                        CapabilityRepr::Role(r) => Some(*r),
                        _ => None,
                    });
                    for c in o.params.iter_mut().flatten() {
                        if let (CapabilityRepr::Role(r), Some(f)) = (c, first) {
                            *r = f;
                        }
                    }
                    o
                })
        }

        proptest! {
            #[test]
            fn open_repr_round_trips(o in open()) {
                let bytes = o.to_vec().unwrap();
                prop_assert_eq!(bytes.len(), o.buffer_len());
                let p = OpenPacket::new_checked(&bytes[..]).unwrap();
                prop_assert_eq!(p.capabilities().count(), o.capabilities().count());
                prop_assert_eq!(OpenRepr::parse(&p), o);
            }

            #[test]
            fn open_check_never_panics(bytes in pvec(any::<u8>(), 0..80)) {
                let mut b = std::vec![0xffu8; 16];
                b.extend_from_slice(&((19 + bytes.len()) as u16).to_be_bytes());
                b.push(1);
                b.extend_from_slice(&bytes);
                if let Ok(p) = OpenPacket::new_checked(&b[..]) {
                    let _ = p.capabilities().count();
                    prop_assert_eq!(OpenRepr::parse(&p).to_vec().unwrap(), b);
                }
            }
        }
    }
}
