//! OPEN capabilities (RFC 5492) and the ones Reflector understands.
//!
//! A capability is a TLV: code (1 byte), length (1 byte), value. The borrowed
//! [`Capability`] enum decodes the well-known codes; anything else, and any
//! known code whose value does not have the shape its RFC gives, is kept as
//! [`Capability::Unknown`] so that it is re-emitted exactly as received.

use super::{Afi, AfiSafi, Reader, Safi};

/// Capability codes (IANA "Capability Codes" registry).
pub mod code {
    /// Multiprotocol Extensions (RFC 4760).
    pub const MULTIPROTOCOL: u8 = 1;
    /// Route Refresh (RFC 2918).
    pub const ROUTE_REFRESH: u8 = 2;
    /// Extended Next Hop Encoding (RFC 8950).
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    /// Extended Message (RFC 8654).
    pub const EXTENDED_MESSAGE: u8 = 6;
    /// BGP Role (RFC 9234).
    pub const ROLE: u8 = 9;
    /// Graceful Restart (RFC 4724).
    pub const GRACEFUL_RESTART: u8 = 64;
    /// Support for 4-octet AS numbers (RFC 6793).
    pub const FOUR_OCTET_AS: u8 = 65;
    /// ADD-PATH (RFC 7911).
    pub const ADD_PATH: u8 = 69;
    /// Enhanced Route Refresh (RFC 7313).
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
    /// Long-Lived Graceful Restart (RFC 9494).
    pub const LONG_LIVED_GRACEFUL_RESTART: u8 = 71;
    /// FQDN (draft-walton-bgp-hostname-capability).
    pub const FQDN: u8 = 73;
    /// Cisco pre-standard Route Refresh.
    pub const CISCO_ROUTE_REFRESH: u8 = 128;
}

/// ADD-PATH direction flags (RFC 7911 §4).
pub mod add_path {
    /// The sender can receive multiple paths.
    pub const RECEIVE: u8 = 1;
    /// The sender can send multiple paths.
    pub const SEND: u8 = 2;
    /// Both directions.
    pub const BOTH: u8 = 3;
}

/// A BGP Role (RFC 9234 §4.1): the value of capability 9, one octet.
///
/// Values 5..=255 are unassigned; they decode as roles too (so the
/// capability re-encodes byte for byte) and match no role in [`BgpRole::pairs_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BgpRole(pub u8);

impl BgpRole {
    /// Provider (0): the speaker is a transit provider of the neighbour.
    pub const PROVIDER: BgpRole = BgpRole(0);
    /// Route Server (1).
    pub const RS: BgpRole = BgpRole(1);
    /// Route Server Client (2).
    pub const RS_CLIENT: BgpRole = BgpRole(2);
    /// Customer (3): the speaker is a transit customer of the neighbour.
    pub const CUSTOMER: BgpRole = BgpRole(3);
    /// Peer (4): lateral peering.
    pub const PEER: BgpRole = BgpRole(4);

    /// The role the neighbour must announce when we announce `self` (RFC 9234 §4.2, Table 2);
    /// `None` for an unassigned value.
    pub const fn counterpart(self) -> Option<BgpRole> {
        match self.0 {
            0 => Some(BgpRole::CUSTOMER),
            1 => Some(BgpRole::RS_CLIENT),
            2 => Some(BgpRole::RS),
            3 => Some(BgpRole::PROVIDER),
            4 => Some(BgpRole::PEER),
            _ => None,
        }
    }

    /// Whether a local role `self` and a remote role `remote` are an allowed pair
    /// (Provider–Customer, Customer–Provider, RS–RS-Client, RS-Client–RS, Peer–Peer).
    pub const fn pairs_with(self, remote: BgpRole) -> bool {
        match self.counterpart() {
            Some(c) => c.0 == remote.0,
            None => false,
        }
    }

