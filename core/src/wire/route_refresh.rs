//! The ROUTE-REFRESH message (RFC 2918; RFC 7313 subtypes; RFC 5291 ORF entries kept raw).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |              AFI              | Message Subtype |     SAFI    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  ORF entries (RFC 5291, optional) ...
//! ```

use super::header::{Header, MessageType, MAX_EXTENDED_LEN};
use super::open::check_length;
use super::{Afi, AfiSafi, Safi};
use crate::error::{code, subcode, Action, Error, ErrorKind, Result};

mod field {
    use core::ops::Range;
    pub const AFI: Range<usize> = 19..21;
    pub const SUBTYPE: usize = 21;
    pub const SAFI: usize = 22;
    pub const ORF: usize = 23;
}

/// Length of a ROUTE-REFRESH without ORF entries.
pub const ROUTE_REFRESH_LEN: usize = 23;

/// The RFC 7313 message subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subtype {
    /// 0: a normal route refresh request.
    Normal,
    /// 1: Beginning of Route Refresh (BoRR).
    BeginOfRefresh,
    /// 2: End of Route Refresh (EoRR).
    EndOfRefresh,
    /// Any other value: RFC 7313 §5 says the message is ignored.
    Unknown(u8),
}

impl Subtype {
    /// From the subtype octet.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => Subtype::Normal,
            1 => Subtype::BeginOfRefresh,
            2 => Subtype::EndOfRefresh,
            v => Subtype::Unknown(v),
        }
    }

    /// The subtype octet.
    pub const fn to_u8(self) -> u8 {
        match self {
            Subtype::Normal => 0,
            Subtype::BeginOfRefresh => 1,
            Subtype::EndOfRefresh => 2,
            Subtype::Unknown(v) => v,
        }
    }
}

/// A validated ROUTE-REFRESH message (header included).
#[derive(Debug, Clone)]
pub struct RouteRefreshPacket<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> RouteRefreshPacket<T> {
    /// Validate a whole ROUTE-REFRESH message.
    ///
    /// A BoRR or EoRR (subtypes 1 and 2) must be exactly 23 bytes; otherwise
    /// the error is 7/1 with the whole message as data (RFC 7313 §5). A
    /// normal request may carry RFC 5291 ORF entries after the fixed part.
    pub fn new_checked(buf: T) -> Result<Self> {
        let b = buf.as_ref();
        let h = Header::parse(b, MAX_EXTENDED_LEN)?;
        if h.msg_type != MessageType::RouteRefresh {
            return Err(super::header::bad_type());
        }
        check_length(b, h)?;
        let st = b.get(field::SUBTYPE).copied().unwrap_or(0);
        if matches!(st, 1 | 2) && b.len() != ROUTE_REFRESH_LEN {
            return Err(Error::new(
                ErrorKind::InvalidRouteRefreshLength,
                code::ROUTE_REFRESH,
                subcode::INVALID_ROUTE_REFRESH_LENGTH,
                Action::SessionReset,
                16,
            )
            .with_range(0, b.len()));
        }
        Ok(RouteRefreshPacket { buf })
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// The AFI.
    pub fn afi(&self) -> Afi {
        match self.as_bytes().get(field::AFI) {
            Some(&[hi, lo]) => Afi(u16::from_be_bytes([hi, lo])),
            _ => Afi(0),
        }
    }

    /// The SAFI.
    pub fn safi(&self) -> Safi {
        Safi(self.as_bytes().get(field::SAFI).copied().unwrap_or(0))
    }

    /// The AFI/SAFI to refresh.
    pub fn afi_safi(&self) -> AfiSafi {
        AfiSafi::new(self.afi(), self.safi())
    }

    /// The RFC 7313 subtype (the reserved byte of RFC 2918).
    pub fn subtype(&self) -> Subtype {
        Subtype::from_u8(self.as_bytes().get(field::SUBTYPE).copied().unwrap_or(0))
    }

    /// RFC 5291 ORF data (When-to-refresh and ORF entries), raw; usually empty.
    pub fn orf(&self) -> &[u8] {
        self.as_bytes().get(field::ORF..).unwrap_or(&[])
    }
}

#[cfg(feature = "alloc")]
pub use repr::RouteRefreshRepr;

#[cfg(feature = "alloc")]
mod repr {
    use super::*;
    use crate::wire::Writer;
    use alloc::vec::Vec;

