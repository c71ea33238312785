//! The reflection workload shared by the FFI overhead benchmark and the
//! FFI-vs-native equivalence test: the same UPDATE bytes driven through the
//! engine natively and through the C ABI.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{IpAddr, Ipv4Addr};

use reflector::engine::{
    rfl_engine, rfl_engine_add_peer, rfl_engine_config_init, rfl_engine_free,
    rfl_engine_handle_message, rfl_engine_new, rfl_engine_peer_up, rfl_engine_poll_transmit,
    rfl_negotiated, rfl_outcome, rfl_peer_config, rfl_peer_config_init, RFL_MAX_MESSAGE_LEN,
};
use reflector::{rfl_addr, rfl_result};
use reflector_core::engine::{Engine, EngineConfig, Negotiated, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{Context, Ipv4Prefix, Nlri, Prefix, UpdateRepr};

/// Our AS.
pub const LOCAL_AS: u32 = 65000;
/// Our router ID.
pub const ROUTER_ID: Ipv4Addr = Ipv4Addr::new(10, 255, 255, 254);

/// One UPDATE from one sending peer (index into the senders).
pub struct Input {
    /// Which sender.
    pub sender: usize,
    /// Sender negotiated 4-octet AS.
    pub as4: bool,
    /// The message.
    pub msg: Vec<u8>,
}

/// `n` IPv4 /24 prefixes from one client, packed 400 to an UPDATE, with 250
/// distinct attribute sets (AS paths and MEDs), like a slice of a real table.
pub fn synthetic(n: u32) -> Vec<Input> {
    let mut out = Vec::new();
    let per = 400u32;
    let mut i = 0u32;
    while i < n {
        let k = i / per;
        let set = k % 250;
        let attributes = vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[
                64512 + set,
                3356,
                1299 + set % 7,
            ]))),
            AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(10, 0, 0, 1))),
            AttributeRepr::new(AttributeValue::Med(set)),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
            AttributeRepr::new(AttributeValue::Communities(vec![0xfde8_0000 | set])),
        ];
        let nlri = (i..(i + per).min(n))
            .map(|j| {
                let a = Ipv4Addr::from_bits(0x0b00_0000 + (j << 8));
                Nlri::new(Prefix::V4(Ipv4Prefix::new(a, 24).unwrap()))
            })
            .collect();
        let msg = UpdateRepr {
            withdrawn: vec![],
            attributes,
            nlri,
        }
        .to_vec(&Context::MODERN)
        .unwrap();
        out.push(Input {
            sender: 0,
            as4: true,
            msg,
        });
        i += per;
    }
    out
}

/// Every UPDATE of BGP4MP MESSAGE / MESSAGE_AS4 records of an MRT dump, each
/// distinct (peer address, AS size) a sender.
pub fn mrt_updates(raw: &[u8]) -> (Vec<Input>, usize) {
    let mut out = Vec::new();
    let mut senders: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut pos = 0usize;
    while pos + 12 <= raw.len() {
        let typ = u16::from_be_bytes([raw[pos + 4], raw[pos + 5]]);
        let sub = u16::from_be_bytes([raw[pos + 6], raw[pos + 7]]);
        let len = u32::from_be_bytes(raw[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let body = &raw[pos + 12..pos + 12 + len];
        pos += 12 + len;
        if typ != 16 || (sub != 1 && sub != 4) {
            continue;
        }
        let asl = if sub == 4 { 4 } else { 2 };
        let afi = u16::from_be_bytes([body[2 * asl + 2], body[2 * asl + 3]]);
        let al = if afi == 1 { 4 } else { 16 };
        let off = 2 * asl + 4;
        let addr = body[off..off + al].to_vec();
        let msg = &body[off + 2 * al..];
        if msg.len() < 19 || msg[18] != 2 {
            continue;
        }
        let key = (addr, sub == 4);
        let sender = match senders.iter().position(|s| *s == key) {
            Some(i) => i,
            None => {
                senders.push(key);
                senders.len() - 1
            }
        };
        out.push(Input {
            sender,
            as4: sub == 4,
            msg: msg.to_vec(),
        });
    }
    (out, senders.len())
}

fn sender_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, (i >> 8) as u8, (i & 0xff) as u8 + 1)
}

fn listener_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 254, 0, i as u8 + 1)
}

/// What each listener received, concatenated, plus the number of messages.
pub type Output = Vec<(Vec<u8>, usize)>;