    /// The configuration name: `provider`, `rs`, `rs-client`, `customer`, `peer` (`unassigned` otherwise).
    pub const fn as_str(self) -> &'static str {
        match self.0 {
            0 => "provider",
            1 => "rs",
            2 => "rs-client",
            3 => "customer",
            4 => "peer",
            _ => "unassigned",
        }
    }

    /// Parse a configuration name (the inverse of [`BgpRole::as_str`] for the five roles).
    pub fn from_name(s: &str) -> Option<BgpRole> {
        Some(match s {
            "provider" => BgpRole::PROVIDER,
            "rs" => BgpRole::RS,
            "rs-client" => BgpRole::RS_CLIENT,
            "customer" => BgpRole::CUSTOMER,
            "peer" => BgpRole::PEER,
            _ => return None,
        })
    }
}

/// One entry of the Extended Next Hop capability (RFC 8950 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedNextHop {
    /// NLRI AFI/SAFI (the SAFI is carried on two bytes on the wire).
    pub afi_safi: AfiSafi,
    /// Address family of the next hop.
    pub next_hop_afi: Afi,
}

/// One per-family entry of the Graceful Restart capability (RFC 4724 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GracefulRestartFamily {
    /// The family.
    pub afi_safi: AfiSafi,
    /// Flags for Address Family; bit 0x80 = forwarding state preserved.
    pub flags: u8,
}

/// One per-family entry of the ADD-PATH capability (RFC 7911 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddPathFamily {
    /// The family.
    pub afi_safi: AfiSafi,
    /// Send/Receive field: 1 receive, 2 send, 3 both (see [`add_path`]).
    pub send_receive: u8,
}

impl AddPathFamily {
    /// Whether the advertiser can receive multiple paths for this family.
    pub const fn can_receive(&self) -> bool {
        self.send_receive & add_path::RECEIVE != 0
    }

    /// Whether the advertiser can send multiple paths for this family.
    pub const fn can_send(&self) -> bool {
        self.send_receive & add_path::SEND != 0
    }
}

/// Iterator over fixed-size records of a capability value; the length was checked beforehand.
#[derive(Debug, Clone)]
pub struct Entries<'a, const N: usize> {
    rest: &'a [u8],
}

impl<'a, const N: usize> Entries<'a, N> {
    fn new(data: &'a [u8]) -> Self {
        Entries { rest: data }
    }

    fn next_chunk(&mut self) -> Option<[u8; N]> {
        let mut r = Reader::new(self.rest, 0);
        let out = r.array::<N>().ok()?;
        self.rest = r.rest();
        Some(out)
    }
}

/// Entries of an Extended Next Hop capability.
pub type ExtendedNextHopIter<'a> = Entries<'a, 6>;
/// Per-family entries of a Graceful Restart capability.
pub type GracefulRestartIter<'a> = Entries<'a, 4>;
/// Per-family entries of an ADD-PATH capability.
pub type AddPathIter<'a> = Entries<'a, 4>;

impl Iterator for Entries<'_, 6> {
    type Item = ExtendedNextHop;
    fn next(&mut self) -> Option<ExtendedNextHop> {
        let [a0, a1, _s0, s1, n0, n1] = self.next_chunk()?;
        Some(ExtendedNextHop {
            afi_safi: AfiSafi::new(Afi(u16::from_be_bytes([a0, a1])), Safi(s1)),
            next_hop_afi: Afi(u16::from_be_bytes([n0, n1])),
        })
    }
}

/// A per-family entry of Graceful Restart or ADD-PATH: AFI (2), SAFI (1), one byte of flags.
fn family_entry(b: [u8; 4]) -> (AfiSafi, u8) {
    let [a0, a1, safi, flags] = b;
    (
        AfiSafi::new(Afi(u16::from_be_bytes([a0, a1])), Safi(safi)),
        flags,
    )
}

/// Decoded per-family entry (Graceful Restart and ADD-PATH share the layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FamilyFlags {
    /// The family.
    pub afi_safi: AfiSafi,
    /// The flag byte.
    pub flags: u8,
}

