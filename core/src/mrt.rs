//! MRT routing information export format (RFC 6396, RFC 8050 ADD-PATH) on borrowed bytes.
//!
//! [`Records`] walks a buffer holding MRT records back to back and yields one
//! [`Record`] per record, with the byte offset where it starts. Each record's
//! body is validated when it is read: every length field is checked against
//! the bytes that are really there, so the accessors and entry iterators of a
//! yielded record cannot fail or panic afterwards.
//!
//! A record that is truncated (the buffer ends inside it) or malformed (its
//! body contradicts its own lengths) yields an [`Error`] whose `offset` is the
//! record's first byte, and iteration stops. When only the body was malformed
//! and the record's framing is intact, [`Records::resume`] continues with the
//! next record.
//!
//! Types read here: TABLE_DUMP (12), TABLE_DUMP_V2 (13) with the RFC 8050
//! `_ADDPATH` subtypes, BGP4MP (16) and BGP4MP_ET (17). Every other type or
//! subtype is yielded as [`Body::Unknown`], not as an error.
//!
//! BGP messages inside BGP4MP records are not decoded here: [`Bgp4mpMessage`]
//! exposes the message bytes (header included) and the
//! [`Context`] to decode them with.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Action, Error, ErrorKind, Result};
use crate::wire::{
    Afi, AfiSafi, AfiSafiSet, Context, Ipv4Prefix, Ipv6Prefix, Prefix, Reader, Safi,
};

/// Length of the MRT common header (timestamp, type, subtype, length).
pub const HEADER_LEN: usize = 12;

/// MRT record types (RFC 6396 §4, IANA "MRT Types").
pub mod mrt_type {
    /// OSPFv2 (not read by Reflector).
    pub const OSPFV2: u16 = 11;
    /// Legacy RIB dump, one entry per record.
    pub const TABLE_DUMP: u16 = 12;
    /// RIB dump with a peer index table.
    pub const TABLE_DUMP_V2: u16 = 13;
    /// BGP messages and state changes.
    pub const BGP4MP: u16 = 16;
    /// BGP4MP with a microsecond timestamp.
    pub const BGP4MP_ET: u16 = 17;
    /// IS-IS (not read by Reflector).
    pub const ISIS: u16 = 32;
    /// IS-IS with a microsecond timestamp (not read by Reflector).
    pub const ISIS_ET: u16 = 33;
    /// OSPFv3 (not read by Reflector).
    pub const OSPFV3: u16 = 48;
    /// OSPFv3 with a microsecond timestamp (not read by Reflector).
    pub const OSPFV3_ET: u16 = 49;
}

/// TABLE_DUMP subtypes (RFC 6396 §4.2): the address family of the entry.
pub mod table_dump {
    /// IPv4 prefix and peer address.
    pub const AFI_IPV4: u16 = 1;
    /// IPv6 prefix and peer address.
    pub const AFI_IPV6: u16 = 2;
}

/// TABLE_DUMP_V2 subtypes (RFC 6396 §4.3, RFC 8050 §4).
pub mod table_dump_v2 {
    /// The collector's peer table, referenced by index from RIB entries.
    pub const PEER_INDEX_TABLE: u16 = 1;
    /// IPv4 unicast RIB record.
    pub const RIB_IPV4_UNICAST: u16 = 2;
    /// IPv4 multicast RIB record.
    pub const RIB_IPV4_MULTICAST: u16 = 3;
    /// IPv6 unicast RIB record.
    pub const RIB_IPV6_UNICAST: u16 = 4;
    /// IPv6 multicast RIB record.
    pub const RIB_IPV6_MULTICAST: u16 = 5;
    /// RIB record for any AFI/SAFI.
    pub const RIB_GENERIC: u16 = 6;
    /// Geo-location peer table (RFC 6397; yielded as unknown).
    pub const GEO_PEER_TABLE: u16 = 7;
    /// IPv4 unicast RIB record with path identifiers (RFC 8050).
    pub const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
    /// IPv4 multicast RIB record with path identifiers (RFC 8050).
    pub const RIB_IPV4_MULTICAST_ADDPATH: u16 = 9;
    /// IPv6 unicast RIB record with path identifiers (RFC 8050).
    pub const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;
    /// IPv6 multicast RIB record with path identifiers (RFC 8050).
    pub const RIB_IPV6_MULTICAST_ADDPATH: u16 = 11;
    /// Generic RIB record whose NLRI carries a path identifier (RFC 8050).
    pub const RIB_GENERIC_ADDPATH: u16 = 12;
}

/// BGP4MP and BGP4MP_ET subtypes (RFC 6396 §4.4, RFC 8050 §3).
pub mod bgp4mp {
    /// FSM state change, 2-byte AS numbers.
    pub const STATE_CHANGE: u16 = 0;
    /// Received BGP message, 2-byte AS numbers.
    pub const MESSAGE: u16 = 1;
    /// Received BGP message, 4-byte AS numbers.
    pub const MESSAGE_AS4: u16 = 4;
    /// FSM state change, 4-byte AS numbers.
    pub const STATE_CHANGE_AS4: u16 = 5;
    /// Locally generated BGP message, 2-byte AS numbers.
    pub const MESSAGE_LOCAL: u16 = 6;
    /// Locally generated BGP message, 4-byte AS numbers.
    pub const MESSAGE_AS4_LOCAL: u16 = 7;
    /// Received message with ADD-PATH NLRI, 2-byte AS numbers (RFC 8050).
    pub const MESSAGE_ADDPATH: u16 = 8;
    /// Received message with ADD-PATH NLRI, 4-byte AS numbers (RFC 8050).
    pub const MESSAGE_AS4_ADDPATH: u16 = 9;
    /// Local message with ADD-PATH NLRI, 2-byte AS numbers (RFC 8050).
    pub const MESSAGE_LOCAL_ADDPATH: u16 = 10;
    /// Local message with ADD-PATH NLRI, 4-byte AS numbers (RFC 8050).
    pub const MESSAGE_AS4_LOCAL_ADDPATH: u16 = 11;
}

