//! Native baselines for bench/run.js, with the same events and formats as the JS side:
//!   stat  ITER RUNS        ns of thread CPU time per read(2) of a task-clock counter (id + times),
//!                          measured by a second task-clock counter of this thread
//!   drain EXP RUNS FILL_MS  records/s of the crate parsing a full ring (sampler.iter())
use std::time::{Duration, Instant};

use perf_event_open::config::{Cpu, Opts, Proc, SampleOn};
use perf_event_open::count::Counter;
use perf_event_open::event::sw::Software;

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args().nth(i).and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn json(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:.1}")).collect();
    format!("[{}]", items.join(","))
}

fn spin(d: Duration) {
    let end = Instant::now() + d;
    let mut x = 0u64;
    while Instant::now() < end {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(std::hint::black_box(n - 1)) + fib(n - 2) }
}

/// P4: thread CPU time of fixed work (fib(N) REPS times) without and with 1 kHz cpu-clock sampling of
/// this thread, the ring drained after each repetition. Prints the medians [plain, sampled] in ns.
fn overhead() {
    let runs: usize = arg(2, 9);
    let n: u64 = arg(3, 27);
    let reps: usize = arg(4, 20);
    let clock = Counter::new(Software::TaskClock, (Proc::CURRENT, Cpu::ALL), Opts::default()).unwrap();
    clock.enable().unwrap();
    let cpu = || clock.stat().unwrap().count;
    let mut opts = Opts::default();
    opts.sample_on = SampleOn::Freq(1000);
    opts.sample_format.code_addr = true;
    opts.record_id_format.time = true;
    let mut plain = Vec::new();
    let mut sampled = Vec::new();
    let mut samples = 0usize;
    for _ in 0..reps {
        std::hint::black_box(fib(n)); // warm up
    }
    for run in 0..runs * 2 {
        if run % 2 == 0 {
            let t0 = cpu();
            for _ in 0..reps {
                std::hint::black_box(fib(n));
            }
            plain.push((cpu() - t0) as f64);
            continue;
        }
        let c = Counter::new(Software::CpuClock, (Proc::CURRENT, Cpu::ALL), &opts).unwrap();
        let s = c.sampler(6).unwrap();
        let t0 = cpu();
        c.enable().unwrap();
        for _ in 0..reps {
            std::hint::black_box(fib(n));
            samples += s.iter().unwrap().count();
        }
        c.disable().unwrap();
        sampled.push((cpu() - t0) as f64);
    }
    plain.sort_by(f64::total_cmp);
    sampled.sort_by(f64::total_cmp);
    println!("[{:.1},{:.1},{}]", plain[plain.len() / 2], sampled[sampled.len() / 2], samples);
}

/// P2: enable + disable + one group read(2) of task-clock leading page-faults, cs, cpu-migrations,
/// with the package's ioctl sequence for a group's enable and disable (see below).
fn group() {
    use perf_event_open::config::sibling;
    use perf_event_open::count::group::CounterGroup;
    use std::io::Read;
    let iterations: u32 = arg(2, 100_000);
    let runs: usize = arg(3, 7);
    let mut opts = Opts::default();
    opts.stat_format.id = true;
    opts.stat_format.time_enabled = true;
    opts.stat_format.time_running = true;
    opts.stat_format.siblings = true;
    let leader = Counter::new(Software::TaskClock, (Proc::CURRENT, Cpu::ALL), opts).unwrap();
    let mut g = CounterGroup::from(leader);
    let mut so = sibling::Opts::default();
    so.stat_format.id = true;
    for ev in [Software::PageFault, Software::CtxSwitch, Software::CpuMigration] {
        g.add(ev, &so).unwrap();
    }
    let clock = Counter::new(Software::TaskClock, (Proc::CURRENT, Cpu::ALL), Opts::default()).unwrap();
    clock.enable().unwrap();
    let cpu = || clock.stat().unwrap().count;
    let mut buf = [0u64; 16];
    let mut per_run = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = cpu();
        let mut sink = 0u64;
        for _ in 0..iterations {
            // The package's sequence (src/group.rs enable_group/disable_group), which a correct
            // program needs (README "Groups"): PERF_IOC_FLAG_GROUP enables the leader before the
            // members, so members of another PMU than the leader's miss counts. Leader off (a
            // no-op here), each member on, leader on; then leader off: 2 + n + 1 ioctls.
            g.leader().disable().unwrap();
            for s in g.siblings() {
                s.enable().unwrap();
            }
            g.leader().enable().unwrap();
            g.leader().disable().unwrap();
            // SAFETY: u64s viewed as bytes.
            let bytes = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), 128) };
            let n = g.leader().file().read(bytes).unwrap();
            sink = sink.wrapping_add(std::hint::black_box(buf[3]) + n as u64);
        }
        std::hint::black_box(sink);
        per_run.push((cpu() - start) as f64 / iterations as f64);
    }
    println!("{}", json(&per_run));
}

fn stat() {
    use std::io::Read;
    let iterations: u32 = arg(2, 200_000);
    let runs: usize = arg(3, 7);
    let mut opts = Opts::default();
    opts.stat_format.id = true;
    opts.stat_format.time_enabled = true;
    opts.stat_format.time_running = true;
    let counter = Counter::new(Software::TaskClock, (Proc::CURRENT, Cpu::ALL), opts).unwrap();
    counter.enable().unwrap();
    let clock = Counter::new(Software::TaskClock, (Proc::CURRENT, Cpu::ALL), Opts::default()).unwrap();
    clock.enable().unwrap();
    let cpu = || clock.stat().unwrap().count;
    let mut buf = [0u64; 8];
    let mut per_run = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = cpu();
        let mut sink = 0u64;
        for _ in 0..iterations {
            // SAFETY: u64s viewed as bytes.
            let bytes = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), 64) };
            let n = counter.file().read(bytes).unwrap();
            sink = sink.wrapping_add(std::hint::black_box(buf[0]) + n as u64);
        }
        std::hint::black_box(sink);
        per_run.push((cpu() - start) as f64 / iterations as f64);
    }
    println!("{}", json(&per_run));
}

/// Basic samples: ip + tid/pid + time (32 bytes each), from cpu-clock every 10 us.
pub fn basic_sample_opts() -> Opts {
    let mut opts = Opts::default();
    opts.sample_on = SampleOn::Count(10_000);
    opts.sample_format.code_addr = true;
    opts.record_id_format.task = true;
    opts.record_id_format.time = true;
    opts
}

fn drain() {
    let exp: u8 = arg(2, 8);
    let runs: usize = arg(3, 5);
    let fill_ms: u64 = arg(4, 400);
    let counter = Counter::new(Software::CpuClock, (Proc::CURRENT, Cpu::ALL), basic_sample_opts()).unwrap();
    let sampler = counter.sampler(exp).unwrap();
    let mut out = Vec::new();
    for _ in 0..runs {
        counter.enable().unwrap();
        spin(Duration::from_millis(fill_ms));
        counter.disable().unwrap();
        let start = Instant::now();
        let mut n = 0u64;
        for r in sampler.iter().unwrap() {
            std::hint::black_box(&r);
            n += 1;
        }
        let ns = start.elapsed().as_nanos() as f64;
        out.push(format!("{{\"records\":{n},\"ns\":{ns:.0}}}"));
    }
    println!("[{}]", out.join(","));
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("stat") => stat(),
        Some("drain") => drain(),
        Some("group") => group(),
        Some("overhead") => overhead(),
        _ => {
            eprintln!("usage: perf-event-open-bench-native stat ITER RUNS | drain EXP RUNS FILL_MS");
            std::process::exit(2);
        }
    }
}
