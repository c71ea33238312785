//! Splitting a TCP byte stream into whole BGP messages.
//!
//! TCP delivers bytes in arbitrary chunks: a read may hold half a header,
//! several messages, or a message and the start of the next. [`Framer`]
//! buffers what it is given and hands out one complete message at a time,
//! checking each header (marker, length bounds, type) as soon as its 19
//! bytes are there.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::Result;
use crate::wire::header::frame_len;
use crate::wire::Context;

/// Reassembles BGP messages from a byte stream.
#[derive(Debug, Clone)]
pub struct Framer {
    buf: BytesMut,
    max_len: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(&Context::MODERN)
    }
}

impl Framer {
    /// A framer enforcing `ctx`'s maximum message size (4,096, or 65,535 with extended messages).
    pub fn new(ctx: &Context) -> Self {
        Framer {
            buf: BytesMut::new(),
            max_len: ctx.max_message_len(),
        }
    }

    /// Change the context (after the OPEN exchange negotiated extended messages).
    pub fn set_context(&mut self, ctx: &Context) {
        self.max_len = ctx.max_message_len();
    }

    /// Append bytes read from the connection.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete message (header included), `Ok(None)` if more bytes are
    /// needed, or the header error the session must report.
    ///
    /// After an error the stream cannot be resynchronized: the same error is
    /// returned until [`Framer::clear`] is called.
    pub fn next_message(&mut self) -> Result<Option<Bytes>> {
        match frame_len(&self.buf, self.max_len)? {
            Some(n) if self.buf.len() >= n => Ok(Some(self.buf.split_to(n).freeze())),
            _ => Ok(None),
        }
    }

    /// Drop everything buffered.
    pub fn clear(&mut self) {
        self.buf.advance(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn msg(ty: u8, body_len: usize, fill: u8) -> Vec<u8> {
        let mut v = std::vec![0xffu8; 16];
        v.extend_from_slice(&((19 + body_len) as u16).to_be_bytes());
        v.push(ty);
        v.extend(std::iter::repeat_n(fill, body_len));
        v
    }

    fn stream() -> (Vec<u8>, Vec<Vec<u8>>) {
        let msgs = std::vec![
            msg(4, 0, 0),
            msg(2, 40, 7),
            msg(3, 2, 1),
            msg(2, 4077, 9),
            msg(4, 0, 0),
            msg(5, 4, 1),
        ];
        (msgs.concat(), msgs)
    }

    fn drain(f: &mut Framer, out: &mut Vec<Vec<u8>>) {
        while let Some(m) = f.next_message().unwrap() {
            out.push(m.to_vec());
        }
    }

    #[test]
    fn byte_by_byte() {
        let (bytes, msgs) = stream();
        let mut f = Framer::default();
        let mut out = Vec::new();
        for b in &bytes {
            f.push(std::slice::from_ref(b));
            drain(&mut f, &mut out);
        }
        assert_eq!(out, msgs);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn rfc4271_6_1_bad_marker_is_reported_once_header_is_in() {
        let mut f = Framer::default();
        let mut m = msg(4, 0, 0);
        m[0] = 0;
        f.push(&m[..18]);
        assert!(f.next_message().unwrap().is_none());
        f.push(&m[18..]);
        let e = f.next_message().unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMarker);
        assert_eq!((e.code, e.subcode), (1, 1));
    }

    #[test]
    fn rfc8654_4_extended_length_only_with_context() {
        let big = msg(2, 5000, 3);
        let mut f = Framer::default();
        f.push(&big);
        let e = f.next_message().unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
        f.set_context(&Context {
            extended_message: true,
            ..Context::MODERN
        });
        assert_eq!(f.next_message().unwrap().unwrap().len(), 5019);
    }

    proptest! {
        #[test]
        fn random_chunks_reassemble(cuts in proptest::collection::vec(1usize..600, 0..40)) {
            let (bytes, msgs) = stream();
            let mut f = Framer::default();
            let mut out = Vec::new();
            let mut at = 0;
            for c in cuts {
                let end = (at + c).min(bytes.len());
                f.push(&bytes[at..end]);
                at = end;
                drain(&mut f, &mut out);
            }
            f.push(&bytes[at..]);
            drain(&mut f, &mut out);
            prop_assert_eq!(out, msgs);
        }
    }
}