/// The name of a record type and subtype, as RFC 6396 and RFC 8050 spell them (`None` if unknown).
pub const fn subtype_name(mrt_type: u16, subtype: u16) -> Option<&'static str> {
    use bgp4mp as m;
    use table_dump_v2 as t;
    Some(match (mrt_type, subtype) {
        (mrt_type::TABLE_DUMP, table_dump::AFI_IPV4) => "TABLE_DUMP/AFI_IPv4",
        (mrt_type::TABLE_DUMP, table_dump::AFI_IPV6) => "TABLE_DUMP/AFI_IPv6",
        (mrt_type::TABLE_DUMP_V2, t::PEER_INDEX_TABLE) => "TABLE_DUMP_V2/PEER_INDEX_TABLE",
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV4_UNICAST) => "TABLE_DUMP_V2/RIB_IPV4_UNICAST",
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV4_MULTICAST) => "TABLE_DUMP_V2/RIB_IPV4_MULTICAST",
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV6_UNICAST) => "TABLE_DUMP_V2/RIB_IPV6_UNICAST",
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV6_MULTICAST) => "TABLE_DUMP_V2/RIB_IPV6_MULTICAST",
        (mrt_type::TABLE_DUMP_V2, t::RIB_GENERIC) => "TABLE_DUMP_V2/RIB_GENERIC",
        (mrt_type::TABLE_DUMP_V2, t::GEO_PEER_TABLE) => "TABLE_DUMP_V2/GEO_PEER_TABLE",
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV4_UNICAST_ADDPATH) => {
            "TABLE_DUMP_V2/RIB_IPV4_UNICAST_ADDPATH"
        }
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV4_MULTICAST_ADDPATH) => {
            "TABLE_DUMP_V2/RIB_IPV4_MULTICAST_ADDPATH"
        }
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV6_UNICAST_ADDPATH) => {
            "TABLE_DUMP_V2/RIB_IPV6_UNICAST_ADDPATH"
        }
        (mrt_type::TABLE_DUMP_V2, t::RIB_IPV6_MULTICAST_ADDPATH) => {
            "TABLE_DUMP_V2/RIB_IPV6_MULTICAST_ADDPATH"
        }
        (mrt_type::TABLE_DUMP_V2, t::RIB_GENERIC_ADDPATH) => "TABLE_DUMP_V2/RIB_GENERIC_ADDPATH",
        (mrt_type::BGP4MP, m::STATE_CHANGE) => "BGP4MP/STATE_CHANGE",
        (mrt_type::BGP4MP, m::MESSAGE) => "BGP4MP/MESSAGE",
        (mrt_type::BGP4MP, m::MESSAGE_AS4) => "BGP4MP/MESSAGE_AS4",
        (mrt_type::BGP4MP, m::STATE_CHANGE_AS4) => "BGP4MP/STATE_CHANGE_AS4",
        (mrt_type::BGP4MP, m::MESSAGE_LOCAL) => "BGP4MP/MESSAGE_LOCAL",
        (mrt_type::BGP4MP, m::MESSAGE_AS4_LOCAL) => "BGP4MP/MESSAGE_AS4_LOCAL",
        (mrt_type::BGP4MP, m::MESSAGE_ADDPATH) => "BGP4MP/MESSAGE_ADDPATH",
        (mrt_type::BGP4MP, m::MESSAGE_AS4_ADDPATH) => "BGP4MP/MESSAGE_AS4_ADDPATH",
        (mrt_type::BGP4MP, m::MESSAGE_LOCAL_ADDPATH) => "BGP4MP/MESSAGE_LOCAL_ADDPATH",
        (mrt_type::BGP4MP, m::MESSAGE_AS4_LOCAL_ADDPATH) => "BGP4MP/MESSAGE_AS4_LOCAL_ADDPATH",
        (mrt_type::BGP4MP_ET, m::STATE_CHANGE) => "BGP4MP_ET/STATE_CHANGE",
        (mrt_type::BGP4MP_ET, m::MESSAGE) => "BGP4MP_ET/MESSAGE",
        (mrt_type::BGP4MP_ET, m::MESSAGE_AS4) => "BGP4MP_ET/MESSAGE_AS4",
        (mrt_type::BGP4MP_ET, m::STATE_CHANGE_AS4) => "BGP4MP_ET/STATE_CHANGE_AS4",
        (mrt_type::BGP4MP_ET, m::MESSAGE_LOCAL) => "BGP4MP_ET/MESSAGE_LOCAL",
        (mrt_type::BGP4MP_ET, m::MESSAGE_AS4_LOCAL) => "BGP4MP_ET/MESSAGE_AS4_LOCAL",
        (mrt_type::BGP4MP_ET, m::MESSAGE_ADDPATH) => "BGP4MP_ET/MESSAGE_ADDPATH",
        (mrt_type::BGP4MP_ET, m::MESSAGE_AS4_ADDPATH) => "BGP4MP_ET/MESSAGE_AS4_ADDPATH",
        (mrt_type::BGP4MP_ET, m::MESSAGE_LOCAL_ADDPATH) => "BGP4MP_ET/MESSAGE_LOCAL_ADDPATH",
        (mrt_type::BGP4MP_ET, m::MESSAGE_AS4_LOCAL_ADDPATH) => {
            "BGP4MP_ET/MESSAGE_AS4_LOCAL_ADDPATH"
        }
        _ => return None,
    })
}

