//! BGP messages and MRT records as plain JSON values, decoded by
//! reflector-core's wire and MRT parsers (no decoding logic of its own beyond
//! naming things and formatting addresses).
//!
//! Field names are camelCase. UPDATEs, attributes, errors and MRT record bodies
//! are typed DTOs whose TypeScript declarations tsify generates; the other
//! message objects and the `MrtRecord` union are described in `js_wire.rs`, and
//! `wasm/tests/decode.test.mjs` checks every decoded object against the `.d.ts`.

use std::net::{Ipv4Addr, Ipv6Addr};

use reflector_core::error::{Action, Error, ErrorKind};
use reflector_core::mrt::{self, Body, Record, RibMpReach, RibNlri};
use reflector_core::wire::attribute::{
    self, flags, type_code, AsPathView, AttrIter, Attribute, MpReach, MpUnreach, RawAttribute,
    SegmentType, TypeSet,
};
use reflector_core::wire::capability::{self, Capability};
use reflector_core::wire::message::Message;
use reflector_core::wire::notification;
use reflector_core::wire::open::OpenPacket;
use reflector_core::wire::route_refresh::Subtype;
use reflector_core::wire::{
    AfiSafi, AfiSafiSet, Context, Header, MessageType, NlriIter, UpdatePacket, MAX_EXTENDED_LEN,
};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tsify_next::Tsify;

/// How to read UPDATEs: what the session negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// 4-octet AS numbers in AS_PATH (RFC 6793); default true.
    pub four_octet_as: bool,
    /// ADD-PATH path identifiers on every family (RFC 7911); default false.
    pub add_path: bool,
    /// Messages up to 65,535 bytes (RFC 8654); default true.
    pub extended_message: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            four_octet_as: true,
            add_path: false,
            extended_message: true,
        }
    }
}

impl DecodeOptions {
    /// The decoding context these options describe.
    pub fn context(&self) -> Context {
        Context {
            four_octet_as: self.four_octet_as,
            extended_message: self.extended_message,
            add_path: if self.add_path {
                mrt::ADD_PATH_ALL
            } else {
                AfiSafiSet::EMPTY
            },
        }
    }
}

// ---------------------------------------------------------------- small formatters

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Bytes from hex text; whitespace, `:` and `-` separators and a `0x` prefix are allowed.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let digits: Vec<u8> = t
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':' && *b != b'-')
        .collect();
    if let Some(bad) = digits.iter().find(|b| !b.is_ascii_hexdigit()) {
        return Err(format!(
            "not a hex digit: {:?}",
            char::from(*bad).escape_default().to_string()
        ));
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let val = |b: u8| -> u8 {
        match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        }
    };
    Ok(digits
        .chunks_exact(2)
        .map(|p| match p {
            [h, l] => (val(*h) << 4) | val(*l),
            _ => 0,
        })
        .collect())
}

fn be32(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x))
}

/// The family's name (`ipv4-unicast`, ...), or `afi/safi`.
pub fn family_name(f: AfiSafi) -> String {
    match (f.afi.0, f.safi.0) {
        (1, 1) => "ipv4-unicast".into(),
        (1, 2) => "ipv4-multicast".into(),
        (2, 1) => "ipv6-unicast".into(),
        (2, 2) => "ipv6-multicast".into(),
        (1, 4) => "ipv4-labeled-unicast".into(),
        (2, 4) => "ipv6-labeled-unicast".into(),
        (1, 128) => "ipv4-vpn".into(),
        (2, 128) => "ipv6-vpn".into(),
        (1, 132) => "route-target".into(),
        (1, 133) => "ipv4-flowspec".into(),
        (2, 133) => "ipv6-flowspec".into(),
        (25, 70) => "l2vpn-evpn".into(),
        (a, s) => format!("{a}/{s}"),
    }
}

/// An address family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
pub struct Family {
    /// AFI.
    pub afi: u16,
    /// SAFI.
    pub safi: u8,
    /// Its name, e.g. `ipv4-unicast`, or `afi/safi`.
    pub name: String,
}

impl Family {
    /// The family of an AFI/SAFI pair.
    pub fn of(f: AfiSafi) -> Family {
        Family {
            afi: f.afi.0,
            safi: f.safi.0,
            name: family_name(f),
        }
    }
}

fn family(f: AfiSafi) -> Value {
    to_value(Family::of(f))
}

/// A value as JSON (these types always serialize).
fn to_value<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One NLRI entry; `pathId` only under ADD-PATH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct NlriEntry {
    /// The prefix.
    pub prefix: String,
    /// The ADD-PATH path identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub path_id: Option<u32>,
}

/// MP_REACH_NLRI (RFC 4760). `nlriHex` holds the NLRI of families not decoded into prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct MpReachValue {
    /// The family; null in the short form of table dumps (RFC 6396 §4.3.4).
    pub family: Option<Family>,
    /// Next hop addresses (hex when not an address).
    pub next_hop: Vec<String>,
    /// Prefixes announced.
    pub nlri: Vec<NlriEntry>,
    /// The NLRI bytes, hex, of families not decoded into prefixes.
    pub nlri_hex: Option<String>,
}

/// MP_UNREACH_NLRI (RFC 4760).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct MpUnreachValue {
    /// The family.
    pub family: Family,
    /// Prefixes withdrawn.
    pub withdrawn: Vec<NlriEntry>,
    /// The withdrawn NLRI bytes, hex, of families not decoded into prefixes.
    pub withdrawn_hex: Option<String>,
}