impl Iterator for Entries<'_, 4> {
    type Item = FamilyFlags;
    fn next(&mut self) -> Option<FamilyFlags> {
        let (afi_safi, flags) = family_entry(self.next_chunk()?);
        Some(FamilyFlags { afi_safi, flags })
    }
}

/// A capability, borrowing its value bytes.
#[derive(Debug, Clone)]
pub enum Capability<'a> {
    /// Multiprotocol Extensions (1): one AFI/SAFI.
    Multiprotocol(AfiSafi),
    /// Route Refresh (2).
    RouteRefresh,
    /// Extended Next Hop Encoding (5).
    ExtendedNextHop(ExtendedNextHopIter<'a>),
    /// Extended Message (6).
    ExtendedMessage,
    /// BGP Role (9): 0 provider, 1 RS, 2 RS-client, 3 customer, 4 peer.
    /// A value that is not exactly one octet is [`Capability::Unknown`]
    /// (and [`OpenPacket::new_checked`](super::open::OpenPacket::new_checked) rejects it).
    Role(BgpRole),
    /// Graceful Restart (64).
    GracefulRestart {
        /// Restart Flags (top 4 bits of the first two bytes; 0x8 = restarting, 0x4 = notification).
        restart_flags: u8,
        /// Restart Time in seconds (12 bits).
        restart_time: u16,
        /// Per-family flags (`flags & 0x80` = forwarding state preserved).
        families: GracefulRestartIter<'a>,
    },
    /// 4-octet AS number support (65), with the speaker's real AS.
    FourOctetAs(u32),
    /// ADD-PATH (69): per-family send/receive flags.
    AddPath(AddPathIter<'a>),
    /// Enhanced Route Refresh (70).
    EnhancedRouteRefresh,
    /// Long-Lived Graceful Restart (71), kept raw.
    LongLivedGracefulRestart(&'a [u8]),
    /// FQDN (73): host and domain names as sent (normally ASCII).
    Fqdn {
        /// Host name bytes.
        hostname: &'a [u8],
        /// Domain name bytes.
        domain: &'a [u8],
    },
    /// Cisco pre-standard Route Refresh (128).
    CiscoRouteRefresh,
    /// Any other capability, or a known one whose value is not well formed.
    Unknown {
        /// Capability code.
        code: u8,
        /// Value bytes.
        data: &'a [u8],
    },
}

impl<'a> Capability<'a> {
    /// Decode the value of capability `code`. Never fails: shapes that do not
    /// match the capability's definition are returned as [`Capability::Unknown`].
    pub fn decode(cap_code: u8, data: &'a [u8]) -> Self {
        Self::decode_known(cap_code, data).unwrap_or(Capability::Unknown {
            code: cap_code,
            data,
        })
    }

    fn decode_known(cap_code: u8, data: &'a [u8]) -> Option<Self> {
        let mut r = Reader::new(data, 0);
        let cap = match cap_code {
            code::MULTIPROTOCOL => {
                let afi = r.u16().ok()?;
                let reserved = r.u8().ok()?;
                let safi = r.u8().ok()?;
                if reserved != 0 {
                    return None;
                }
                Capability::Multiprotocol(AfiSafi::new(Afi(afi), Safi(safi)))
            }
            code::ROUTE_REFRESH => Capability::RouteRefresh,
            code::EXTENDED_NEXT_HOP => {
                if data.is_empty() || data.len() % 6 != 0 {
                    return None;
                }
                // The SAFI field is two bytes; Reflector's SAFI is one, so reject SAFIs > 255.
                if data.chunks_exact(6).any(|c| c.get(2) != Some(&0)) {
                    return None;
                }
                r.take(data.len()).ok()?;
                Capability::ExtendedNextHop(Entries::new(data))
            }
            code::EXTENDED_MESSAGE => Capability::ExtendedMessage,
            code::ROLE => Capability::Role(BgpRole(r.u8().ok()?)),
            code::GRACEFUL_RESTART => {
                let head = r.u16().ok()?;
                let rest = r.rest();
                if rest.len() % 4 != 0 {
                    return None;
                }
                r.take(rest.len()).ok()?;
                Capability::GracefulRestart {
                    restart_flags: (head >> 12) as u8,
                    restart_time: head & 0x0fff,
                    families: Entries::new(rest),
                }
            }
            code::FOUR_OCTET_AS => Capability::FourOctetAs(r.u32().ok()?),
            code::ADD_PATH => {
                if data.is_empty() || data.len() % 4 != 0 {
                    return None;
                }
                r.take(data.len()).ok()?;
                Capability::AddPath(Entries::new(data))
            }
            code::ENHANCED_ROUTE_REFRESH => Capability::EnhancedRouteRefresh,
            code::LONG_LIVED_GRACEFUL_RESTART => {
                r.take(data.len()).ok()?;
                Capability::LongLivedGracefulRestart(data)
            }
            code::FQDN => {
                let hl = r.u8().ok()?;
                let hostname = r.take(usize::from(hl)).ok()?;
                let dl = r.u8().ok()?;
                let domain = r.take(usize::from(dl)).ok()?;
                Capability::Fqdn { hostname, domain }
            }
            code::CISCO_ROUTE_REFRESH => Capability::CiscoRouteRefresh,
            _ => return None,
        };
        // Everything must be consumed, so that re-emission is byte-exact.
        r.is_empty().then_some(cap)
    }

    /// The capability code.
    pub fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => code::MULTIPROTOCOL,
            Capability::RouteRefresh => code::ROUTE_REFRESH,
            Capability::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => code::EXTENDED_MESSAGE,
            Capability::Role(_) => code::ROLE,
            Capability::GracefulRestart { .. } => code::GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => code::FOUR_OCTET_AS,
            Capability::AddPath(_) => code::ADD_PATH,
            Capability::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            Capability::LongLivedGracefulRestart(_) => code::LONG_LIVED_GRACEFUL_RESTART,
            Capability::Fqdn { .. } => code::FQDN,
            Capability::CiscoRouteRefresh => code::CISCO_ROUTE_REFRESH,
            Capability::Unknown { code, .. } => *code,
        }
    }
}