/// Every AFI/SAFI Reflector tracks ADD-PATH for: what RFC 8050 `_ADDPATH` records imply.
pub const ADD_PATH_ALL: AfiSafiSet = AfiSafiSet::EMPTY
    .with(AfiSafi::IPV4_UNICAST)
    .with(AfiSafi::IPV4_MULTICAST)
    .with(AfiSafi::IPV6_UNICAST)
    .with(AfiSafi::IPV6_MULTICAST)
    .with(AfiSafi::new(Afi::IPV4, Safi::LABELED_UNICAST))
    .with(AfiSafi::new(Afi::IPV6, Safi::LABELED_UNICAST))
    .with(AfiSafi::new(Afi::IPV4, Safi::MPLS_VPN))
    .with(AfiSafi::new(Afi::IPV6, Safi::MPLS_VPN));

/// Context for the attributes of TABLE_DUMP_V2 RIB entries: always 4-octet AS (RFC 6396 §4.3.4).
pub const TABLE_DUMP_V2_CONTEXT: Context = Context {
    four_octet_as: true,
    extended_message: true,
    add_path: AfiSafiSet::EMPTY,
};

/// Context for the attributes of legacy TABLE_DUMP entries: 2-octet AS numbers.
pub const TABLE_DUMP_CONTEXT: Context = Context {
    four_octet_as: false,
    extended_message: true,
    add_path: AfiSafiSet::EMPTY,
};

/// The length of the whole record whose header starts `buf`, once the 12 header bytes are there.
///
/// `Ok(None)`: fewer than [`HEADER_LEN`] bytes. `Ok(Some(n))`: the record
/// occupies the first `n` bytes of the stream (which may not all be present).
/// `Err`: the length cannot be represented (only on 16-bit targets).
pub fn record_len(buf: &[u8]) -> Result<Option<usize>> {
    let Some(hdr) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let mut r = Reader::new(hdr, 0);
    r.take(8)?;
    let len = usize::try_from(r.u32()?).map_err(|_| Error::mrt(0))?;
    len.checked_add(HEADER_LEN)
        .map(Some)
        .ok_or_else(|| Error::mrt(0))
}

/// An MRT record read from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Offset of the record's first header byte in the input.
    pub offset: usize,
    /// Seconds since the Unix epoch.
    pub timestamp: u32,
    /// Microseconds within the second (extended-timestamp `_ET` types only).
    pub microseconds: Option<u32>,
    /// MRT type (see [`mrt_type`]).
    pub mrt_type: u16,
    /// MRT subtype.
    pub subtype: u16,
    /// The whole record, header included.
    pub bytes: &'a [u8],
    /// What the record holds.
    pub body: Body<'a>,
}