/// One AS_PATH / AS4_PATH segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
pub struct AsPathSegment {
    /// The segment type.
    #[serde(rename = "type")]
    #[tsify(type = "\"AS_SET\" | \"AS_SEQUENCE\" | \"AS_CONFED_SEQUENCE\" | \"AS_CONFED_SET\"")]
    pub kind: &'static str,
    /// Its AS numbers.
    pub asns: Vec<u32>,
}

/// AGGREGATOR / AS4_AGGREGATOR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
pub struct AggregatorValue {
    /// The AS.
    pub asn: u32,
    /// The address.
    pub address: String,
}

/// The flags of a path attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct AttributeFlags {
    /// Optional (else well-known).
    pub optional: bool,
    /// Transitive.
    pub transitive: bool,
    /// Partial.
    pub partial: bool,
    /// Two-byte length.
    pub extended_length: bool,
}

/// A path attribute as it stands in the message.
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PathAttribute {
    /// The type code.
    pub type_code: u8,
    /// IANA name, e.g. `AS_PATH`, or `UNKNOWN_<code>`.
    pub name: String,
    /// The flags.
    pub flags: AttributeFlags,
    /// Offset of the attribute in the message.
    pub offset: usize,
    /// Length of the value.
    pub length: usize,
    /// Whether `value` is the typed value (false: hex of the bytes).
    pub decoded: bool,
    /// A repeated attribute, or one RFC 7606 says to discard: not in effect.
    pub discarded: bool,
    /// The value (see `AttributeValue`).
    #[tsify(type = "AttributeValue")]
    pub value: Value,
}

/// An UPDATE decoded by reflector-core (RFC 4271, RFC 4760, RFC 7606).
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct DecodedUpdate {
    /// Always `UPDATE`.
    #[serde(rename = "type")]
    #[tsify(type = "\"UPDATE\"")]
    pub kind: &'static str,
    /// Message length from the header (null when the header is cut short).
    pub length: Option<u64>,
    /// Classic IPv4 withdrawn routes.
    pub withdrawn: Vec<NlriEntry>,
    /// Classic IPv4 NLRI.
    pub nlri: Vec<NlriEntry>,
    /// Every attribute, in wire order.
    pub attributes: Vec<PathAttribute>,
    /// ORIGIN.
    #[tsify(type = "\"IGP\" | \"EGP\" | \"INCOMPLETE\" | null")]
    pub origin: Option<String>,
    /// AS_PATH as routers print it: sets in braces, confederation segments in parentheses.
    pub as_path: Option<String>,
    /// NEXT_HOP.
    pub next_hop: Option<String>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// COMMUNITIES.
    pub communities: Vec<String>,
    /// LARGE_COMMUNITY.
    pub large_communities: Vec<String>,
    /// ORIGINATOR_ID.
    pub originator_id: Option<String>,
    /// CLUSTER_LIST.
    pub cluster_list: Vec<String>,
    /// MP_REACH_NLRI.
    pub mp_reach: Option<MpReachValue>,
    /// MP_UNREACH_NLRI.
    pub mp_unreach: Option<MpUnreachValue>,
    /// The family of an End-of-RIB marker (RFC 4724).
    pub end_of_rib: Option<String>,
    /// The RFC 7606 action of the most severe error; null when well formed.
    pub action: Option<ErrorAction>,
    /// Whether the UPDATE is handled as a withdrawal (RFC 7606).
    pub treat_as_withdraw: bool,
    /// Errors found.
    pub errors: Vec<DecodeError>,
}

/// The IANA name of a path attribute type.
pub fn attribute_name(t: u8) -> String {
    match t {
        1 => "ORIGIN".into(),
        2 => "AS_PATH".into(),
        3 => "NEXT_HOP".into(),
        4 => "MULTI_EXIT_DISC".into(),
        5 => "LOCAL_PREF".into(),
        6 => "ATOMIC_AGGREGATE".into(),
        7 => "AGGREGATOR".into(),
        8 => "COMMUNITIES".into(),
        9 => "ORIGINATOR_ID".into(),
        10 => "CLUSTER_LIST".into(),
        14 => "MP_REACH_NLRI".into(),
        15 => "MP_UNREACH_NLRI".into(),
        16 => "EXTENDED_COMMUNITIES".into(),
        17 => "AS4_PATH".into(),
        18 => "AS4_AGGREGATOR".into(),
        20 => "CONNECTOR".into(),
        21 => "AS_PATHLIMIT".into(),
        22 => "PMSI_TUNNEL".into(),
        23 => "TUNNEL_ENCAPSULATION".into(),
        25 => "IPV6_EXTENDED_COMMUNITIES".into(),
        26 => "AIGP".into(),
        29 => "BGP_LS".into(),
        32 => "LARGE_COMMUNITY".into(),
        33 => "BGPSEC_PATH".into(),
        35 => "OTC".into(),
        40 => "PREFIX_SID".into(),
        128 => "ATTR_SET".into(),
        t => format!("UNKNOWN_{t}"),
    }
}

