//! Native timing of what the demo page measures in the browser: a generated cluster converging.
//!
//! `cargo run --release -p reflector-wasm --example converge -- [NODES] [REFLECTORS] [RUNS]`

use std::time::Instant;

use reflector_wasm::Sim;

fn main() -> Result<(), String> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().map_err(|_| format!("not a number: {a}")))
        .collect::<Result<_, _>>()?;
    let nodes = args.first().copied().unwrap_or(500);
    let reflectors = args.get(1).copied().unwrap_or(2);
    let runs = args.get(2).copied().unwrap_or(5).max(1);
    let mut sim = Sim::generate(nodes, reflectors, 1)?;
    sim.set_message_log_limit(0);
    let mut times = Vec::new();
    for _ in 0..runs {
        sim.reset();
        let t0 = Instant::now();
        let r = sim.run(100_000)?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        if !r.converged {
            return Err("did not converge".into());
        }
        println!(
            "{nodes} nodes, {reflectors} reflectors: {:.1} ms, {} messages, {} bytes, {} steps",
            times.last().copied().unwrap_or(0.0),
            r.messages,
            r.bytes,
            r.steps
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median of {runs}: {:.1} ms",
        times.get(runs / 2).copied().unwrap_or(0.0)
    );
    Ok(())
}