/// The contents of an MRT record, by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// TABLE_DUMP (12): one RIB entry.
    TableDump(TableDumpEntry<'a>),
    /// TABLE_DUMP_V2 PEER_INDEX_TABLE.
    PeerIndexTable(PeerIndexTable<'a>),
    /// TABLE_DUMP_V2 RIB record (AFI/SAFI-specific or generic, with or without ADD-PATH).
    Rib(Rib<'a>),
    /// BGP4MP / BGP4MP_ET message record.
    Bgp4mpMessage(Bgp4mpMessage<'a>),
    /// BGP4MP / BGP4MP_ET state change record.
    Bgp4mpStateChange(Bgp4mpStateChange),
    /// A type or subtype Reflector does not read: the body bytes after the header.
    Unknown(&'a [u8]),
}

impl<'a> Record<'a> {
    /// Parse the record at the start of `buf`, whose first byte is at `offset` of the input.
    ///
    /// Returns the record and its total length. A buffer that ends inside the
    /// record is an error of kind [`ErrorKind::Truncated`]; a body that
    /// contradicts its own lengths is [`ErrorKind::MalformedMrt`]. Both carry
    /// `offset`.
    pub fn parse(buf: &'a [u8], offset: usize) -> Result<(Record<'a>, usize)> {
        let truncated = Error::new(ErrorKind::Truncated, 0, 0, Action::SessionReset, offset);
        let total = record_len(buf)
            .map_err(|_| Error::mrt(offset))?
            .ok_or(truncated)?;
        let bytes = buf.get(..total).ok_or(truncated)?;
        let mut r = Reader::new(bytes, 0);
        let header = (|| -> Result<(u32, u16, u16)> {
            let ts = r.u32()?;
            let ty = r.u16()?;
            let st = r.u16()?;
            r.u32()?;
            Ok((ts, ty, st))
        })();
        let (timestamp, mrt_type, subtype) = header.map_err(|_| truncated)?;
        let body = parse_body(mrt_type, subtype, r).map_err(|_| Error::mrt(offset))?;
        let (microseconds, body) = body;
        Ok((
            Record {
                offset,
                timestamp,
                microseconds,
                mrt_type,
                subtype,
                bytes,
                body,
            },
            total,
        ))
    }

    /// The `TYPE/SUBTYPE` name, if Reflector knows it.
    pub fn name(&self) -> Option<&'static str> {
        subtype_name(self.mrt_type, self.subtype)
    }
}

fn parse_body(mrt_type: u16, subtype: u16, mut r: Reader<'_>) -> Result<(Option<u32>, Body<'_>)> {
    let microseconds = if mrt_type == mrt_type::BGP4MP_ET {
        Some(r.u32()?)
    } else {
        None
    };
    let body = match mrt_type {
        mrt_type::TABLE_DUMP => match subtype {
            table_dump::AFI_IPV4 | table_dump::AFI_IPV6 => Body::TableDump(TableDumpEntry::parse(
                subtype == table_dump::AFI_IPV6,
                &mut r,
            )?),
            _ => Body::Unknown(r.rest()),
        },
        mrt_type::TABLE_DUMP_V2 => match subtype {
            table_dump_v2::PEER_INDEX_TABLE => Body::PeerIndexTable(PeerIndexTable::parse(&mut r)?),
            table_dump_v2::RIB_IPV4_UNICAST..=table_dump_v2::RIB_GENERIC
            | table_dump_v2::RIB_IPV4_UNICAST_ADDPATH..=table_dump_v2::RIB_GENERIC_ADDPATH => {
                Body::Rib(Rib::parse(subtype, &mut r)?)
            }
            _ => Body::Unknown(r.rest()),
        },
        mrt_type::BGP4MP | mrt_type::BGP4MP_ET => {
            use bgp4mp as m;
            match subtype {
                m::STATE_CHANGE | m::STATE_CHANGE_AS4 => Body::Bgp4mpStateChange(
                    Bgp4mpStateChange::parse(subtype == m::STATE_CHANGE_AS4, &mut r)?,
                ),
                m::MESSAGE | m::MESSAGE_AS4 | m::MESSAGE_LOCAL..=m::MESSAGE_AS4_LOCAL_ADDPATH => {
                    Body::Bgp4mpMessage(Bgp4mpMessage::parse(subtype, &mut r)?)
                }
                _ => Body::Unknown(r.rest()),
            }
        }
        _ => Body::Unknown(r.rest()),
    };
    Ok((microseconds, body))
}

fn read_addr(r: &mut Reader<'_>, v6: bool) -> Result<IpAddr> {
    Ok(if v6 {
        IpAddr::V6(Ipv6Addr::from(r.array::<16>()?))
    } else {
        IpAddr::V4(Ipv4Addr::from(r.array::<4>()?))
    })
}

fn read_asn(r: &mut Reader<'_>, four: bool) -> Result<u32> {
    if four {
        r.u32()
    } else {
        r.u16().map(u32::from)
    }
}

/// An IP prefix encoded as a length octet and the significant address octets.
fn read_prefix(r: &mut Reader<'_>, afi: Afi) -> Result<Prefix> {
    let start = r.offset();
    let len = r.u8()?;
    let n = usize::from(len).div_ceil(8);
    let bytes = r.take(n)?;
    let bad = Error::mrt(start);
    if afi == Afi::IPV6 {
        let mut a = [0u8; 16];
        a.get_mut(..n).ok_or(bad)?.copy_from_slice(bytes);
        Ipv6Prefix::new(Ipv6Addr::from(a), len)
            .map(Prefix::V6)
            .ok_or(bad)
    } else {
        let mut a = [0u8; 4];
        a.get_mut(..n).ok_or(bad)?.copy_from_slice(bytes);
        Ipv4Prefix::new(Ipv4Addr::from(a), len)
            .map(Prefix::V4)
            .ok_or(bad)
    }
}

/// A legacy TABLE_DUMP entry (RFC 6396 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDumpEntry<'a> {
    /// View number (0 for the default view).
    pub view: u16,
    /// Sequence number, wrapping at 65,535.
    pub sequence: u16,
    /// The prefix.
    pub prefix: Prefix,
    /// Status octet (unused, 1 by convention).
    pub status: u8,
    /// When the route was received, in seconds since the Unix epoch.
    pub originated_time: u32,
    /// The peer's address.
    pub peer_addr: IpAddr,
    /// The peer's AS (2-octet field).
    pub peer_as: u32,
    /// The path attributes (2-octet AS encoding: decode with [`TABLE_DUMP_CONTEXT`]).
    pub attributes: &'a [u8],
    /// Offset of `attributes` from the start of the record.
    pub attributes_offset: usize,
}

impl<'a> TableDumpEntry<'a> {
    fn parse(v6: bool, r: &mut Reader<'a>) -> Result<Self> {
        let view = r.u16()?;
        let sequence = r.u16()?;
        let addr = read_addr(r, v6)?;
        let plen = r.u8()?;
        let prefix = match addr {
            IpAddr::V4(a) => Ipv4Prefix::new(a, plen).map(Prefix::V4),
            IpAddr::V6(a) => Ipv6Prefix::new(a, plen).map(Prefix::V6),
        }
        .ok_or_else(|| Error::mrt(r.offset()))?;
        let status = r.u8()?;
        let originated_time = r.u32()?;
        let peer_addr = read_addr(r, v6)?;
        let peer_as = u32::from(r.u16()?);
        let alen = usize::from(r.u16()?);
        let attributes_offset = r.offset();
        let attributes = r.take(alen)?;
        Ok(TableDumpEntry {
            view,
            sequence,
            prefix,
            status,
            originated_time,
            peer_addr,
            peer_as,
            attributes,
            attributes_offset,
        })
    }

    /// The context to decode `attributes` with (2-octet AS numbers).
    pub const fn context(&self) -> Context {
        TABLE_DUMP_CONTEXT
    }
}

/// A TABLE_DUMP_V2 PEER_INDEX_TABLE (RFC 6396 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIndexTable<'a> {
    /// The collector's BGP identifier.
    pub collector_id: Ipv4Addr,
    /// The view name (often empty; not necessarily UTF-8).
    pub view_name: &'a [u8],
    /// Number of peers.
    pub peer_count: u16,
    entries: &'a [u8],
}

/// One peer of a PEER_INDEX_TABLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The peer's BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// The peer's address.
    pub addr: IpAddr,
    /// The peer's AS number.
    pub asn: u32,
}

impl<'a> PeerIndexTable<'a> {
    fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let collector_id = Ipv4Addr::from(r.array::<4>()?);
        let name_len = usize::from(r.u16()?);
        let view_name = r.take(name_len)?;
        let peer_count = r.u16()?;
        let start = r.rest();
        let before = r.remaining();
        for _ in 0..peer_count {
            Self::peer(r)?;
        }
        let used = before - r.remaining();
        let entries = start.get(..used).ok_or_else(|| Error::mrt(r.offset()))?;
        Ok(PeerIndexTable {
            collector_id,
            view_name,
            peer_count,
            entries,
        })
    }

    fn peer(r: &mut Reader<'_>) -> Result<Peer> {
        let ty = r.u8()?;
        let bgp_id = Ipv4Addr::from(r.array::<4>()?);
        let addr = read_addr(r, ty & 0x01 != 0)?;
        let asn = read_asn(r, ty & 0x02 != 0)?;
        Ok(Peer { bgp_id, addr, asn })
    }

    /// The peers, in index order.
    pub fn peers(&self) -> PeerIter<'a> {
        PeerIter {
            r: Reader::new(self.entries, 0),
        }
    }

    /// The peer with index `index`, if there is one.
    pub fn peer_at(&self, index: u16) -> Option<Peer> {
        self.peers().nth(usize::from(index))
    }
}