/// The well-known name of a COMMUNITIES value, if it has one.
fn community_text(c: u32) -> String {
    match c {
        0xFFFF_0000 => "GRACEFUL_SHUTDOWN".into(),
        0xFFFF_0001 => "ACCEPT_OWN".into(),
        0xFFFF_0006 => "LLGR_STALE".into(),
        0xFFFF_0007 => "NO_LLGR".into(),
        0xFFFF_029A => "BLACKHOLE".into(),
        0xFFFF_FF01 => "NO_EXPORT".into(),
        0xFFFF_FF02 => "NO_ADVERTISE".into(),
        0xFFFF_FF03 => "NO_EXPORT_SUBCONFED".into(),
        0xFFFF_FF04 => "NOPEER".into(),
        c => format!("{}:{}", c >> 16, c & 0xffff),
    }
}

/// An address field of 4 or 16 bytes, or 32 (global and link-local IPv6); else `None`.
fn addresses(b: &[u8]) -> Option<Vec<String>> {
    match b.len() {
        4 => Some(vec![Ipv4Addr::from(be32(b)).to_string()]),
        16 | 32 => Some(
            b.chunks_exact(16)
                .map(|c| {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(c);
                    Ipv6Addr::from(a).to_string()
                })
                .collect(),
        ),
        _ => None,
    }
}

fn next_hops(b: &[u8]) -> Vec<String> {
    addresses(b).unwrap_or_else(|| vec![hex(b)])
}

fn nlri_list(it: NlriIter<'_>) -> Vec<NlriEntry> {
    it.map(|n| NlriEntry {
        prefix: n.prefix.to_string(),
        path_id: n.path_id,
    })
    .collect()
}

fn segment_name(k: SegmentType) -> &'static str {
    match k {
        SegmentType::Set => "AS_SET",
        SegmentType::Sequence => "AS_SEQUENCE",
        SegmentType::ConfedSequence => "AS_CONFED_SEQUENCE",
        SegmentType::ConfedSet => "AS_CONFED_SET",
    }
}

fn as_path_segments(p: &AsPathView<'_>) -> Vec<AsPathSegment> {
    p.segments()
        .map(|s| AsPathSegment {
            kind: segment_name(s.kind),
            asns: s.asns().collect(),
        })
        .collect()
}

/// AS_PATH as routers print it: sequences as numbers, sets in braces, confederations in parentheses.
fn as_path_text(p: &AsPathView<'_>) -> String {
    let mut parts = Vec::new();
    for s in p.segments() {
        let asns: Vec<String> = s.asns().map(|a| a.to_string()).collect();
        let j = asns.join(" ");
        parts.push(match s.kind {
            SegmentType::Sequence => j,
            SegmentType::Set => format!("{{{j}}}"),
            SegmentType::ConfedSequence => format!("({j})"),
            SegmentType::ConfedSet => format!("[{j}]"),
        });
    }
    parts.join(" ")
}

fn mp_reach_value(m: &MpReach<'_>) -> MpReachValue {
    let (nlri, nlri_hex) = match m.prefixes() {
        Some(it) => (nlri_list(it), None),
        None => (Vec::new(), Some(hex(m.nlri_bytes))),
    };
    MpReachValue {
        family: Some(Family::of(m.afi_safi)),
        next_hop: next_hops(m.next_hop),
        nlri,
        nlri_hex,
    }
}

fn mp_unreach_value(m: &MpUnreach<'_>) -> MpUnreachValue {
    let (withdrawn, withdrawn_hex) = match m.prefixes() {
        Some(it) => (nlri_list(it), None),
        None => (Vec::new(), Some(hex(m.nlri_bytes))),
    };
    MpUnreachValue {
        family: Family::of(m.afi_safi),
        withdrawn,
        withdrawn_hex,
    }
}

/// The decoded value of an attribute (see `AttributeValue` in the TypeScript types).
fn attribute_value(a: &RawAttribute<'_>, ctx: &Context) -> Value {
    match a.decode(ctx) {
        Attribute::Origin(o) => json!(o.as_str()),
        Attribute::AsPath(p) | Attribute::As4Path(p) => to_value(as_path_segments(&p)),
        Attribute::NextHop(ip) | Attribute::OriginatorId(ip) => json!(ip.to_string()),
        Attribute::Med(v) | Attribute::LocalPref(v) | Attribute::Otc(v) => json!(v),
        Attribute::AtomicAggregate => Value::Null,
        Attribute::Aggregator { asn, address } | Attribute::As4Aggregator { asn, address } => {
            to_value(AggregatorValue {
                asn,
                address: address.to_string(),
            })
        }
        Attribute::Communities(b) => {
            json!(attribute::u32s(b).map(community_text).collect::<Vec<_>>())
        }
        Attribute::ClusterList(b) => json!(attribute::u32s(b)
            .map(|c| Ipv4Addr::from(c).to_string())
            .collect::<Vec<_>>()),
        Attribute::MpReach(m) => to_value(mp_reach_value(&m)),
        Attribute::MpUnreach(m) => to_value(mp_unreach_value(&m)),
        Attribute::ExtendedCommunities(b) => {
            json!(b.chunks_exact(8).map(hex).collect::<Vec<_>>())
        }
        Attribute::LargeCommunities(b) => json!(b
            .chunks_exact(12)
            .map(|c| {
                let (g, rest) = c.split_at(4);
                let (l1, l2) = rest.split_at(4);
                format!("{}:{}:{}", be32(g), be32(l1), be32(l2))
            })
            .collect::<Vec<_>>()),
        Attribute::Unknown(r) => json!(hex(r.value)),
    }
}

