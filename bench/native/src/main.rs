//! Prints the median ns per `Counter::stat()` of a task-clock counter with
//! id + time_enabled + time_running, the same attributes the JS benchmark uses.
use std::time::Instant;

use perf_event_open::config::{Cpu, Opts, Proc};
use perf_event_open::count::Counter;
use perf_event_open::event::sw::Software;

fn main() {
    let iterations: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let runs: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let mut opts = Opts::default();
    opts.stat_format.id = true;
    opts.stat_format.time_enabled = true;
    opts.stat_format.time_running = true;
    let counter = Counter::new(Software::TaskClock, (Proc::CURRENT, Cpu::ALL), opts).unwrap();
    counter.enable().unwrap();
    let mut per_run = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let mut sink = 0u64;
        for _ in 0..iterations {
            sink = sink.wrapping_add(std::hint::black_box(counter.stat().unwrap()).count);
        }
        std::hint::black_box(sink);
        per_run.push(start.elapsed().as_nanos() as f64 / iterations as f64);
    }
    println!("{}", serde_like(&per_run));
}

fn serde_like(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:.1}")).collect();
    format!("[{}]", items.join(","))
}