/// An iterator over the peers of a validated PEER_INDEX_TABLE.
#[derive(Debug, Clone)]
pub struct PeerIter<'a> {
    r: Reader<'a>,
}

impl Iterator for PeerIter<'_> {
    type Item = Peer;

    fn next(&mut self) -> Option<Peer> {
        if self.r.is_empty() {
            return None;
        }
        let p = PeerIndexTable::peer(&mut self.r).ok();
        if p.is_none() {
            self.r = Reader::new(&[], 0);
        }
        p
    }
}

/// The NLRI of a TABLE_DUMP_V2 RIB record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RibNlri<'a> {
    /// An IPv4 or IPv6 prefix (the AFI/SAFI-specific subtypes, or RIB_GENERIC for IP families).
    Prefix(Prefix),
    /// RIB_GENERIC NLRI of another family, as encoded in an UPDATE (path identifier excluded).
    Other(&'a [u8]),
}

/// A TABLE_DUMP_V2 RIB record (RFC 6396 §4.3.2–4.3.3, RFC 8050 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rib<'a> {
    /// Sequence number.
    pub sequence: u32,
    /// Address family of the NLRI.
    pub afi_safi: AfiSafi,
    /// Whether this is an RFC 8050 `_ADDPATH` subtype.
    pub add_path: bool,
    /// RIB_GENERIC_ADDPATH: the path identifier carried in the NLRI field.
    pub nlri_path_id: Option<u32>,
    /// The route's NLRI.
    pub nlri: RibNlri<'a>,
    /// Number of entries.
    pub entry_count: u16,
    entries: &'a [u8],
    entries_offset: usize,
    entry_path_id: bool,
}

/// One entry of a TABLE_DUMP_V2 RIB record: one peer's path to the record's NLRI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RibEntry<'a> {
    /// Index into the PEER_INDEX_TABLE.
    pub peer_index: u16,
    /// When the route was received, in seconds since the Unix epoch.
    pub originated_time: u32,
    /// The ADD-PATH path identifier (RFC 8050 `_ADDPATH` subtypes).
    pub path_id: Option<u32>,
    /// The path attributes (always 4-octet AS: decode with [`TABLE_DUMP_V2_CONTEXT`]).
    ///
    /// MP_REACH_NLRI here may be the RFC 6396 §4.3.4 short form; see [`RibMpReach`].
    pub attributes: &'a [u8],
    /// Offset of `attributes` from the start of the record.
    pub attributes_offset: usize,
}

impl<'a> Rib<'a> {
    fn parse(subtype: u16, r: &mut Reader<'a>) -> Result<Self> {
        use table_dump_v2 as t;
        let sequence = r.u32()?;
        let add_path = subtype >= t::RIB_IPV4_UNICAST_ADDPATH;
        let fixed = match subtype {
            t::RIB_IPV4_UNICAST | t::RIB_IPV4_UNICAST_ADDPATH => Some(AfiSafi::IPV4_UNICAST),
            t::RIB_IPV4_MULTICAST | t::RIB_IPV4_MULTICAST_ADDPATH => Some(AfiSafi::IPV4_MULTICAST),
            t::RIB_IPV6_UNICAST | t::RIB_IPV6_UNICAST_ADDPATH => Some(AfiSafi::IPV6_UNICAST),
            t::RIB_IPV6_MULTICAST | t::RIB_IPV6_MULTICAST_ADDPATH => Some(AfiSafi::IPV6_MULTICAST),
            _ => None,
        };
        let (afi_safi, nlri_path_id, nlri, entry_path_id) = match fixed {
            Some(f) => (f, None, RibNlri::Prefix(read_prefix(r, f.afi)?), add_path),
            None => {
                let afi = Afi(r.u16()?);
                let safi = Safi(r.u8()?);
                let f = AfiSafi::new(afi, safi);
                // RFC 8050 §4.2: the generic NLRI carries the path identifier; entries do not.
                let path_id = if add_path { Some(r.u32()?) } else { None };
                let nlri = if f.is_ip() {
                    RibNlri::Prefix(read_prefix(r, afi)?)
                } else {
                    RibNlri::Other(read_generic_nlri(r, safi)?)
                };
                (f, path_id, nlri, false)
            }
        };
        let entry_count = r.u16()?;
        let entries_offset = r.offset();
        let start = r.rest();
        let before = r.remaining();
        for _ in 0..entry_count {
            Self::entry(r, entry_path_id)?;
        }
        let used = before - r.remaining();
        let entries = start.get(..used).ok_or_else(|| Error::mrt(r.offset()))?;
        Ok(Rib {
            sequence,
            afi_safi,
            add_path,
            nlri_path_id,
            nlri,
            entry_count,
            entries,
            entries_offset,
            entry_path_id,
        })
    }

    fn entry(r: &mut Reader<'a>, path_id: bool) -> Result<RibEntry<'a>> {
        let peer_index = r.u16()?;
        let originated_time = r.u32()?;
        let path_id = if path_id { Some(r.u32()?) } else { None };
        let alen = usize::from(r.u16()?);
        let attributes_offset = r.offset();
        let attributes = r.take(alen)?;
        Ok(RibEntry {
            peer_index,
            originated_time,
            path_id,
            attributes,
            attributes_offset,
        })
    }

    /// The prefix, for IPv4/IPv6 records.
    pub fn prefix(&self) -> Option<Prefix> {
        match self.nlri {
            RibNlri::Prefix(p) => Some(p),
            RibNlri::Other(_) => None,
        }
    }

    /// The entries, in record order.
    pub fn entries(&self) -> RibEntries<'a> {
        RibEntries {
            r: Reader::new(self.entries, self.entries_offset),
            path_id: self.entry_path_id,
        }
    }

