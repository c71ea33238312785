//! The NOTIFICATION message (RFC 4271 §4.5) and the RFC 9003 shutdown
//! communication.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code    | Error subcode |   Data (variable)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::header::{Header, MessageType, MAX_EXTENDED_LEN};
use super::open::check_length;
use super::Writer;
use crate::error::{code, subcode, Action, Error, ErrorKind, Result};

mod field {
    pub const CODE: usize = 19;
    pub const SUBCODE: usize = 20;
    pub const DATA: usize = 21;
}

/// Longest RFC 9003 shutdown communication, in bytes.
pub const MAX_SHUTDOWN_LEN: usize = 255;

/// A validated NOTIFICATION message (header included).
#[derive(Debug, Clone)]
pub struct NotificationPacket<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> NotificationPacket<T> {
    /// Validate a whole NOTIFICATION message.
    ///
    /// Only the header and the 21-byte minimum are checked: RFC 4271 defines
    /// no error for the content of a NOTIFICATION, so unknown codes and any
    /// data are accepted. NOTIFICATIONs may use the extended message size.
    pub fn new_checked(buf: T) -> Result<Self> {
        let b = buf.as_ref();
        let h = Header::parse(b, MAX_EXTENDED_LEN)?;
        if h.msg_type != MessageType::Notification {
            return Err(super::header::bad_type());
        }
        check_length(b, h)?;
        Ok(NotificationPacket { buf })
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Error code.
    pub fn code(&self) -> u8 {
        self.as_bytes().get(field::CODE).copied().unwrap_or(0)
    }

    /// Error subcode.
    pub fn subcode(&self) -> u8 {
        self.as_bytes().get(field::SUBCODE).copied().unwrap_or(0)
    }

    /// The data field.
    pub fn data(&self) -> &[u8] {
        self.as_bytes().get(field::DATA..).unwrap_or(&[])
    }

    /// The RFC 9003 shutdown communication of a Cease / Administrative
    /// Shutdown (2) or Administrative Reset (4).
    ///
    /// `None` when the message is not one of those, or carries no data.
    /// `Some(Err(_))` when the length byte overruns the data or the text is
    /// not UTF-8: the message itself stays valid, [`Self::data`] has the raw bytes.
    pub fn shutdown_communication(&self) -> Option<Result<&str>> {
        if !is_shutdown(self.code(), self.subcode()) {
            return None;
        }
        let data = self.data();
        let (&len, rest) = data.split_first()?;
        let malformed = Error::new(
            ErrorKind::MalformedShutdownCommunication,
            code::CEASE,
            0,
            Action::AttributeDiscard,
            field::DATA,
        );
        let text = match rest.get(..usize::from(len)) {
            Some(t) => t,
            None => return Some(Err(malformed)),
        };
        Some(core::str::from_utf8(text).map_err(|_| malformed))
    }

    /// Human-readable name of the error code.
    pub fn code_name(&self) -> &'static str {
        code_name(self.code())
    }

    /// Human-readable name of the error subcode.
    pub fn subcode_name(&self) -> &'static str {
        subcode_name(self.code(), self.subcode())
    }

    /// Write a NOTIFICATION (header included) into `buf`, without an allocator.
    pub fn emit_parts(buf: &mut [u8], err_code: u8, err_subcode: u8, data: &[u8]) -> Result<usize> {
        let len = field::DATA + data.len();
        let total = u16::try_from(len).map_err(|_| Error::overflow(0))?;
        let mut w = Writer::new(buf);
        Header {
            length: total,
            msg_type: MessageType::Notification,
        }
        .emit(&mut w)?;
        w.u8(err_code)?;
        w.u8(err_subcode)?;
        w.put(data)?;
        Ok(w.len())
    }
}

fn is_shutdown(c: u8, s: u8) -> bool {
    c == code::CEASE && (s == subcode::CEASE_ADMIN_SHUTDOWN || s == subcode::CEASE_ADMIN_RESET)
}