/// Whether `attribute_value` gave the attribute's typed value (false: raw hex).
fn is_decoded(a: &RawAttribute<'_>, ctx: &Context) -> bool {
    !matches!(a.decode(ctx), Attribute::Unknown(_))
}

fn attribute_object(a: &RawAttribute<'_>, ctx: &Context, discarded: bool) -> PathAttribute {
    attribute_object_as(a, ctx, discarded, false)
}

/// An attribute as a plain object; `malformed`: the one an error concerns, shown as raw hex.
fn attribute_object_as(
    a: &RawAttribute<'_>,
    ctx: &Context,
    discarded: bool,
    malformed: bool,
) -> PathAttribute {
    let (decoded, value) = if malformed {
        (false, json!(hex(a.value)))
    } else {
        (is_decoded(a, ctx), attribute_value(a, ctx))
    };
    PathAttribute {
        type_code: a.type_code,
        name: attribute_name(a.type_code),
        flags: AttributeFlags {
            optional: a.flags & flags::OPTIONAL != 0,
            transitive: a.flags & flags::TRANSITIVE != 0,
            partial: a.flags & flags::PARTIAL != 0,
            extended_length: a.flags & flags::EXTENDED_LENGTH != 0,
        },
        offset: a.offset,
        length: a.value.len(),
        decoded,
        discarded,
        value,
    }
}

// ---------------------------------------------------------------- errors

/// The `kind` string of an error: the Rust variant name.
pub fn kind_name(k: ErrorKind) -> String {
    format!("{k:?}")
}

/// The RFC 7606 action a malformed message calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorAction {
    /// Send the NOTIFICATION and close the session.
    SessionReset,
    /// Disable the AFI/SAFI the error concerns.
    AfiSafiDisable,
    /// Withdraw every prefix the UPDATE carried.
    TreatAsWithdraw,
    /// Drop the offending attribute.
    AttributeDiscard,
}

impl From<Action> for ErrorAction {
    fn from(a: Action) -> Self {
        match a {
            Action::SessionReset => ErrorAction::SessionReset,
            Action::AfiSafiDisable => ErrorAction::AfiSafiDisable,
            Action::TreatAsWithdraw => ErrorAction::TreatAsWithdraw,
            Action::AttributeDiscard => ErrorAction::AttributeDiscard,
        }
    }
}

/// A decode error: what went wrong, what to do (RFC 7606) and the NOTIFICATION to send (RFC 4271 §4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct DecodeError {
    /// the reflector-core ErrorKind variant, e.g. `InvalidNextHop`, `MalformedAsPath`, `Truncated`.
    pub kind: String,
    /// The kind in words.
    pub description: String,
    /// The whole error as one line.
    pub message: String,
    /// The RFC 7606 action.
    pub action: ErrorAction,
    /// Whether the session must be reset.
    pub fatal: bool,
    /// NOTIFICATION error code; 0 where none applies (MRT framing).
    pub code: u8,
    /// NOTIFICATION error subcode.
    pub subcode: u8,
    /// The code name; null when `code` is 0.
    pub code_name: Option<String>,
    /// The subcode name; null when `code` is 0.
    pub subcode_name: Option<String>,
    /// Byte offset in the message (or MRT record).
    pub offset: usize,
    /// The path attribute type the error concerns.
    pub attribute_type: Option<u8>,
    /// The NOTIFICATION data, hex.
    pub data: String,
}

impl DecodeError {
    /// The error as JavaScript sees it; `message` is what it was found in (for the NOTIFICATION data).
    pub fn new(e: &Error, message: &[u8]) -> DecodeError {
        let (code_name, subcode_name) = if e.code == 0 {
            (None, None)
        } else {
            (
                Some(notification::code_name(e.code).to_string()),
                Some(notification::subcode_name(e.code, e.subcode).to_string()),
            )
        };
        DecodeError {
            kind: kind_name(e.kind),
            description: e.kind.as_str().to_string(),
            message: e.to_string(),
            action: e.action.into(),
            fatal: e.is_fatal(),
            code: e.code,
            subcode: e.subcode,
            code_name,
            subcode_name,
            offset: e.offset,
            attribute_type: e.attr_type,
            data: hex(e.data.resolve(message)),
        }
    }
}

/// A decode error as a plain object (a [`DecodeError`]).
pub fn error_value(e: &Error, message: &[u8]) -> Value {
    serde_json::to_value(DecodeError::new(e, message)).unwrap_or(Value::Null)
}