    /// The context to decode entry attributes with (4-octet AS, RFC 6396 §4.3.4).
    pub const fn context(&self) -> Context {
        TABLE_DUMP_V2_CONTEXT
    }
}

/// One NLRI of a non-IP family, as the RIB_GENERIC NLRI field holds it.
fn read_generic_nlri<'a>(r: &mut Reader<'a>, safi: Safi) -> Result<&'a [u8]> {
    let mut probe = r.clone();
    let len = match safi.0 {
        // Flow specification (RFC 8955): length in octets, 1 or 2 octets wide.
        133 | 134 => {
            let b = probe.u8()?;
            if b >= 0xf0 {
                let lo = probe.u8()?;
                2 + ((usize::from(b & 0x0f) << 8) | usize::from(lo))
            } else {
                1 + usize::from(b)
            }
        }
        // MCAST-VPN (5), EVPN (70): route type and length in octets.
        5 | 70 => {
            probe.u8()?;
            2 + usize::from(probe.u8()?)
        }
        // BGP-LS (71, 72): 2-octet type and 2-octet length.
        71 | 72 => {
            probe.u16()?;
            4 + usize::from(probe.u16()?)
        }
        // Labeled, VPN, route target and most others: length in bits.
        _ => 1 + usize::from(probe.u8()?).div_ceil(8),
    };
    r.take(len)
}

/// An iterator over the entries of a validated RIB record.
#[derive(Debug, Clone)]
pub struct RibEntries<'a> {
    r: Reader<'a>,
    path_id: bool,
}

impl<'a> Iterator for RibEntries<'a> {
    type Item = RibEntry<'a>;

    fn next(&mut self) -> Option<RibEntry<'a>> {
        if self.r.is_empty() {
            return None;
        }
        let e = Rib::entry(&mut self.r, self.path_id).ok();
        if e.is_none() {
            self.r = Reader::new(&[], 0);
        }
        e
    }
}

/// MP_REACH_NLRI as found in TABLE_DUMP_V2 RIB entries.
///
/// RFC 6396 §4.3.4 abbreviates it to the next-hop length and next hop, since
/// AFI, SAFI and NLRI are in the record header; some writers still emit the
/// full RFC 4760 attribute. The short form's first octet is its next-hop
/// length (equal to the rest of the value), while the full form starts with
/// the high octet of an AFI, so the two cannot be confused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RibMpReach<'a> {
    /// RFC 6396 §4.3.4 short form: next hop only.
    Short {
        /// The next-hop address bytes (4, 16 or 32 octets).
        next_hop: &'a [u8],
    },
    /// Full RFC 4760 form.
    Full {
        /// The attribute's family.
        afi_safi: AfiSafi,
        /// The next-hop address bytes.
        next_hop: &'a [u8],
        /// The NLRI bytes (usually empty in a RIB entry).
        nlri: &'a [u8],
    },
}

impl<'a> RibMpReach<'a> {
    /// Parse the value of an MP_REACH_NLRI attribute of a RIB entry; offsets in errors are from `value`.
    pub fn parse(value: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(value, 0);
        let first = r.u8()?;
        if usize::from(first) + 1 == value.len() {
            return Ok(RibMpReach::Short { next_hop: r.rest() });
        }
        let mut r = Reader::new(value, 0);
        let afi = Afi(r.u16()?);
        let safi = Safi(r.u8()?);
        let nh_len = usize::from(r.u8()?);
        let next_hop = r.take(nh_len)?;
        r.u8()?;
        Ok(RibMpReach::Full {
            afi_safi: AfiSafi::new(afi, safi),
            next_hop,
            nlri: r.rest(),
        })
    }

    /// The next-hop bytes, whichever the form.
    pub fn next_hop(&self) -> &'a [u8] {
        match self {
            RibMpReach::Short { next_hop } | RibMpReach::Full { next_hop, .. } => next_hop,
        }
    }
}

/// The fields BGP4MP records share: who the message or state change concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bgp4mpPeer {
    /// The peer's AS.
    pub peer_as: u32,
    /// The collector's (local) AS.
    pub local_as: u32,
    /// Interface index (often 0).
    pub interface: u16,
    /// Address family of the two addresses.
    pub afi: Afi,
    /// The peer's address.
    pub peer_addr: IpAddr,
    /// The collector's (local) address.
    pub local_addr: IpAddr,
}

impl Bgp4mpPeer {
    fn parse(as4: bool, r: &mut Reader<'_>) -> Result<Self> {
        let peer_as = read_asn(r, as4)?;
        let local_as = read_asn(r, as4)?;
        let interface = r.u16()?;
        let at = r.offset();
        let afi = Afi(r.u16()?);
        let v6 = match afi {
            Afi::IPV4 => false,
            Afi::IPV6 => true,
            _ => return Err(Error::mrt(at)),
        };
        let peer_addr = read_addr(r, v6)?;
        let local_addr = read_addr(r, v6)?;
        Ok(Bgp4mpPeer {
            peer_as,
            local_as,
            interface,
            afi,
            peer_addr,
            local_addr,
        })
    }
}

/// A BGP4MP message record (RFC 6396 §4.4.2, §4.4.3, §4.4.6, §4.4.7; RFC 8050 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bgp4mpMessage<'a> {
    /// Who sent and received the message.
    pub peer: Bgp4mpPeer,
    /// The subtype says AS numbers (and AS_PATH) are 4 octets wide.
    pub four_octet_as: bool,
    /// The subtype says NLRI carry ADD-PATH path identifiers (RFC 8050).
    pub add_path: bool,
    /// The message was sent by the collector, not received (`_LOCAL` subtypes).
    pub local: bool,
    /// The BGP message, 19-byte header included.
    pub message: &'a [u8],
    /// Offset of `message` from the start of the record.
    pub message_offset: usize,
}

