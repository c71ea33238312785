//! Time the phases of reflecting 1M VPN-IPv4 routes to 4 clients in the engine.
use std::time::Instant;

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let vpn = reflector_benches::vpn_table(1_000_000, 2_000, 8, 7);
    for _ in 0..reps {
        let mut b =
            reflector_benches::Bench::with_families(4, &[reflector_core::wire::AfiSafi::VPNV4]);
        let t0 = Instant::now();
        let refused = b.inject(vpn.messages.iter().map(Vec::as_slice));
        let t1 = Instant::now();
        b.engine.flush();
        let t2 = Instant::now();
        let out = b.drain();
        let t3 = Instant::now();
        println!(
            "import {:.3} s, flush {:.3} s, drain {:.3} s, total {:.3} s ({refused} refused, {out} bytes)",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t3 - t0).as_secs_f64()
        );
    }
}