/// Name of a NOTIFICATION error code (RFC 4271, RFC 7313, RFC 9687).
pub fn code_name(c: u8) -> &'static str {
    match c {
        1 => "Message Header Error",
        2 => "OPEN Message Error",
        3 => "UPDATE Message Error",
        4 => "Hold Timer Expired",
        5 => "Finite State Machine Error",
        6 => "Cease",
        7 => "ROUTE-REFRESH Message Error",
        8 => "Send Hold Timer Expired",
        _ => "Unknown error code",
    }
}

/// Name of a NOTIFICATION error subcode, given its code
/// (RFC 4271, 4486, 5492, 6608, 7313, 8538, 9234, 9384).
pub fn subcode_name(c: u8, s: u8) -> &'static str {
    match (c, s) {
        (_, 0) => "Unspecific",
        (1, 1) => "Connection Not Synchronized",
        (1, 2) => "Bad Message Length",
        (1, 3) => "Bad Message Type",
        (2, 1) => "Unsupported Version Number",
        (2, 2) => "Bad Peer AS",
        (2, 3) => "Bad BGP Identifier",
        (2, 4) => "Unsupported Optional Parameter",
        (2, 5) => "Authentication Failure (deprecated)",
        (2, 6) => "Unacceptable Hold Time",
        (2, 7) => "Unsupported Capability",
        (2, 11) => "Role Mismatch",
        (3, 1) => "Malformed Attribute List",
        (3, 2) => "Unrecognized Well-known Attribute",
        (3, 3) => "Missing Well-known Attribute",
        (3, 4) => "Attribute Flags Error",
        (3, 5) => "Attribute Length Error",
        (3, 6) => "Invalid ORIGIN Attribute",
        (3, 7) => "AS Routing Loop (deprecated)",
        (3, 8) => "Invalid NEXT_HOP Attribute",
        (3, 9) => "Optional Attribute Error",
        (3, 10) => "Invalid Network Field",
        (3, 11) => "Malformed AS_PATH",
        (5, 1) => "Receive Unexpected Message in OpenSent State",
        (5, 2) => "Receive Unexpected Message in OpenConfirm State",
        (5, 3) => "Receive Unexpected Message in Established State",
        (6, 1) => "Maximum Number of Prefixes Reached",
        (6, 2) => "Administrative Shutdown",
        (6, 3) => "Peer De-configured",
        (6, 4) => "Administrative Reset",
        (6, 5) => "Connection Rejected",
        (6, 6) => "Other Configuration Change",
        (6, 7) => "Connection Collision Resolution",
        (6, 8) => "Out of Resources",
        (6, 9) => "Hard Reset",
        (6, 10) => "BFD Down",
        (7, 1) => "Invalid Message Length",
        _ => "Unknown subcode",
    }
}

#[cfg(feature = "alloc")]
pub use repr::NotificationRepr;

#[cfg(feature = "alloc")]
mod repr {
    use super::*;
    use alloc::vec::Vec;