/// The attributes of a path held by the engine: every one as `decodeUpdate` shows them, and the usual ones flat.
#[derive(Debug, Clone, Default)]
pub struct PathAttributes {
    /// Every attribute.
    pub attributes: Vec<PathAttribute>,
    /// ORIGIN.
    pub origin: Option<String>,
    /// AS_PATH as routers print it.
    pub as_path: Option<String>,
    /// NEXT_HOP, or the first MP_REACH_NLRI next hop.
    pub next_hop: Option<String>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// COMMUNITIES.
    pub communities: Vec<String>,
    /// LARGE_COMMUNITY.
    pub large_communities: Vec<String>,
    /// ORIGINATOR_ID.
    pub originator_id: Option<String>,
    /// CLUSTER_LIST.
    pub cluster_list: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Decodes an engine path's canonical attribute block (4-octet AS numbers).
pub fn path_attributes(block: &[u8]) -> PathAttributes {
    let ctx = Context::default();
    let (attributes, _) = attribute_block(block, 0, &ctx);
    let mut out = PathAttributes {
        attributes,
        ..PathAttributes::default()
    };
    let Ok(it) = AttrIter::new_checked(block, 0) else {
        return out;
    };
    for a in it {
        let v = attribute_value(&a, &ctx);
        let num = || v.as_u64().and_then(|n| u32::try_from(n).ok());
        match a.type_code {
            type_code::ORIGIN => out.origin = v.as_str().map(str::to_string),
            type_code::AS_PATH => {
                if let Attribute::AsPath(p) = a.decode(&ctx) {
                    out.as_path = Some(as_path_text(&p));
                }
            }
            type_code::NEXT_HOP => out.next_hop = v.as_str().map(str::to_string),
            type_code::MP_REACH_NLRI if out.next_hop.is_none() => {
                out.next_hop = v
                    .get("nextHop")
                    .and_then(|n| n.get(0))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            type_code::MED => out.med = num(),
            type_code::LOCAL_PREF => out.local_pref = num(),
            type_code::COMMUNITIES => out.communities = strings(&v),
            type_code::LARGE_COMMUNITY => out.large_communities = strings(&v),
            type_code::ORIGINATOR_ID => out.originator_id = v.as_str().map(str::to_string),
            type_code::CLUSTER_LIST => out.cluster_list = strings(&v),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------- UPDATE

fn empty_update(
    length: Option<u64>,
    errors: Vec<DecodeError>,
    action: Option<Action>,
) -> DecodedUpdate {
    DecodedUpdate {
        kind: "UPDATE",
        length,
        withdrawn: Vec::new(),
        nlri: Vec::new(),
        attributes: Vec::new(),
        origin: None,
        as_path: None,
        next_hop: None,
        med: None,
        local_pref: None,
        communities: Vec::new(),
        large_communities: Vec::new(),
        originator_id: None,
        cluster_list: Vec::new(),
        mp_reach: None,
        mp_unreach: None,
        end_of_rib: None,
        action: action.map(ErrorAction::from),
        treat_as_withdraw: false,
        errors,
    }
}

fn header_length(bytes: &[u8]) -> Value {
    json!(header_len(bytes))
}

fn header_len(bytes: &[u8]) -> Option<u64> {
    bytes.get(16..18).map(|l| u64::from(be32(l)))
}

fn update_map(u: DecodedUpdate) -> Map<String, Value> {
    match to_value(u) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn update_object(u: &UpdatePacket<&[u8]>, err: Option<Error>) -> DecodedUpdate {
    let ctx = *u.context();
    let bytes = u.as_bytes();
    let errors = err.iter().map(|e| DecodeError::new(e, bytes)).collect();
    let mut o = empty_update(Some(bytes.len() as u64), errors, err.map(|e| e.action));
    o.withdrawn = nlri_list(u.withdrawn());
    o.nlri = nlri_list(u.nlri());
    let discard = u.summary().discard;
    // The attribute an error concerns is shown as its bytes, not as a value read from them.
    let bad = err.and_then(|e| e.attr_type);
    let mut seen = TypeSet::EMPTY;
    o.attributes = u
        .raw_attributes()
        .map(|a| {
            let first = seen.insert(a.type_code);
            let malformed = bad == Some(a.type_code);
            attribute_object_as(&a, &ctx, !first || discard.contains(a.type_code), malformed)
        })
        .collect();
    for a in u.attributes() {
        if bad == Some(a.type_code) || !is_decoded(&a, &ctx) {
            continue;
        }
        let v = attribute_value(&a, &ctx);
        let text = || v.as_str().map(str::to_string);
        let num = || v.as_u64().and_then(|n| u32::try_from(n).ok());
        match a.type_code {
            type_code::ORIGIN => o.origin = text(),
            type_code::NEXT_HOP => o.next_hop = text(),
            type_code::MED => o.med = num(),
            type_code::LOCAL_PREF => o.local_pref = num(),
            type_code::COMMUNITIES => o.communities = strings(&v),
            type_code::LARGE_COMMUNITY => o.large_communities = strings(&v),
            type_code::ORIGINATOR_ID => o.originator_id = text(),
            type_code::CLUSTER_LIST => o.cluster_list = strings(&v),
            _ => {}
        }
    }
    if let Some(p) = u.as_path() {
        o.as_path = Some(as_path_text(&p));
    }
    o.mp_reach = u.mp_reach().map(|m| mp_reach_value(&m));
    o.mp_unreach = u.mp_unreach().map(|m| mp_unreach_value(&m));
    o.end_of_rib = u.end_of_rib().map(family_name);
    o.treat_as_withdraw = u.is_treat_as_withdraw();
    o
}

/// Decode one UPDATE message (19-byte header included) with RFC 7606 error handling.
///
/// Never fails: an error the session survives comes with the decoded message
/// in `errors`; one that resets the session (or disables the family) comes
/// alone, with empty fields.
pub fn decode_update(bytes: &[u8], opts: &DecodeOptions) -> Value {
    let ctx = opts.context();
    match UpdatePacket::parse_revised(bytes, &ctx) {
        Ok((u, e)) => to_value(update_object(&u, e)),
        Err(e) => to_value(empty_update(
            header_len(bytes),
            vec![DecodeError::new(&e, bytes)],
            Some(e.action),
        )),
    }
}

fn type_name(t: MessageType) -> &'static str {
    match t {
        MessageType::Open => "OPEN",
        MessageType::Update => "UPDATE",
        MessageType::Notification => "NOTIFICATION",
        MessageType::Keepalive => "KEEPALIVE",
        MessageType::RouteRefresh => "ROUTE-REFRESH",
    }
}

fn capability_detail(c: &Capability<'_>) -> Value {
    match c {
        Capability::Multiprotocol(f) => json!(family_name(*f)),
        Capability::FourOctetAs(asn) => json!(asn.to_string()),
        Capability::Role(r) => json!(r.as_str()),
        Capability::Fqdn { hostname, domain } => json!(format!(
            "{}.{}",
            String::from_utf8_lossy(hostname),
            String::from_utf8_lossy(domain)
        )),
        Capability::Unknown { data, .. } => json!(hex(data)),
        _ => Value::Null,
    }
}

fn open_object(p: &OpenPacket<&[u8]>) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("type".into(), json!("OPEN"));
    o.insert("length".into(), json!(p.as_bytes().len()));
    o.insert("version".into(), json!(p.version()));
    o.insert("myAs".into(), json!(p.my_as()));
    o.insert("asn".into(), json!(p.asn()));
    o.insert("holdTime".into(), json!(p.hold_time()));
    o.insert("bgpId".into(), json!(p.bgp_id_addr().to_string()));
    let caps: Vec<Value> = p
        .capabilities()
        .map(|c| {
            let code = c.code();
            json!({ "code": code, "name": capability::name(code), "detail": capability_detail(&c) })
        })
        .collect();
    o.insert("capabilities".into(), Value::Array(caps));
    o.insert("errors".into(), json!([]));
    o
}

/// Decode any BGP message: `type` tells which; UPDATEs have the fields of [`decode_update`].
pub fn decode_message(bytes: &[u8], opts: &DecodeOptions) -> Value {
    let ctx = opts.context();
    let parsed = Message::parse_revised(bytes, &ctx);
    let o = match parsed {
        Ok((Message::Update(u), e)) => update_map(update_object(&u, e)),
        Ok((Message::Open(p), _)) => open_object(&p),
        Ok((Message::Keepalive, _)) => {
            let mut o = Map::new();
            o.insert("type".into(), json!("KEEPALIVE"));
            o.insert("length".into(), json!(bytes.len()));
            o.insert("errors".into(), json!([]));
            o
        }
        Ok((Message::Notification(n), _)) => {
            let mut o = Map::new();
            o.insert("type".into(), json!("NOTIFICATION"));
            o.insert("length".into(), json!(bytes.len()));
            o.insert("code".into(), json!(n.code()));
            o.insert("subcode".into(), json!(n.subcode()));
            o.insert("codeName".into(), json!(n.code_name()));
            o.insert("subcodeName".into(), json!(n.subcode_name()));
            o.insert("data".into(), json!(hex(n.data())));
            o.insert(
                "shutdownCommunication".into(),
                json!(n.shutdown_communication().and_then(|r| r.ok())),
            );
            o.insert("errors".into(), json!([]));
            o
        }
        Ok((Message::RouteRefresh(r), _)) => {
            let mut o = Map::new();
            o.insert("type".into(), json!("ROUTE-REFRESH"));
            o.insert("length".into(), json!(bytes.len()));
            o.insert("family".into(), family(r.afi_safi()));
            o.insert(
                "subtype".into(),
                json!(match r.subtype() {
                    Subtype::Normal => "normal".to_string(),
                    Subtype::BeginOfRefresh => "begin-of-route-refresh".to_string(),
                    Subtype::EndOfRefresh => "end-of-route-refresh".to_string(),
                    Subtype::Unknown(v) => format!("unknown-{v}"),
                }),
            );
            o.insert("errors".into(), json!([]));
            o
        }
        Err(e) => {
            let t = Header::parse(bytes, MAX_EXTENDED_LEN)
                .ok()
                .map(|h| h.msg_type);
            if t == Some(MessageType::Update) {
                update_map(empty_update(
                    header_len(bytes),
                    vec![DecodeError::new(&e, bytes)],
                    Some(e.action),
                ))
            } else {
                let mut o = Map::new();
                o.insert("type".into(), json!(t.map(type_name)));
                o.insert("length".into(), header_length(bytes));
                o.insert("errors".into(), json!([error_value(&e, bytes)]));
                o
            }
        }
    };
    Value::Object(o)
}

// ---------------------------------------------------------------- MRT

/// A path attribute block of a table dump entry, decoded with `ctx`
/// (MP_REACH_NLRI in its RFC 6396 §4.3.4 short form is understood).
fn attribute_block(
    block: &[u8],
    base: usize,
    ctx: &Context,
) -> (Vec<PathAttribute>, Vec<DecodeError>) {
    let mut errors = Vec::new();
    let it = match AttrIter::new_checked(block, base) {
        Ok(it) => it,
        Err(e) => {
            errors.push(DecodeError::new(&e, block));
            return (Vec::new(), errors);
        }
    };
    let attrs = it
        .map(|a| {
            if a.type_code == type_code::MP_REACH_NLRI {
                if let Ok(RibMpReach::Short { next_hop }) = RibMpReach::parse(a.value) {
                    let mut o = attribute_object(&a, ctx, false);
                    o.decoded = true;
                    o.value = to_value(MpReachValue {
                        family: None,
                        next_hop: next_hops(next_hop),
                        nlri: Vec::new(),
                        nlri_hex: None,
                    });
                    return o;
                }
            }
            attribute_object(&a, ctx, false)
        })
        .collect();
    (attrs, errors)
}

fn state_name(s: u16) -> &'static str {
    match s {
        1 => "Idle",
        2 => "Connect",
        3 => "Active",
        4 => "OpenSent",
        5 => "OpenConfirm",
        6 => "Established",
        _ => "unknown",
    }
}

/// One peer of a PEER_INDEX_TABLE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MrtPeerEntry {
    /// The peer BGP identifier.
    pub bgp_id: String,
    /// Its address.
    pub address: String,
    /// Its AS.
    pub asn: u32,
}

/// TABLE_DUMP_V2 PEER_INDEX_TABLE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MrtPeerIndexTable {
    /// The collector BGP identifier.
    pub collector_id: String,
    /// The view name (UTF-8, lossy).
    pub view_name: String,
    /// The peers, indexed by RIB entries.
    pub peers: Vec<MrtPeerEntry>,
}

/// One entry of a RIB record.
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct MrtRibEntry {
    /// Index in the PEER_INDEX_TABLE.
    pub peer_index: u16,
    /// When the route was received.
    pub originated_time: u32,
    /// The ADD-PATH path identifier (RFC 8050).
    pub path_id: Option<u32>,
    /// The path attributes.
    pub attributes: Vec<PathAttribute>,
}

/// TABLE_DUMP_V2 RIB record.
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct MrtRib {
    /// The sequence number.
    pub sequence: u32,
    /// The family.
    pub family: Family,
    /// Whether entries carry path identifiers (RFC 8050).
    pub add_path: bool,
    /// The prefix, for families decoded into prefixes.
    pub prefix: Option<String>,
    /// The NLRI bytes, hex, of other families.
    pub nlri_hex: Option<String>,
    /// The path identifier in the NLRI.
    pub nlri_path_id: Option<u32>,
    /// The entries.
    pub entries: Vec<MrtRibEntry>,
    /// Errors in the entries.
    pub errors: Vec<DecodeError>,
}

/// Legacy TABLE_DUMP entry.
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MrtTableDump {
    /// The view number.
    pub view: u16,
    /// The sequence number.
    pub sequence: u16,
    /// The prefix.
    pub prefix: String,
    /// The status octet.
    pub status: u8,
    /// When the route was received.
    pub originated_time: u32,
    /// The peer address.
    pub peer_address: String,
    /// The peer AS.
    pub peer_as: u32,
    /// The path attributes.
    pub attributes: Vec<PathAttribute>,
    /// Errors in the attributes.
    pub errors: Vec<DecodeError>,
}

/// BGP4MP message record, with the message decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MrtBgp4mpMessage {
    /// The peer AS.
    pub peer_as: u32,
    /// Our AS.
    pub local_as: u32,
    /// The interface index.
    pub interface: u16,
    /// The peer address.
    pub peer_address: String,
    /// Our address.
    pub local_address: String,
    /// The message uses 4-octet AS numbers.
    pub four_octet_as: bool,
    /// The message carries path identifiers (RFC 8050).
    pub add_path: bool,
    /// A message we sent (BGP4MP_MESSAGE_LOCAL).
    pub local: bool,
    /// The message, decoded.
    #[tsify(type = "DecodedBgpMessage")]
    pub message: Value,
}

