//! Arbitrary bytes as one BGP message, decoded under every session context:
//! strict and RFC 7606 parsing must agree, errors must carry a NOTIFICATION
//! code, and every well-formed message must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reflector_core::wire::message::{Message, MessageRepr};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context};

fn contexts() -> [Context; 4] {
    let all = AfiSafiSet::EMPTY
        .with(AfiSafi::IPV4_UNICAST)
        .with(AfiSafi::IPV6_UNICAST)
        .with(AfiSafi::IPV4_MULTICAST)
        .with(AfiSafi::IPV6_MULTICAST);
    [
        Context::LEGACY,
        Context::MODERN,
        Context { extended_message: true, ..Context::MODERN },
        Context { add_path: all, ..Context::MODERN },
    ]
}

fuzz_target!(|data: &[u8]| {
    for ctx in contexts() {
        let strict = Message::parse(data, &ctx);
        let revised = Message::parse_revised(data, &ctx);
        match (&strict, &revised) {
            (Ok(_), Ok((_, soft))) => assert!(soft.is_none()),
            (Ok(_), Err(_)) => panic!("strict accepted what RFC 7606 parsing rejected"),
            (Err(e), Ok((_, soft))) => assert_eq!(Some(*e), *soft),
            (Err(e1), Err(e2)) => assert_eq!(e1, e2),
        }
        if let Err(e) = &strict {
            assert!(e.code != 0, "a message error always names a NOTIFICATION code");
            let _ = e.data.resolve(data);
        }
        if let Ok(m) = strict {
            let repr = MessageRepr::parse(&m);
            if let Ok(bytes) = repr.to_vec(&ctx) {
                let again = Message::parse(&bytes, &ctx).expect("re-encoded message parses");
                assert_eq!(MessageRepr::parse(&again), repr);
            }
        }
    }
});
