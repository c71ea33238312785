//! Arbitrary bytes after an OPEN header: the view, its capability and
//! parameter iterators, and negotiation against a fixed local OPEN must not
//! panic or loop; valid OPENs round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reflector_core::wire::open::{OpenPacket, OpenRepr};

fuzz_target!(|body: &[u8]| {
    if body.len() > 4096 - 19 {
        return;
    }
    let mut msg = vec![0xff; 16];
    msg.extend(((19 + body.len()) as u16).to_be_bytes());
    msg.push(1);
    msg.extend_from_slice(body);
    if let Ok(p) = OpenPacket::new_checked(&msg[..]) {
        let _ = p.opt_params().count();
        let _ = p.capabilities().count();
        let repr = OpenRepr::parse(&p);
        if let Ok(bytes) = repr.to_vec() {
            let again = OpenPacket::new_checked(&bytes[..]).expect("re-encoded OPEN parses");
            assert_eq!(OpenRepr::parse(&again), repr);
        }
    }
});