/// BGP4MP state change record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MrtBgp4mpStateChange {
    /// The peer AS.
    pub peer_as: u32,
    /// Our AS.
    pub local_as: u32,
    /// The interface index.
    pub interface: u16,
    /// The peer address.
    pub peer_address: String,
    /// Our address.
    pub local_address: String,
    /// The FSM state before.
    pub old_state: u16,
    /// The FSM state after.
    pub new_state: u16,
    /// Its name (Idle, Connect, ...).
    pub old_state_name: String,
    /// Its name.
    pub new_state_name: String,
}

/// What `MrtParser.finish()` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MrtSummary {
    /// Records read.
    pub records: u64,
    /// Records whose body was malformed (reported in `errors`, skipped).
    pub skipped: u64,
    /// Bytes read.
    pub bytes: usize,
    /// Bytes of an unfinished record at the end (a truncation error in `errors`).
    pub leftover_bytes: usize,
    /// Errors.
    pub errors: Vec<DecodeError>,
}

/// One MRT record as a plain object (see `MrtRecord` in the TypeScript types).
pub fn record_value(r: &Record<'_>) -> Value {
    let (kind, body) = match r.body {
        Body::PeerIndexTable(t) => (
            "peerIndexTable",
            to_value(MrtPeerIndexTable {
                collector_id: t.collector_id.to_string(),
                view_name: String::from_utf8_lossy(t.view_name).into_owned(),
                peers: t
                    .peers()
                    .map(|p| MrtPeerEntry {
                        bgp_id: p.bgp_id.to_string(),
                        address: p.addr.to_string(),
                        asn: p.asn,
                    })
                    .collect(),
            }),
        ),
        Body::Rib(rib) => {
            let ctx = rib.context();
            let mut errors = Vec::new();
            let entries = rib
                .entries()
                .map(|e| {
                    let (attributes, errs) =
                        attribute_block(e.attributes, e.attributes_offset, &ctx);
                    errors.extend(errs);
                    MrtRibEntry {
                        peer_index: e.peer_index,
                        originated_time: e.originated_time,
                        path_id: e.path_id,
                        attributes,
                    }
                })
                .collect();
            (
                "rib",
                to_value(MrtRib {
                    sequence: rib.sequence,
                    family: Family::of(rib.afi_safi),
                    add_path: rib.add_path,
                    prefix: rib.prefix().map(|p| p.to_string()),
                    nlri_hex: match rib.nlri {
                        RibNlri::Other(b) => Some(hex(b)),
                        RibNlri::Prefix(_) => None,
                    },
                    nlri_path_id: rib.nlri_path_id,
                    entries,
                    errors,
                }),
            )
        }
        Body::TableDump(t) => {
            let ctx = t.context();
            let (attributes, errors) = attribute_block(t.attributes, t.attributes_offset, &ctx);
            (
                "tableDump",
                to_value(MrtTableDump {
                    view: t.view,
                    sequence: t.sequence,
                    prefix: t.prefix.to_string(),
                    status: t.status,
                    originated_time: t.originated_time,
                    peer_address: t.peer_addr.to_string(),
                    peer_as: t.peer_as,
                    attributes,
                    errors,
                }),
            )
        }
        Body::Bgp4mpMessage(m) => {
            let ctx = m.context();
            let opts = DecodeOptions {
                four_octet_as: ctx.four_octet_as,
                add_path: m.add_path,
                extended_message: true,
            };
            (
                "bgp4mpMessage",
                to_value(MrtBgp4mpMessage {
                    peer_as: m.peer.peer_as,
                    local_as: m.peer.local_as,
                    interface: m.peer.interface,
                    peer_address: m.peer.peer_addr.to_string(),
                    local_address: m.peer.local_addr.to_string(),
                    four_octet_as: m.four_octet_as,
                    add_path: m.add_path,
                    local: m.local,
                    message: decode_message(m.message, &opts),
                }),
            )
        }
        Body::Bgp4mpStateChange(s) => (
            "bgp4mpStateChange",
            to_value(MrtBgp4mpStateChange {
                peer_as: s.peer.peer_as,
                local_as: s.peer.local_as,
                interface: s.peer.interface,
                peer_address: s.peer.peer_addr.to_string(),
                local_address: s.peer.local_addr.to_string(),
                old_state: s.old_state,
                new_state: s.new_state,
                old_state_name: state_name(s.old_state).to_string(),
                new_state_name: state_name(s.new_state).to_string(),
            }),
        ),
        Body::Unknown(b) => ("unknown", json!({ "length": b.len() })),
    };
    json!({
        "offset": r.offset,
        "length": r.bytes.len(),
        "timestamp": r.timestamp,
        "microseconds": r.microseconds,
        "type": r.mrt_type,
        "subtype": r.subtype,
        "typeName": r.name(),
        "kind": kind,
        "body": body,
    })
}