impl<'a> Bgp4mpMessage<'a> {
    fn parse(subtype: u16, r: &mut Reader<'a>) -> Result<Self> {
        use bgp4mp as m;
        let four_octet_as = matches!(
            subtype,
            m::MESSAGE_AS4
                | m::MESSAGE_AS4_LOCAL
                | m::MESSAGE_AS4_ADDPATH
                | m::MESSAGE_AS4_LOCAL_ADDPATH
        );
        let add_path = subtype >= m::MESSAGE_ADDPATH;
        let local = matches!(
            subtype,
            m::MESSAGE_LOCAL
                | m::MESSAGE_AS4_LOCAL
                | m::MESSAGE_LOCAL_ADDPATH
                | m::MESSAGE_AS4_LOCAL_ADDPATH
        );
        let peer = Bgp4mpPeer::parse(four_octet_as, r)?;
        let message_offset = r.offset();
        let message = r.rest();
        Ok(Bgp4mpMessage {
            peer,
            four_octet_as,
            add_path,
            local,
            message,
            message_offset,
        })
    }

    /// The context to decode `message` with.
    ///
    /// 4-octet AS for the `_AS4` subtypes, ADD-PATH on every family for the
    /// `_ADDPATH` subtypes, and extended message lengths allowed (collectors
    /// record what the session carried, and RFC 8654 messages occur).
    pub const fn context(&self) -> Context {
        Context {
            four_octet_as: self.four_octet_as,
            extended_message: true,
            add_path: if self.add_path {
                ADD_PATH_ALL
            } else {
                AfiSafiSet::EMPTY
            },
        }
    }
}

/// A BGP4MP state change record (RFC 6396 §4.4.1, §4.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bgp4mpStateChange {
    /// Whose session changed state.
    pub peer: Bgp4mpPeer,
    /// FSM state before (1 Idle … 6 Established).
    pub old_state: u16,
    /// FSM state after.
    pub new_state: u16,
}

impl Bgp4mpStateChange {
    fn parse(as4: bool, r: &mut Reader<'_>) -> Result<Self> {
        let peer = Bgp4mpPeer::parse(as4, r)?;
        let old_state = r.u16()?;
        let new_state = r.u16()?;
        Ok(Bgp4mpStateChange {
            peer,
            old_state,
            new_state,
        })
    }
}

/// An iterator over the MRT records of a buffer.
///
/// Yields `Ok(record)` for each record in order. On a truncated or malformed
/// record it yields one `Err` (with the record's offset) and then `None`,
/// unless [`Records::resume`] is called.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    stopped: bool,
    resume_at: Option<usize>,
}

impl<'a> Records<'a> {
    /// Records of `buf`, whose first byte is at offset 0 of the input.
    pub const fn new(buf: &'a [u8]) -> Self {
        Records::with_base(buf, 0)
    }

    /// Records of `buf`, whose first byte is at offset `base` of the input (for streaming readers).
    pub const fn with_base(buf: &'a [u8], base: usize) -> Self {
        Records {
            buf,
            pos: 0,
            base,
            stopped: false,
            resume_at: None,
        }
    }