    /// An owned ROUTE-REFRESH.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct RouteRefreshRepr {
        /// The family to refresh.
        pub afi_safi: AfiSafi,
        /// RFC 7313 subtype.
        pub subtype: Subtype,
        /// Raw RFC 5291 ORF data.
        pub orf: Vec<u8>,
    }

    impl RouteRefreshRepr {
        /// A plain request for `afi_safi` (RFC 2918).
        pub fn request(afi_safi: AfiSafi) -> Self {
            RouteRefreshRepr {
                afi_safi,
                subtype: Subtype::Normal,
                orf: Vec::new(),
            }
        }

        /// The owned form of a validated ROUTE-REFRESH.
        pub fn parse<T: AsRef<[u8]>>(p: &RouteRefreshPacket<T>) -> Self {
            RouteRefreshRepr {
                afi_safi: p.afi_safi(),
                subtype: p.subtype(),
                orf: p.orf().to_vec(),
            }
        }

        /// Encoded length, header included.
        pub fn buffer_len(&self) -> usize {
            ROUTE_REFRESH_LEN + self.orf.len()
        }

        /// Write the whole message into `buf`; returns the length written.
        pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
            let total = u16::try_from(self.buffer_len()).map_err(|_| Error::overflow(0))?;
            let mut w = Writer::new(buf);
            Header {
                length: total,
                msg_type: MessageType::RouteRefresh,
            }
            .emit(&mut w)?;
            w.u16(self.afi_safi.afi.0)?;
            w.u8(self.subtype.to_u8())?;
            w.u8(self.afi_safi.safi.0)?;
            w.put(&self.orf)?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn rr(afi: u16, st: u8, safi: u8, orf: &[u8]) -> Vec<u8> {
        let mut v = std::vec![0xff; 16];
        v.extend_from_slice(&((23 + orf.len()) as u16).to_be_bytes());
        v.push(5);
        v.extend_from_slice(&afi.to_be_bytes());
        v.extend_from_slice(&[st, safi]);
        v.extend_from_slice(orf);
        v
    }

    #[test]
    fn rfc2918_3_request() {
        let b = rr(2, 0, 1, &[]);
        let p = RouteRefreshPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.afi_safi(), AfiSafi::IPV6_UNICAST);
        assert_eq!(p.subtype(), Subtype::Normal);
        assert_eq!(RouteRefreshRepr::parse(&p).to_vec().unwrap(), b);
    }

    #[test]
    fn rfc7313_5_borr_with_extra_bytes_is_7_1_with_whole_message() {
        let b = rr(1, 1, 1, &[1, 2]);
        let e = RouteRefreshPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (7, 1));
        assert_eq!(e.data.resolve(&b), &b[..]);
        // A normal request may carry ORF entries (RFC 5291).
        let b = rr(1, 0, 1, &[1, 64, 0, 0]);
        let p = RouteRefreshPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.orf(), &[1, 64, 0, 0]);
    }

    #[test]
    fn rfc7313_5_unknown_subtype_is_parsed_for_the_caller_to_ignore() {
        let b = rr(1, 9, 1, &[]);
        let p = RouteRefreshPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.subtype(), Subtype::Unknown(9));
    }

    #[test]
    fn rfc4271_6_1_short_route_refresh_is_bad_length() {
        let mut b = rr(1, 0, 1, &[]);
        b[17] = 22;
        b.pop();
        let e = RouteRefreshPacket::new_checked(&b[..]).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
    }

    proptest::proptest! {
        #[test]
        fn route_refresh_repr_round_trips(
            afi in proptest::prelude::any::<u16>(),
            safi in proptest::prelude::any::<u8>(),
            subtype in proptest::prelude::any::<u8>(),
            orf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let subtype = Subtype::from_u8(subtype);
            // BoRR and EoRR carry nothing after the fixed part (RFC 7313 §5).
            let orf = if matches!(subtype, Subtype::BeginOfRefresh | Subtype::EndOfRefresh) {
                std::vec::Vec::new()
            } else {
                orf
            };
            let r = RouteRefreshRepr { afi_safi: AfiSafi::new(Afi(afi), Safi(safi)), subtype, orf };
            let b = r.to_vec().unwrap();
            let p = RouteRefreshPacket::new_checked(&b[..]).unwrap();
            proptest::prop_assert_eq!(RouteRefreshRepr::parse(&p), r);
        }
    }
}
