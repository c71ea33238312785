//! The 19-byte message header (RFC 4271 §4.1, RFC 8654 lengths).

use super::{Reader, Writer};
use crate::error::{code, subcode, Action, Error, ErrorKind, NotifyData, Result};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 19;
/// Largest message without the extended message capability.
pub const MAX_LEN: usize = 4096;
/// Largest message with the extended message capability (RFC 8654).
pub const MAX_EXTENDED_LEN: usize = 65535;
/// The all-ones marker.
pub const MARKER: [u8; 16] = [0xff; 16];

mod field {
    use core::ops::Range;
    pub const MARKER: Range<usize> = 0..16;
    pub const LENGTH: Range<usize> = 16..18;
    pub const TYPE: usize = 18;
}

/// BGP message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    /// OPEN (1).
    Open,
    /// UPDATE (2).
    Update,
    /// NOTIFICATION (3).
    Notification,
    /// KEEPALIVE (4).
    Keepalive,
    /// ROUTE-REFRESH (5, RFC 2918).
    RouteRefresh,
}

impl MessageType {
    /// From the type octet.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => return None,
        })
    }

    /// The type octet.
    pub const fn to_u8(self) -> u8 {
        match self {
            MessageType::Open => 1,
            MessageType::Update => 2,
            MessageType::Notification => 3,
            MessageType::Keepalive => 4,
            MessageType::RouteRefresh => 5,
        }
    }

    /// Smallest valid total length for this type.
    pub const fn min_len(self) -> usize {
        match self {
            MessageType::Open => 29,
            MessageType::Update => 23,
            MessageType::Notification => 21,
            MessageType::Keepalive => 19,
            MessageType::RouteRefresh => 23,
        }
    }

    /// The upper-case name used in logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageType::Open => "OPEN",
            MessageType::Update => "UPDATE",
            MessageType::Notification => "NOTIFICATION",
            MessageType::Keepalive => "KEEPALIVE",
            MessageType::RouteRefresh => "ROUTE-REFRESH",
        }
    }
}

/// A validated message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Total message length, header included.
    pub length: u16,
    /// Message type.
    pub msg_type: MessageType,
}

impl Header {
    /// Parse and validate the header at the start of `buf` (RFC 4271 §6.1).
    ///
    /// `max_len` is 4,096, or 65,535 when extended messages were negotiated.
    /// Only the header bytes are needed; the body need not be present yet.
    pub fn parse(buf: &[u8], max_len: usize) -> Result<Header> {
        let mut r = Reader::new(buf, 0);
        let marker: [u8; 16] = r.array()?;
        if marker != MARKER {
            return Err(Error::new(
                ErrorKind::BadMarker,
                code::MESSAGE_HEADER,
                subcode::CONNECTION_NOT_SYNCHRONIZED,
                Action::SessionReset,
                field::MARKER.start,
            ));
        }
        let length = r.u16()?;
        let ty = r.u8()?;
        let bad_len = Error::new(
            ErrorKind::BadMessageLength,
            code::MESSAGE_HEADER,
            subcode::BAD_MESSAGE_LENGTH,
            Action::SessionReset,
            field::LENGTH.start,
        )
        .with_data(NotifyData::u16(length));
        let msg_type = MessageType::from_u8(ty).ok_or_else(bad_type)?;
        let len = usize::from(length);
        if len < msg_type.min_len() || len > max_len {
            return Err(bad_len);
        }
        if matches!(msg_type, MessageType::Keepalive) && len != HEADER_LEN {
            return Err(bad_len);
        }
        Ok(Header { length, msg_type })
    }

    /// Write the header into the first 19 bytes of `w`.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.put(&MARKER)?;
        w.u16(self.length)?;
        w.u8(self.msg_type.to_u8())
    }
}

/// The error for a message type that is unknown, or not the one a decoder
/// expects: Message Header Error / Bad Message Type, with the type octet as data.
pub(crate) fn bad_type() -> Error {
    Error::new(
        ErrorKind::BadMessageType,
        code::MESSAGE_HEADER,
        subcode::BAD_MESSAGE_TYPE,
        Action::SessionReset,
        field::TYPE,
    )
    .with_range(field::TYPE, field::TYPE + 1)
}

/// How long the next message in a byte stream is, once its header has arrived.
///
/// `Ok(None)` means fewer than 19 bytes are buffered; `Ok(Some(n))` means the
/// message occupies the first `n` bytes (which may not all be present yet).
pub fn frame_len(buf: &[u8], max_len: usize) -> Result<Option<usize>> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    Header::parse(buf, max_len).map(|h| Some(usize::from(h.length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(len: u16, ty: u8) -> [u8; 19] {
        let mut b = [0xffu8; 19];
        b[16..18].copy_from_slice(&len.to_be_bytes());
        b[18] = ty;
        b
    }

    #[test]
    fn rfc4271_6_1_keepalive_ok() {
        let h = Header::parse(&hdr(19, 4), MAX_LEN).unwrap();
        assert_eq!(h.msg_type, MessageType::Keepalive);
        assert_eq!(h.length, 19);
    }

    #[test]
    fn rfc4271_6_1_bad_marker() {
        let mut b = hdr(19, 4);
        b[3] = 0;
        let e = Header::parse(&b, MAX_LEN).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 1));
        assert_eq!(e.action, Action::SessionReset);
    }

    #[test]
    fn rfc4271_6_1_bad_length_carries_length_field() {
        let b = hdr(20, 4);
        let e = Header::parse(&b, MAX_LEN).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
        assert_eq!(e.data.resolve(&b), &[0, 20]);
        let e = Header::parse(&hdr(4097, 2), MAX_LEN).unwrap_err();
        assert_eq!(e.subcode, 2);
        assert!(Header::parse(&hdr(4097, 2), MAX_EXTENDED_LEN).is_ok());
        let e = Header::parse(&hdr(22, 2), MAX_LEN).unwrap_err();
        assert_eq!(e.subcode, 2);
    }

    #[test]
    fn rfc4271_6_1_bad_type_carries_type() {
        let b = hdr(19, 9);
        let e = Header::parse(&b, MAX_LEN).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 3));
        assert_eq!(e.data.resolve(&b), &[9]);
    }

    #[test]
    fn frame_len_waits_for_header() {
        assert_eq!(frame_len(&[0xff; 10], MAX_LEN).unwrap(), None);
        assert_eq!(frame_len(&hdr(23, 2), MAX_LEN).unwrap(), Some(23));
    }
}