    /// An owned NOTIFICATION.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct NotificationRepr {
        /// Error code.
        pub code: u8,
        /// Error subcode.
        pub subcode: u8,
        /// Data field.
        pub data: Vec<u8>,
    }

    impl NotificationRepr {
        /// The owned form of a validated NOTIFICATION.
        pub fn parse<T: AsRef<[u8]>>(n: &NotificationPacket<T>) -> Self {
            NotificationRepr {
                code: n.code(),
                subcode: n.subcode(),
                data: n.data().to_vec(),
            }
        }

        /// The NOTIFICATION reporting `err`, found while decoding `message`
        /// (the bytes `err`'s offsets refer to).
        pub fn from_error(err: &Error, message: &[u8]) -> Self {
            NotificationRepr {
                code: err.code,
                subcode: err.subcode,
                data: err.data.resolve(message).to_vec(),
            }
        }

        /// A Cease with an RFC 9003 shutdown communication (`subcode` 2 or 4);
        /// the text is cut at a character boundary to fit 255 bytes.
        pub fn shutdown(cease_subcode: u8, text: &str) -> Self {
            let mut end = text.len().min(MAX_SHUTDOWN_LEN);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let bytes = text.as_bytes().get(..end).unwrap_or(&[]);
            let mut data = Vec::with_capacity(1 + bytes.len());
            data.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
            data.extend_from_slice(bytes);
            NotificationRepr {
                code: code::CEASE,
                subcode: cease_subcode,
                data,
            }
        }

        /// Encoded length, header included.
        pub fn buffer_len(&self) -> usize {
            field::DATA + self.data.len()
        }

        /// Write the whole message into `buf`; returns the length written.
        pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
            NotificationPacket::<&[u8]>::emit_parts(buf, self.code, self.subcode, &self.data)
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

    fn notif(c: u8, s: u8, data: &[u8]) -> Vec<u8> {
        let mut v = std::vec![0xff; 16];
        v.extend_from_slice(&((21 + data.len()) as u16).to_be_bytes());
        v.extend_from_slice(&[3, c, s]);
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn rfc4271_4_5_fields() {
        let b = notif(2, 6, &[]);
        let n = NotificationPacket::new_checked(&b[..]).unwrap();
        assert_eq!((n.code(), n.subcode()), (2, 6));
        assert_eq!(n.code_name(), "OPEN Message Error");
        assert_eq!(n.subcode_name(), "Unacceptable Hold Time");
        assert!(n.data().is_empty());
        assert!(n.shutdown_communication().is_none());
    }

    #[test]
    fn rfc9003_2_shutdown_communication() {
        let mut data = std::vec![5u8];
        data.extend_from_slice(b"maint");
        data.extend_from_slice(b"trailing");
        let b = notif(6, 2, &data);
        let n = NotificationPacket::new_checked(&b[..]).unwrap();
        assert_eq!(n.shutdown_communication().unwrap().unwrap(), "maint");
    }

    #[test]
    fn rfc9003_3_malformed_communication_keeps_message() {
        // Length 10 but only 3 bytes follow.
        let b = notif(6, 4, &[10, b'a', b'b', b'c']);
        let n = NotificationPacket::new_checked(&b[..]).unwrap();
        let e = n.shutdown_communication().unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::MalformedShutdownCommunication);
        assert_eq!(n.data(), &[10, b'a', b'b', b'c']);
        // Invalid UTF-8.
        let b = notif(6, 2, &[2, 0xc3, 0x28]);
        let n = NotificationPacket::new_checked(&b[..]).unwrap();
        assert!(n.shutdown_communication().unwrap().is_err());
    }

    #[test]
    fn rfc9003_2_long_text_is_cut_at_char_boundary() {
        let text = "é".repeat(200);
        let r = NotificationRepr::shutdown(2, &text);
        assert_eq!(r.data[0], 254);
        let b = r.to_vec().unwrap();
        let n = NotificationPacket::new_checked(&b[..]).unwrap();
        assert_eq!(
            n.shutdown_communication().unwrap().unwrap().chars().count(),
            127
        );
    }

    #[test]
    fn rfc4271_6_1_from_error_resolves_data() {
        let mut m = notif(6, 2, &[]);
        m[17] = 20;
        m.pop();
        let e = Header::parse(&m, 4096).unwrap_err();
        let r = NotificationRepr::from_error(&e, &m);
        assert_eq!((r.code, r.subcode), (1, 2));
        assert_eq!(r.data, [0, 20]);
    }

    #[test]
    fn names_cover_rfc_subcodes() {
        assert_eq!(subcode_name(6, 9), "Hard Reset");
        assert_eq!(subcode_name(6, 10), "BFD Down");
        assert_eq!(subcode_name(7, 1), "Invalid Message Length");
        assert_eq!(subcode_name(2, 11), "Role Mismatch");
        assert_eq!(code_name(7), "ROUTE-REFRESH Message Error");
    }

    proptest::proptest! {
        #[test]
        fn notification_repr_round_trips(
            code in proptest::prelude::any::<u8>(),
            subcode in proptest::prelude::any::<u8>(),
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let r = NotificationRepr { code, subcode, data };
            let b = r.to_vec().unwrap();
            let p = NotificationPacket::new_checked(&b[..]).unwrap();
            // Never fails, whatever the data holds.
            let _ = p.shutdown_communication();
            proptest::prop_assert_eq!(NotificationRepr::parse(&p), r);
        }
    }
}