    /// Offset in the input of the next record to read.
    pub const fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// The bytes not yet read (after an error: from the failing record on).
    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// After an error on a record whose framing was intact (a malformed body),
    /// continue with the next record. Returns whether iteration can go on.
    pub fn resume(&mut self) -> bool {
        match self.resume_at.take() {
            Some(next) if self.stopped => {
                self.pos = next;
                self.stopped = false;
                true
            }
            _ => false,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped || self.pos >= self.buf.len() {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let offset = self.base + self.pos;
        match Record::parse(rest, offset) {
            Ok((rec, len)) => {
                self.pos = self.pos.saturating_add(len.max(1));
                Some(Ok(rec))
            }
            Err(e) => {
                self.stopped = true;
                self.resume_at = match (e.kind, record_len(rest)) {
                    (ErrorKind::MalformedMrt, Ok(Some(len))) if len <= rest.len() => {
                        Some(self.pos.saturating_add(len.max(1)))
                    }
                    _ => None,
                };
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn record(ty: u16, st: u16, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&0x5c2a_ad00u32.to_be_bytes());
        v.extend_from_slice(&ty.to_be_bytes());
        v.extend_from_slice(&st.to_be_bytes());
        v.extend_from_slice(&(body.len() as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn keepalive() -> Vec<u8> {
        let mut m = vec![0xffu8; 16];
        m.extend_from_slice(&[0, 19, 4]);
        m
    }

    #[test]
    fn rfc6396_4_4_3_message_as4_fields_and_context() {
        let mut body = Vec::new();
        body.extend_from_slice(&4_200_000_000u32.to_be_bytes());
        body.extend_from_slice(&64_500u32.to_be_bytes());
        body.extend_from_slice(&[0, 0, 0, 1]);
        body.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        body.extend_from_slice(&keepalive());
        let buf = record(mrt_type::BGP4MP, bgp4mp::MESSAGE_AS4, &body);
        let recs: Vec<_> = Records::new(&buf).collect();
        assert_eq!(recs.len(), 1);
        let rec = recs[0].unwrap();
        assert_eq!(rec.name(), Some("BGP4MP/MESSAGE_AS4"));
        let Body::Bgp4mpMessage(m) = rec.body else {
            panic!("not a message: {:?}", rec.body)
        };
        assert_eq!(m.peer.peer_as, 4_200_000_000);
        assert_eq!(m.peer.local_as, 64_500);
        assert_eq!(m.peer.peer_addr.to_string(), "192.0.2.1");
        assert_eq!(m.message, &keepalive()[..]);
        assert_eq!(m.message_offset, 12 + 20);
        assert!(m.context().four_octet_as);
        assert!(m.context().add_path.is_empty());
    }

    #[test]
    fn rfc8050_3_addpath_subtype_sets_add_path_context() {
        let mut body = vec![0xfd, 0xe8, 0xfd, 0xe9, 0, 0, 0, 2];
        body.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        body.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        body.extend_from_slice(&keepalive());
        let buf = record(mrt_type::BGP4MP, bgp4mp::MESSAGE_LOCAL_ADDPATH, &body);
        let rec = Records::new(&buf).next().unwrap().unwrap();
        let Body::Bgp4mpMessage(m) = rec.body else {
            panic!()
        };
        assert!(!m.four_octet_as && m.local && m.add_path);
        assert_eq!(m.peer.peer_as, 65000);
        assert_eq!(m.peer.local_addr.to_string(), "2001:db8::2");
        assert!(m.context().add_path(AfiSafi::IPV6_UNICAST));
        assert!(m.context().add_path(AfiSafi::IPV4_UNICAST));
    }

    #[test]
    fn rfc6396_3_extended_timestamp_counts_in_length() {
        let mut body = 123_456u32.to_be_bytes().to_vec();
        body.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 6]);
        let buf = record(mrt_type::BGP4MP_ET, bgp4mp::STATE_CHANGE, &body);
        let rec = Records::new(&buf).next().unwrap().unwrap();
        assert_eq!(rec.microseconds, Some(123_456));
        let Body::Bgp4mpStateChange(s) = rec.body else {
            panic!()
        };
        assert_eq!((s.old_state, s.new_state), (1, 6));
        assert_eq!(s.peer.peer_as, 1);
    }

    #[test]
    fn unknown_type_is_a_record_not_an_error() {
        let mut buf = record(mrt_type::OSPFV2, 0, &[1, 2, 3]);
        buf.extend_from_slice(&record(mrt_type::TABLE_DUMP_V2, 99, &[]));
        let recs: Vec<_> = Records::new(&buf).map(|r| r.unwrap()).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].body, Body::Unknown(&[1, 2, 3]));
        assert_eq!(recs[1].offset, 15);
        assert_eq!(recs[1].name(), None);
    }

    #[test]
    fn truncated_record_yields_error_at_its_offset_then_stops() {
        let mut buf = record(mrt_type::OSPFV2, 0, &[1, 2, 3]);
        let second = record(mrt_type::OSPFV2, 0, &[4, 5, 6, 7]);
        buf.extend_from_slice(&second[..second.len() - 1]);
        let mut it = Records::new(&buf);
        assert!(it.next().unwrap().is_ok());
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
        assert_eq!(e.offset, 15);
        assert!(it.next().is_none());
        assert!(!it.resume());
    }

    #[test]
    fn malformed_body_can_be_skipped_with_resume() {
        // A TABLE_DUMP_V2 RIB record whose entry count promises more entries than present.
        let bad = [0, 0, 0, 1, 8, 10, 0, 2, 0, 0];
        let mut buf = record(
            mrt_type::TABLE_DUMP_V2,
            table_dump_v2::RIB_IPV4_UNICAST,
            &bad,
        );
        buf.extend_from_slice(&record(mrt_type::OSPFV2, 0, &[]));
        let mut it = Records::new(&buf);
        let e = it.next().unwrap().unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::MalformedMrt, 0));
        assert!(it.next().is_none());
        assert!(it.resume());
        assert_eq!(it.next().unwrap().unwrap().offset, 22);
        assert!(it.next().is_none());
    }

    #[test]
    fn rfc6396_4_3_rib_entries_and_rfc8050_path_ids() {
        let attrs = [0x40, 1, 1, 0];
        let mut body = vec![0, 0, 0, 7, 24, 192, 0, 2, 0, 2];
        for (i, pid) in [(0u16, 1u32), (1, 2)] {
            body.extend_from_slice(&i.to_be_bytes());
            body.extend_from_slice(&[0, 0, 0, 9]);
            body.extend_from_slice(&pid.to_be_bytes());
            body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
            body.extend_from_slice(&attrs);
        }
        let buf = record(
            mrt_type::TABLE_DUMP_V2,
            table_dump_v2::RIB_IPV4_UNICAST_ADDPATH,
            &body,
        );
        let rec = Records::new(&buf).next().unwrap().unwrap();
        let Body::Rib(rib) = rec.body else { panic!() };
        assert_eq!(rib.prefix().unwrap().to_string(), "192.0.2.0/24");
        assert_eq!(rib.sequence, 7);
        let e: Vec<_> = rib.entries().collect();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].peer_index, 1);
        assert_eq!(e[1].path_id, Some(2));
        assert_eq!(e[1].attributes, &attrs);
        assert_eq!(&buf[e[1].attributes_offset..][..4], &attrs);
    }

    #[test]
    fn rfc6396_4_3_4_short_and_full_mp_reach() {
        let short = [16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let RibMpReach::Short { next_hop } = RibMpReach::parse(&short).unwrap() else {
            panic!()
        };
        assert_eq!(next_hop.len(), 16);
        let mut full = vec![0, 2, 1];
        full.extend_from_slice(&short);
        full.push(0);
        let RibMpReach::Full { afi_safi, nlri, .. } = RibMpReach::parse(&full).unwrap() else {
            panic!()
        };
        assert_eq!(afi_safi, AfiSafi::IPV6_UNICAST);
        assert!(nlri.is_empty());
        assert!(RibMpReach::parse(&[0, 2]).is_err());
    }

    #[test]
    fn no_input_is_too_short_to_panic() {
        let mut buf = record(mrt_type::BGP4MP, bgp4mp::MESSAGE_AS4, &[0; 40]);
        buf.extend_from_slice(&record(mrt_type::TABLE_DUMP_V2, 1, &[1; 30]));
        for cut in 0..buf.len() {
            for _ in Records::new(&buf[..cut]) {}
            let mut flipped = buf.clone();
            flipped[cut] ^= 0xff;
            for _ in Records::new(&flipped) {}
        }
    }
}