/// Drive the workload through the native engine.
pub fn run_native(inputs: &[Input], senders: usize, listeners: usize) -> Output {
    let mut e = Engine::new(EngineConfig::new(LOCAL_AS, ROUTER_ID));
    let mut lis = Vec::new();
    for l in 0..listeners {
        let a = listener_addr(l);
        let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(a), LOCAL_AS));
        e.peer_up(id, Negotiated::unicast(a));
        lis.push(id);
    }
    let mut snd: Vec<PeerId> = Vec::new();
    let mut up = vec![false; senders];
    for s in 0..senders {
        let a = sender_addr(s);
        snd.push(e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(a), LOCAL_AS)));
    }
    for inp in inputs {
        if !up[inp.sender] {
            let mut n = Negotiated::unicast(sender_addr(inp.sender));
            n.four_octet_as = inp.as4;
            e.peer_up(snd[inp.sender], n);
            up[inp.sender] = true;
        }
        let _ = e.handle_message(snd[inp.sender], &inp.msg);
    }
    let mut buf = vec![0u8; RFL_MAX_MESSAGE_LEN];
    lis.iter()
        .map(|&l| {
            let mut all = Vec::new();
            let mut count = 0;
            while let Some(n) = e.poll_transmit(l, &mut buf) {
                all.extend_from_slice(&buf[..n]);
                count += 1;
            }
            (all, count)
        })
        .collect()
}

fn ok(r: rfl_result) {
    assert_eq!(r, rfl_result::Ok);
}

fn v4(a: Ipv4Addr) -> rfl_addr {
    let mut octets = [0u8; 16];
    octets[..4].copy_from_slice(&a.octets());
    rfl_addr { family: 4, octets }
}

unsafe fn add_up(e: *mut rfl_engine, a: Ipv4Addr, as4: bool, up: bool) -> u32 {
    let mut pc = std::mem::MaybeUninit::<rfl_peer_config>::uninit();
    let addr = v4(a);
    // SAFETY: valid pointers for the calls.
    unsafe {
        ok(rfl_peer_config_init(
            0,
            LOCAL_AS,
            &addr,
            pc.as_mut_ptr(),
            std::mem::size_of::<rfl_peer_config>(),
        ));
        let mut id = 0u32;
        ok(rfl_engine_add_peer(e, pc.as_ptr(), &mut id));
        if up {
            peer_up(e, id, a, as4);
        }
        id
    }
}

unsafe fn peer_up(e: *mut rfl_engine, id: u32, a: Ipv4Addr, as4: bool) {
    let mut n = std::mem::MaybeUninit::<rfl_negotiated>::uninit();
    // SAFETY: valid pointers for the calls.
    unsafe {
        ok(reflector::engine::rfl_negotiated_unicast(
            a.to_bits(),
            n.as_mut_ptr(),
            std::mem::size_of::<rfl_negotiated>(),
        ));
        let mut n = n.assume_init();
        n.four_octet_as = as4;
        ok(rfl_engine_peer_up(e, id, &n));
    }
}

/// Drive the workload through the C ABI (the same calls a C speaker makes).
pub fn run_ffi(inputs: &[Input], senders: usize, listeners: usize) -> Output {
    // SAFETY: every pointer passed is valid for its call; the engine is freed at the end.
    unsafe {
        let mut cfg = std::mem::MaybeUninit::uninit();
        ok(rfl_engine_config_init(
            LOCAL_AS,
            ROUTER_ID.to_bits(),
            cfg.as_mut_ptr(),
            std::mem::size_of::<reflector::engine::rfl_engine_config>(),
        ));
        let mut e: *mut rfl_engine = std::ptr::null_mut();
        ok(rfl_engine_new(cfg.as_ptr(), &mut e));
        let lis: Vec<u32> = (0..listeners)
            .map(|l| add_up(e, listener_addr(l), true, true))
            .collect();
        let snd: Vec<u32> = (0..senders)
            .map(|s| add_up(e, sender_addr(s), true, false))
            .collect();
        let mut up = vec![false; senders];
        let mut notif = [0u8; 4096];
        let mut oc = std::mem::MaybeUninit::<rfl_outcome>::zeroed();
        (*oc.as_mut_ptr()).struct_size = std::mem::size_of::<rfl_outcome>() as u32;
        for inp in inputs {
            if !up[inp.sender] {
                peer_up(e, snd[inp.sender], sender_addr(inp.sender), inp.as4);
                up[inp.sender] = true;
            }
            ok(rfl_engine_handle_message(
                e,
                snd[inp.sender],
                inp.msg.as_ptr(),
                inp.msg.len(),
                notif.as_mut_ptr(),
                notif.len(),
                oc.as_mut_ptr(),
            ));
        }
        let mut buf = vec![0u8; RFL_MAX_MESSAGE_LEN];
        let out = lis
            .iter()
            .map(|&l| {
                let mut all = Vec::new();
                let mut count = 0;
                let mut n = 0usize;
                loop {
                    let r = rfl_engine_poll_transmit(e, l, buf.as_mut_ptr(), buf.len(), &mut n);
                    if r == rfl_result::Empty {
                        break;
                    }
                    ok(r);
                    all.extend_from_slice(&buf[..n]);
                    count += 1;
                }
                (all, count)
            })
            .collect();
        ok(rfl_engine_free(e));
        out
    }
}
