//! Any BGP message: the header picks the type, the body is validated by that type's view.

use super::header::{Header, MessageType, HEADER_LEN, MAX_LEN};
use super::notification::NotificationPacket;
use super::open::{check_length, OpenPacket};
use super::route_refresh::RouteRefreshPacket;
use super::update::UpdatePacket;
use super::Context;
use crate::error::{code, subcode, Action, Error, ErrorKind, NotifyData, Result};

/// A validated BGP message over borrowed bytes.
#[derive(Debug, Clone)]
// The UPDATE view carries its validation summary; boxing it would need an
// allocator, which views must not.
#[allow(clippy::large_enum_variant)]
pub enum Message<'a> {
    /// OPEN.
    Open(OpenPacket<&'a [u8]>),
    /// UPDATE.
    Update(UpdatePacket<&'a [u8]>),
    /// NOTIFICATION.
    Notification(NotificationPacket<&'a [u8]>),
    /// KEEPALIVE (header only).
    Keepalive,
    /// ROUTE-REFRESH.
    RouteRefresh(RouteRefreshPacket<&'a [u8]>),
}

impl<'a> Message<'a> {
    /// Validate one whole message (`buf` holds exactly the bytes its header announces).
    ///
    /// UPDATEs are validated strictly: any RFC 7606 error, even one the
    /// session survives, is returned. Use [`Message::parse_revised`] to keep
    /// treat-as-withdraw and attribute-discard UPDATEs.
    pub fn parse(buf: &'a [u8], ctx: &Context) -> Result<Message<'a>> {
        match Self::parse_revised(buf, ctx)? {
            (m, None) => Ok(m),
            (_, Some(e)) => Err(e),
        }
    }

    /// Validate one whole message with RFC 7606 revised error handling for
    /// UPDATEs: `Err` only when the session must be reset (or a family
    /// disabled); `Some(e)` alongside an UPDATE whose error is survivable.
    pub fn parse_revised(buf: &'a [u8], ctx: &Context) -> Result<(Message<'a>, Option<Error>)> {
        let h = Header::parse(buf, ctx.max_message_len())?;
        // RFC 8654 §3: OPEN and KEEPALIVE never exceed 4,096 bytes.
        if matches!(h.msg_type, MessageType::Open | MessageType::Keepalive)
            && usize::from(h.length) > MAX_LEN
        {
            return Err(Error::new(
                ErrorKind::BadMessageLength,
                code::MESSAGE_HEADER,
                subcode::BAD_MESSAGE_LENGTH,
                Action::SessionReset,
                16,
            )
            .with_data(NotifyData::u16(h.length)));
        }
        check_length(buf, h)?;
        Ok(match h.msg_type {
            MessageType::Open => (Message::Open(OpenPacket::new_checked(buf)?), None),
            MessageType::Update => {
                let (u, e) = UpdatePacket::parse_revised(buf, ctx)?;
                (Message::Update(u), e)
            }
            MessageType::Notification => (
                Message::Notification(NotificationPacket::new_checked(buf)?),
                None,
            ),
            MessageType::Keepalive => (Message::Keepalive, None),
            MessageType::RouteRefresh => (
                Message::RouteRefresh(RouteRefreshPacket::new_checked(buf)?),
                None,
            ),
        })
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }
}

/// The 19 bytes of a KEEPALIVE.
pub const KEEPALIVE: [u8; HEADER_LEN] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0, 19, 4,
];

#[cfg(feature = "alloc")]
pub use repr::MessageRepr;

#[cfg(feature = "alloc")]
mod repr {
    use super::*;
    use crate::wire::notification::NotificationRepr;
    use crate::wire::open::OpenRepr;
    use crate::wire::route_refresh::RouteRefreshRepr;
    use crate::wire::update_repr::UpdateRepr;
    use crate::wire::Writer;
    use alloc::vec::Vec;

    /// An owned BGP message.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum MessageRepr {
        /// OPEN.
        Open(OpenRepr),
        /// UPDATE.
        Update(UpdateRepr),
        /// NOTIFICATION.
        Notification(NotificationRepr),
        /// KEEPALIVE.
        Keepalive,
        /// ROUTE-REFRESH.
        RouteRefresh(RouteRefreshRepr),
    }

    impl MessageRepr {
        /// The owned form of a validated message.
        pub fn parse(m: &Message<'_>) -> Self {
            match m {
                Message::Open(o) => MessageRepr::Open(OpenRepr::parse(o)),
                Message::Update(u) => MessageRepr::Update(UpdateRepr::parse(u)),
                Message::Notification(n) => MessageRepr::Notification(NotificationRepr::parse(n)),
                Message::Keepalive => MessageRepr::Keepalive,
                Message::RouteRefresh(r) => MessageRepr::RouteRefresh(RouteRefreshRepr::parse(r)),
            }
        }

        /// The message type.
        pub fn message_type(&self) -> MessageType {
            match self {
                MessageRepr::Open(_) => MessageType::Open,
                MessageRepr::Update(_) => MessageType::Update,
                MessageRepr::Notification(_) => MessageType::Notification,
                MessageRepr::Keepalive => MessageType::Keepalive,
                MessageRepr::RouteRefresh(_) => MessageType::RouteRefresh,
            }
        }

        /// Encoded length, header included (`ctx` matters for UPDATEs).
        pub fn buffer_len(&self, ctx: &Context) -> usize {
            match self {
                MessageRepr::Open(o) => o.buffer_len(),
                MessageRepr::Update(u) => u.buffer_len(ctx),
                MessageRepr::Notification(n) => n.buffer_len(),
                MessageRepr::Keepalive => HEADER_LEN,
                MessageRepr::RouteRefresh(r) => r.buffer_len(),
            }
        }

        /// Write the whole message into `buf`; returns the length written.
        pub fn emit(&self, buf: &mut [u8], ctx: &Context) -> Result<usize> {
            match self {
                MessageRepr::Open(o) => o.emit(buf),
                MessageRepr::Update(u) => u.emit(buf, ctx),
                MessageRepr::Notification(n) => n.emit(buf),
                MessageRepr::Keepalive => {
                    let mut w = Writer::new(buf);
                    w.put(&KEEPALIVE)?;
                    Ok(w.len())
                }
                MessageRepr::RouteRefresh(r) => r.emit(buf),
            }
        }

        /// The encoded message in a new vector.
        pub fn to_vec(&self, ctx: &Context) -> Result<Vec<u8>> {
            let mut v = alloc::vec![0u8; self.buffer_len(ctx)];
            let n = self.emit(&mut v, ctx)?;
            v.truncate(n);
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4271_4_4_keepalive() {
        let m = Message::parse(&KEEPALIVE, &Context::MODERN).unwrap();
        assert_eq!(m.message_type(), MessageType::Keepalive);
        let r = MessageRepr::parse(&m);
        assert_eq!(r.to_vec(&Context::MODERN).unwrap(), KEEPALIVE);
    }

    #[test]
    fn rfc4271_6_1_buffer_longer_than_header_length_is_rejected() {
        let mut b = KEEPALIVE.to_vec();
        b.push(0);
        let e = Message::parse(&b, &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
        let e = Message::parse(&KEEPALIVE[..18], &Context::MODERN).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
    }

    #[test]
    fn rfc8654_3_open_over_4096_rejected_even_with_extended_messages() {
        let mut b = std::vec![0xffu8; 16];
        b.extend_from_slice(&5000u16.to_be_bytes());
        b.push(1);
        b.resize(5000, 0);
        let ctx = Context {
            extended_message: true,
            ..Context::MODERN
        };
        let e = Message::parse(&b, &ctx).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
        assert_eq!(e.data.resolve(&b), &5000u16.to_be_bytes());
    }

    #[test]
    fn rfc4271_6_1_unknown_type() {
        let mut b = KEEPALIVE;
        b[18] = 6;
        let e = Message::parse(&b, &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 3));
    }
}