/// A human-readable name for a capability code.
pub fn name(cap_code: u8) -> &'static str {
    match cap_code {
        code::MULTIPROTOCOL => "multiprotocol",
        code::ROUTE_REFRESH => "route-refresh",
        3 => "outbound-route-filtering",
        5 => "extended-next-hop",
        6 => "extended-message",
        7 => "bgpsec",
        8 => "multiple-labels",
        9 => "role",
        64 => "graceful-restart",
        65 => "4-octet-as",
        69 => "add-path",
        70 => "enhanced-route-refresh",
        71 => "long-lived-graceful-restart",
        73 => "fqdn",
        128 => "cisco-route-refresh",
        130 => "cisco-orf",
        131 => "cisco-multisession",
        _ => "unknown",
    }
}

/// Iterator over the capabilities packed in one Capabilities optional parameter value.
///
/// Each step consumes at least the two header bytes; a TLV whose length
/// overruns the parameter ends the iteration (the OPEN check rejects such
/// messages before any caller sees them).
#[derive(Debug, Clone)]
pub struct CapabilityTlvIter<'a> {
    rest: &'a [u8],
}

impl<'a> CapabilityTlvIter<'a> {
    /// Iterate the capability TLVs of a Capabilities parameter value.
    pub const fn new(value: &'a [u8]) -> Self {
        CapabilityTlvIter { rest: value }
    }

    /// Check that the TLVs of `value` tile it exactly; `base` is its offset in the message.
    /// On failure returns the offset of the offending TLV.
    pub fn check(value: &[u8], base: usize) -> core::result::Result<(), usize> {
        let mut r = Reader::new(value, base);
        while !r.is_empty() {
            let at = r.offset();
            let _code = r.u8().map_err(|_| at)?;
            let len = r.u8().map_err(|_| at)?;
            r.take(usize::from(len)).map_err(|_| at)?;
        }
        Ok(())
    }
}