/// A streaming MRT reader: bytes in any chunks, records out as soon as they are whole.
///
/// A record whose body is malformed (its framing intact) is reported as an
/// error and skipped; a broken framing stops the stream.
#[derive(Debug, Default)]
pub struct MrtStream {
    buf: Vec<u8>,
    /// Offset in the input of `buf[0]`.
    base: usize,
    records: u64,
    skipped: u64,
    errors: Vec<DecodeError>,
    stopped: bool,
}

impl MrtStream {
    /// An empty stream.
    pub fn new() -> Self {
        MrtStream::default()
    }

    /// Appends `bytes` and returns the records completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Value> {
        if self.stopped {
            return Vec::new();
        }
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut used = 0usize;
        loop {
            let rest = self.buf.get(used..).unwrap_or(&[]);
            let total = match mrt::record_len(rest) {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) => {
                    self.fail(&e);
                    break;
                }
            };
            let Some(rec) = rest.get(..total) else { break };
            match Record::parse(rec, self.base + used) {
                Ok((r, _)) => {
                    self.records += 1;
                    out.push(record_value(&r));
                }
                Err(e) => {
                    self.skipped += 1;
                    self.errors.push(DecodeError::new(&e, rec));
                }
            }
            used += total.max(1);
        }
        self.buf.drain(..used.min(self.buf.len()));
        self.base += used;
        out
    }

    fn fail(&mut self, e: &Error) {
        self.stopped = true;
        self.errors.push(DecodeError::new(e, &[]));
    }

    /// Ends the stream: bytes left over make a truncation error.
    pub fn finish(&mut self) -> Value {
        if !self.buf.is_empty() && !self.stopped {
            let e = Error::new(ErrorKind::Truncated, 0, 0, Action::SessionReset, self.base);
            self.errors.push(DecodeError::new(&e, &[]));
        }
        let leftover = self.buf.len();
        self.buf.clear();
        self.stopped = true;
        to_value(MrtSummary {
            records: self.records,
            skipped: self.skipped,
            bytes: self.base + leftover,
            leftover_bytes: leftover,
            errors: self.errors.clone(),
        })
    }

    /// Records read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> usize {
        self.base
    }

    /// Bytes waiting for the rest of their record.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Errors so far (records skipped, framing broken).
    pub fn errors(&self) -> &[DecodeError] {
        &self.errors
    }
}