impl<'a> Iterator for CapabilityTlvIter<'a> {
    type Item = Capability<'a>;
    fn next(&mut self) -> Option<Capability<'a>> {
        let mut r = Reader::new(self.rest, 0);
        let c = r.u8().ok();
        let value = r.u8().ok().and_then(|len| r.take(usize::from(len)).ok());
        match (c, value) {
            (Some(c), Some(v)) => {
                self.rest = r.rest();
                Some(Capability::decode(c, v))
            }
            _ => {
                self.rest = &[];
                None
            }
        }
    }
}

#[cfg(feature = "alloc")]
pub use repr::CapabilityRepr;

#[cfg(feature = "alloc")]
mod repr {
    use super::*;
    use crate::error::Result;
    use crate::wire::Writer;
    use alloc::vec::Vec;

    /// An owned capability.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum CapabilityRepr {
        /// Multiprotocol Extensions (1).
        Multiprotocol(AfiSafi),
        /// Route Refresh (2).
        RouteRefresh,
        /// Extended Next Hop Encoding (5).
        ExtendedNextHop(Vec<ExtendedNextHop>),
        /// Extended Message (6).
        ExtendedMessage,
        /// BGP Role (9).
        Role(BgpRole),
        /// Graceful Restart (64).
        GracefulRestart {
            /// Restart Flags (4 bits).
            restart_flags: u8,
            /// Restart Time in seconds (12 bits).
            restart_time: u16,
            /// Per-family flags.
            families: Vec<GracefulRestartFamily>,
        },
        /// 4-octet AS number support (65).
        FourOctetAs(u32),
        /// ADD-PATH (69).
        AddPath(Vec<AddPathFamily>),
        /// Enhanced Route Refresh (70).
        EnhancedRouteRefresh,
        /// Long-Lived Graceful Restart (71), raw value.
        LongLivedGracefulRestart(Vec<u8>),
        /// FQDN (73).
        Fqdn {
            /// Host name bytes.
            hostname: Vec<u8>,
            /// Domain name bytes.
            domain: Vec<u8>,
        },
        /// Cisco pre-standard Route Refresh (128).
        CiscoRouteRefresh,
        /// Any other capability, re-emitted as is.
        Unknown {
            /// Capability code.
            code: u8,
            /// Value bytes.
            data: Vec<u8>,
        },
    }

    impl CapabilityRepr {
        /// The owned form of a borrowed capability.
        pub fn parse(cap: &Capability<'_>) -> Self {
            match cap {
                Capability::Multiprotocol(f) => CapabilityRepr::Multiprotocol(*f),
                Capability::RouteRefresh => CapabilityRepr::RouteRefresh,
                Capability::ExtendedNextHop(it) => {
                    CapabilityRepr::ExtendedNextHop(it.clone().collect())
                }
                Capability::ExtendedMessage => CapabilityRepr::ExtendedMessage,
                Capability::Role(r) => CapabilityRepr::Role(*r),
                Capability::GracefulRestart {
                    restart_flags,
                    restart_time,
                    families,
                } => CapabilityRepr::GracefulRestart {
                    restart_flags: *restart_flags,
                    restart_time: *restart_time,
                    families: families
                        .clone()
                        .map(|f| GracefulRestartFamily {
                            afi_safi: f.afi_safi,
                            flags: f.flags,
                        })
                        .collect(),
                },
                Capability::FourOctetAs(a) => CapabilityRepr::FourOctetAs(*a),
                Capability::AddPath(it) => CapabilityRepr::AddPath(
                    it.clone()
                        .map(|f| AddPathFamily {
                            afi_safi: f.afi_safi,
                            send_receive: f.flags,
                        })
                        .collect(),
                ),
                Capability::EnhancedRouteRefresh => CapabilityRepr::EnhancedRouteRefresh,
                Capability::LongLivedGracefulRestart(d) => {
                    CapabilityRepr::LongLivedGracefulRestart(d.to_vec())
                }
                Capability::Fqdn { hostname, domain } => CapabilityRepr::Fqdn {
                    hostname: hostname.to_vec(),
                    domain: domain.to_vec(),
                },
                Capability::CiscoRouteRefresh => CapabilityRepr::CiscoRouteRefresh,
                Capability::Unknown { code, data } => CapabilityRepr::Unknown {
                    code: *code,
                    data: data.to_vec(),
                },
            }
        }

        /// The capability code.
        pub fn code(&self) -> u8 {
            match self {
                CapabilityRepr::Multiprotocol(_) => code::MULTIPROTOCOL,
                CapabilityRepr::RouteRefresh => code::ROUTE_REFRESH,
                CapabilityRepr::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
                CapabilityRepr::ExtendedMessage => code::EXTENDED_MESSAGE,
                CapabilityRepr::Role(_) => code::ROLE,
                CapabilityRepr::GracefulRestart { .. } => code::GRACEFUL_RESTART,
                CapabilityRepr::FourOctetAs(_) => code::FOUR_OCTET_AS,
                CapabilityRepr::AddPath(_) => code::ADD_PATH,
                CapabilityRepr::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
                CapabilityRepr::LongLivedGracefulRestart(_) => code::LONG_LIVED_GRACEFUL_RESTART,
                CapabilityRepr::Fqdn { .. } => code::FQDN,
                CapabilityRepr::CiscoRouteRefresh => code::CISCO_ROUTE_REFRESH,
                CapabilityRepr::Unknown { code, .. } => *code,
            }
        }

        /// Length of the value (without the 2-byte code/length header).
        pub fn value_len(&self) -> usize {
            match self {
                CapabilityRepr::Multiprotocol(_) => 4,
                CapabilityRepr::RouteRefresh
                | CapabilityRepr::ExtendedMessage
                | CapabilityRepr::EnhancedRouteRefresh
                | CapabilityRepr::CiscoRouteRefresh => 0,
                CapabilityRepr::ExtendedNextHop(v) => 6 * v.len(),
                CapabilityRepr::Role(_) => 1,
                CapabilityRepr::GracefulRestart { families, .. } => 2 + 4 * families.len(),
                CapabilityRepr::FourOctetAs(_) => 4,
                CapabilityRepr::AddPath(v) => 4 * v.len(),
                CapabilityRepr::LongLivedGracefulRestart(d) => d.len(),
                CapabilityRepr::Fqdn { hostname, domain } => 2 + hostname.len() + domain.len(),
                CapabilityRepr::Unknown { data, .. } => data.len(),
            }
        }

        /// Encoded length including the code and length bytes.
        pub fn buffer_len(&self) -> usize {
            2 + self.value_len()
        }

        /// Write code, length and value. Fails with [`Error::overflow`](crate::Error::overflow)
        /// if the buffer is short or the value exceeds 255 bytes.
        pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
            let len =
                u8::try_from(self.value_len()).map_err(|_| crate::Error::overflow(w.len()))?;
            w.u8(self.code())?;
            w.u8(len)?;
            match self {
                CapabilityRepr::Multiprotocol(f) => {
                    w.u16(f.afi.0)?;
                    w.u8(0)?;
                    w.u8(f.safi.0)
                }
                CapabilityRepr::RouteRefresh
                | CapabilityRepr::ExtendedMessage
                | CapabilityRepr::EnhancedRouteRefresh
                | CapabilityRepr::CiscoRouteRefresh => Ok(()),
                CapabilityRepr::ExtendedNextHop(v) => {
                    for e in v {
                        w.u16(e.afi_safi.afi.0)?;
                        w.u16(u16::from(e.afi_safi.safi.0))?;
                        w.u16(e.next_hop_afi.0)?;
                    }
                    Ok(())
                }
                CapabilityRepr::Role(r) => w.u8(r.0),
                CapabilityRepr::GracefulRestart {
                    restart_flags,
                    restart_time,
                    families,
                } => {
                    w.u16((u16::from(*restart_flags & 0x0f) << 12) | (*restart_time & 0x0fff))?;
                    for f in families {
                        w.u16(f.afi_safi.afi.0)?;
                        w.u8(f.afi_safi.safi.0)?;
                        w.u8(f.flags)?;
                    }
                    Ok(())
                }
                CapabilityRepr::FourOctetAs(a) => w.u32(*a),
                CapabilityRepr::AddPath(v) => {
                    for f in v {
                        w.u16(f.afi_safi.afi.0)?;
                        w.u8(f.afi_safi.safi.0)?;
                        w.u8(f.send_receive)?;
                    }
                    Ok(())
                }
                CapabilityRepr::LongLivedGracefulRestart(d) => w.put(d),
                CapabilityRepr::Fqdn { hostname, domain } => {
                    let hl = u8::try_from(hostname.len())
                        .map_err(|_| crate::Error::overflow(w.len()))?;
                    let dl =
                        u8::try_from(domain.len()).map_err(|_| crate::Error::overflow(w.len()))?;
                    w.u8(hl)?;
                    w.put(hostname)?;
                    w.u8(dl)?;
                    w.put(domain)
                }
                CapabilityRepr::Unknown { data, .. } => w.put(data),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Capability<'_> {
        let mut it = CapabilityTlvIter::new(bytes);
        let c = it.next().unwrap();
        assert!(it.next().is_none());
        c
    }

    #[test]
    fn rfc4760_8_multiprotocol() {
        match one(&[1, 4, 0, 2, 0, 1]) {
            Capability::Multiprotocol(f) => assert_eq!(f, AfiSafi::IPV6_UNICAST),
            c => panic!("{c:?}"),
        }
        // A non-zero reserved byte is kept raw.
        assert!(matches!(
            one(&[1, 4, 0, 2, 7, 1]),
            Capability::Unknown { code: 1, .. }
        ));
    }

    #[test]
    fn rfc4724_3_graceful_restart_fields() {
        match one(&[64, 6, 0x80, 0x78, 0, 1, 1, 0x80]) {
            Capability::GracefulRestart {
                restart_flags,
                restart_time,
                families,
            } => {
                assert_eq!(restart_flags, 8);
                assert_eq!(restart_time, 120);
                let f: std::vec::Vec<_> = families.collect();
                assert_eq!(f.len(), 1);
                assert_eq!(f[0].afi_safi, AfiSafi::IPV4_UNICAST);
                assert_eq!(f[0].flags, 0x80);
            }
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn rfc7911_4_add_path_directions() {
        match one(&[69, 8, 0, 1, 1, 3, 0, 2, 1, 1]) {
            Capability::AddPath(it) => {
                let v: std::vec::Vec<_> = it.collect();
                assert_eq!(v.len(), 2);
                assert_eq!(v[0].flags, 3);
                assert_eq!(v[1].afi_safi, AfiSafi::IPV6_UNICAST);
            }
            c => panic!("{c:?}"),
        }
        // A length that is not a multiple of 4 is kept raw.
        assert!(matches!(
            one(&[69, 3, 0, 1, 1]),
            Capability::Unknown { code: 69, .. }
        ));
    }

    #[test]
    fn rfc9234_4_1_role_capability_decodes_typed_and_round_trips() {
        for (v, role, name) in [
            (0, BgpRole::PROVIDER, "provider"),
            (1, BgpRole::RS, "rs"),
            (2, BgpRole::RS_CLIENT, "rs-client"),
            (3, BgpRole::CUSTOMER, "customer"),
            (4, BgpRole::PEER, "peer"),
        ] {
            let bytes = [9, 1, v];
            let c = one(&bytes);
            assert!(matches!(c, Capability::Role(r) if r == role), "{c:?}");
            assert_eq!(role.as_str(), name);
            assert_eq!(BgpRole::from_name(name), Some(role));
            let r = CapabilityRepr::parse(&c);
            assert_eq!(r, CapabilityRepr::Role(role));
            let mut out = [0u8; 3];
            let mut w = crate::wire::Writer::new(&mut out);
            r.emit(&mut w).unwrap();
            assert_eq!(w.len(), 3);
            assert_eq!(out, bytes, "byte-exact");
        }
        // An unassigned value is still a role (re-emitted as is) that pairs with nothing.
        assert!(matches!(one(&[9, 1, 200]), Capability::Role(BgpRole(200))));
        assert_eq!(BgpRole(200).counterpart(), None);
        assert!(!BgpRole(200).pairs_with(BgpRole::PEER));
        assert_eq!(BgpRole::from_name("boss"), None);
        // A value that is not one octet is not a role (the OPEN check rejects it: 2/0).
        assert!(matches!(
            one(&[9, 2, 3, 0]),
            Capability::Unknown { code: 9, .. }
        ));
        assert!(matches!(one(&[9, 0]), Capability::Unknown { code: 9, .. }));
    }

    #[test]
    fn rfc9234_4_2_allowed_role_pairs() {
        let all = [
            BgpRole::PROVIDER,
            BgpRole::RS,
            BgpRole::RS_CLIENT,
            BgpRole::CUSTOMER,
            BgpRole::PEER,
        ];
        let allowed = [
            (BgpRole::PROVIDER, BgpRole::CUSTOMER),
            (BgpRole::CUSTOMER, BgpRole::PROVIDER),
            (BgpRole::RS, BgpRole::RS_CLIENT),
            (BgpRole::RS_CLIENT, BgpRole::RS),
            (BgpRole::PEER, BgpRole::PEER),
        ];
        for a in all {
            for b in all {
                assert_eq!(a.pairs_with(b), allowed.contains(&(a, b)), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn rfc8950_3_extended_next_hop_capability() {
        let bytes = [5, 6, 0, 1, 0, 1, 0, 2];
        match one(&bytes) {
            Capability::ExtendedNextHop(it) => {
                let v: std::vec::Vec<_> = it.collect();
                assert_eq!(
                    v,
                    [ExtendedNextHop {
                        afi_safi: AfiSafi::IPV4_UNICAST,
                        next_hop_afi: Afi::IPV6
                    }]
                );
                let r = CapabilityRepr::ExtendedNextHop(v);
                let mut out = [0u8; 8];
                r.emit(&mut crate::wire::Writer::new(&mut out)).unwrap();
                assert_eq!(out, bytes);
            }
            c => panic!("{c:?}"),
        }
        // Not a multiple of 6 bytes: kept raw.
        assert!(matches!(
            one(&[5, 4, 0, 1, 0, 1]),
            Capability::Unknown { code: 5, .. }
        ));
    }

    #[test]
    fn fqdn_must_tile_value() {
        match one(&[73, 6, 2, b'r', b'1', 2, b'e', b'x']) {
            Capability::Fqdn { hostname, domain } => {
                assert_eq!(hostname, b"r1");
                assert_eq!(domain, b"ex");
            }
            c => panic!("{c:?}"),
        }
        assert!(matches!(
            one(&[73, 4, 5, b'r', b'1', 0]),
            Capability::Unknown { code: 73, .. }
        ));
    }

    #[test]
    fn rfc5492_4_tlv_overrun_is_detected_and_iteration_stops() {
        let v = [65, 4, 0, 0, 1, 0, 2, 9];
        assert_eq!(CapabilityTlvIter::check(&v, 30), Err(36));
        let n = CapabilityTlvIter::new(&v).count();
        assert_eq!(n, 1);
        // Zero-length TLVs still consume their header: no infinite loop.
        let v = [2, 0, 2, 0, 70, 0];
        assert_eq!(CapabilityTlvIter::new(&v).count(), 3);
    }
}
