//! `fill()` on rings written by hand (wrap-around at the ring's end, full columns and what a
//! larger batch picks up, rewind) and on a ring the kernel wrote (every record type one thread
//! produces, read back by the crate's own parser).

use super::fill::fill_layout;
use super::*;
use perf_event_open::config::{CallChain, Cpu, ExtraRecord, Mmap, Opts, Priv, Proc, RecordIdFormat, SampleFormat, SampleOn};
use perf_event_open::count::Counter;
use perf_event_open::event::sw::Software;
use perf_event_open::sample::record::sample::CallChain as Chain;
use perf_event_open::sample::record::Record;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

const PAGE: usize = 4096;
// PERF_SAMPLE_* bits.
const IP: u64 = 1 << 0;
const TID: u64 = 1 << 1;
const TIME: u64 = 1 << 2;
const CALLCHAIN: u64 = 1 << 5;
const ID: u64 = 1 << 6;
const CPU: u64 = 1 << 7;
const PERIOD: u64 = 1 << 8;
const ST: u64 = IP | TID | TIME | CALLCHAIN | ID | CPU | PERIOD;

/// A ring of 2^exp data pages in anonymous memory, laid out as the kernel's (data_offset and
/// data_size set), that the test writes records into.
fn test_ring(exp: u32) -> Ring {
    let len = PAGE * (1 + (1 << exp));
    // SAFETY: a fresh private anonymous mapping; Ring unmaps it on drop.
    let base = unsafe {
        libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    };
    assert_ne!(base, libc::MAP_FAILED);
    let base = base.cast::<u8>();
    // SAFETY: inside the first page.
    unsafe {
        *(base.add(1040) as *mut u64) = PAGE as u64;
        *(base.add(1048) as *mut u64) = (PAGE << exp) as u64;
    }
    Ring::from_mapping(base, len, PAGE)
}

/// Writes `records` from ring position `tail` on (masked, wrapping) and moves the head past them.
fn write(ring: &Ring, tail: u64, records: &[Vec<u8>]) {
    ring.set_tail(tail);
    let mut pos = tail;
    for r in records {
        for (i, b) in r.iter().enumerate() {
            // SAFETY: masked into the data area.
            unsafe { *ring.data.add(((pos + i as u64) & (ring.size - 1)) as usize) = *b };
        }
        pos += r.len() as u64;
    }
    ring.head().store(pos, Ordering::Release);
}

fn record(ty: u32, misc: u16, body: &[u64]) -> Vec<u8> {
    let size = 8 * (1 + body.len());
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&misc.to_ne_bytes());
    out.extend_from_slice(&(size as u16).to_ne_bytes());
    for v in body {
        out.extend_from_slice(&v.to_ne_bytes());
    }
    out
}

/// A PERF_RECORD_SAMPLE of `ST` (fields in the kernel's order: ip, pid/tid, time, id, cpu, period, call chain).
fn sample(k: u64, chain: &[u64]) -> Vec<u8> {
    let mut body = vec![0x1000 + k, (200 + k) << 32 | (100 + k), 1_000_000 * k, 7, 3, 250_000];
    body.push(chain.len() as u64);
    body.extend_from_slice(chain);
    record(9, 2, &body)
}

/// A batch buffer as lib/handles/batch.ts lays it out (`Columns`), with its meta slots set.
struct Batch {
    mem: Vec<u64>,
    n: usize,
    c: usize,
}

impl Batch {
    fn new(n: usize, c: usize, b: usize) -> Batch {
        let bytes = META * 4 + 8 * (U64_COLS * n + c) + 4 * U32_COLS * n + b;
        let mut batch = Batch { mem: vec![0; bytes.div_ceil(8)], n, c };
        let meta = batch.meta();
        (meta[M_ROWS_CAP], meta[M_CHAIN_CAP], meta[M_BYTES_CAP], meta[M_MAX_ROWS]) = (n as u32, c as u32, b as u32, n as u32);
        batch
    }
    fn layout(&mut self) -> Layout {
        Layout::check(self.mem.as_mut_ptr().cast(), self.mem.len() * 8).unwrap()
    }
    fn fill(&mut self, ring: &Ring, st: u64) -> u32 {
        fill_layout(&mut self.layout(), ring, st, 0)
    }
    fn meta(&mut self) -> &mut [u32] {
        // SAFETY: the buffer starts with the META u32 slots.
        unsafe { std::slice::from_raw_parts_mut(self.mem.as_mut_ptr().cast::<u32>(), META) }
    }
    fn u64_col(&mut self, k: usize, row: usize) -> u64 {
        let n = self.n;
        self.layout().parts().1[k * n + row]
    }
    fn chain(&mut self, row: usize) -> Vec<u64> {
        let (off, len) = (self.u32_col(5, row) as usize, self.u32_col(6, row) as usize);
        let n = self.n;
        self.layout().parts().1[U64_COLS * n + off..U64_COLS * n + off + len].to_vec()
    }
    fn u32_col(&mut self, k: usize, row: usize) -> u32 {
        let n = self.n;
        self.layout().parts().2[k * n + row]
    }
    /// The record bytes of a row, as copied into the byte area.
    fn bytes(&mut self, row: usize) -> Vec<u8> {
        let (off, len) = (self.u32_col(7, row) as usize, self.u32_col(8, row) as usize);
        self.layout().parts().3[off..off + len].to_vec()
    }
}

#[test]
fn a_record_that_wraps_at_the_ring_end_is_copied_whole_and_decoded() {
    let ring = test_ring(0);
    let chain = [0xffff_ffff_ffff_fe00, 0x4000, 0x4100, 0x4200];
    let records = [sample(1, &chain), sample(2, &chain), record(3, 0, &[5 << 32 | 5, u64::from_ne_bytes(*b"name\0\0\0\0")])];
    // The first record starts 24 bytes before the end of the 4 KiB data area: it wraps after its ip.
    let start = 3 * PAGE as u64 - 24;
    write(&ring, start, &records);
    let mut b = Batch::new(4, 16, 1024);
    assert_eq!(b.fill(&ring, ST), 3);
    for (row, r) in records.iter().enumerate() {
        assert_eq!(&b.bytes(row), r, "row {row}: the bytes as written");
        assert_eq!(b.u32_col(0, row), u32::from_ne_bytes(r[0..4].try_into().unwrap()), "type");
        assert_eq!(b.u32_col(8, row) as usize, r.len(), "record length");
    }
    for (row, k) in [(0, 1u64), (1, 2)] {
        assert_eq!(
            [b.u64_col(0, row), b.u64_col(1, row), b.u64_col(2, row), b.u64_col(3, row), b.u64_col(5, row)],
            [0x1000 + k, 1_000_000 * k, 0, 7, 250_000]
        );
        assert_eq!([b.u32_col(1, row), b.u32_col(2, row), b.u32_col(3, row), b.u32_col(4, row)], [2, 100 + k as u32, 200 + k as u32, 3]);
        assert_eq!(b.chain(row), chain);
    }
    // Not a sample: only the header's fields and the bytes.
    assert_eq!([b.u64_col(0, 2), b.u32_col(2, 2) as u64, b.u32_col(6, 2) as u64], [0, 0, 0]);
    let used: usize = records.iter().map(Vec::len).sum();
    assert_eq!(ring.tail_value(), start + used as u64, "the tail moved past every record");
    assert_eq!(b.meta()[M_BYTES] as usize, used);
    assert_eq!(b.meta()[M_FLAGS], 0);
}

#[test]
fn full_columns_stop_before_a_record_and_a_larger_batch_picks_it_up() {
    let ring = test_ring(1);
    let records: Vec<Vec<u8>> = (0..6).map(|k| sample(k, &[0xffff_ffff_ffff_fe00, 0x5000 + k])).collect();
    let len = records[0].len();
    let start = 2 * PAGE as u64 * 5 - 40;
    write(&ring, start, &records);

    // Rows: two fit.
    let mut b = Batch::new(2, 64, 4096);
    assert_eq!(b.fill(&ring, ST), 2);
    assert_eq!(b.meta()[M_FLAGS], FULL_ROWS);
    assert_eq!(ring.tail_value(), start + 2 * len as u64);
    // Bytes: one record fits in what is left.
    let mut b = Batch::new(8, 64, len + 8);
    assert_eq!(b.fill(&ring, ST), 1);
    assert_eq!(b.meta()[M_FLAGS], FULL_BYTES);
    // Call chain: room for one chain of two addresses.
    let mut b = Batch::new(8, 3, 4096);
    assert_eq!(b.fill(&ring, ST), 1);
    assert_eq!(b.meta()[M_FLAGS], FULL_CHAIN);
    assert_eq!(ring.tail_value(), start + 4 * len as u64);
    // maxRows below the capacity: stops there without a full flag, and the same batch resumes
    // after its rows (byte area and chains appended).
    let mut b = Batch::new(8, 64, 4096);
    b.meta()[M_MAX_ROWS] = 1;
    assert_eq!(b.fill(&ring, ST), 1);
    assert_eq!(b.meta()[M_FLAGS], 0);
    b.meta()[M_MAX_ROWS] = 8;
    assert_eq!(b.fill(&ring, ST), 2);
    assert_eq!([b.u64_col(0, 0), b.u64_col(0, 1)], [0x1004, 0x1005]);
    assert_eq!([b.u32_col(7, 1) as usize, b.u32_col(5, 1) as usize], [len, 2]);
    assert_eq!(b.bytes(1), records[5]);
    assert_eq!(b.chain(1), [0xffff_ffff_ffff_fe00, 0x5005]);
    assert_eq!(ring.tail_value(), start + 6 * len as u64, "every record read once");
    assert_eq!(b.fill(&ring, ST), 2, "nothing new");
}

#[test]
fn rewind_copies_without_moving_the_tail() {
    let ring = test_ring(0);
    write(&ring, 64, &[sample(1, &[]), sample(2, &[])]);
    let mut b = Batch::new(4, 4, 1024);
    b.meta()[M_REWIND] = 1;
    assert_eq!(b.fill(&ring, ST), 2);
    assert_eq!(ring.tail_value(), 64);
}

/// lib/handles/batch.ts, which lays the buffer out on the JS side.
const BATCH_TS: &str = include_str!("../../lib/handles/batch.ts");

/// `name: value` pairs of a TS object literal or `name = f(value)` lines: every `<name><sep><int>`.
fn pairs<'a>(text: &'a str, sep: &str, open: &str, close: &str) -> std::collections::BTreeMap<&'a str, usize> {
    text.split(['\n', ',', '{', '}'])
        .filter_map(|part| {
            let (name, value) = part.split_once(sep)?;
            let value = value.trim().strip_prefix(open)?.strip_suffix(close)?;
            Some((name.trim().trim_start_matches("this."), value.trim().parse().ok()?))
        })
        .collect()
}

fn line_of<'a>(prefix: &str) -> &'a str {
    BATCH_TS
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("lib/handles/batch.ts has no line starting {prefix:?}"))
}

#[test]
fn the_layout_is_the_same_in_lib_batch_ts() {
    use std::collections::BTreeMap;
    let map = |v: &[(&'static str, usize)]| v.iter().copied().collect::<BTreeMap<_, _>>();
    // Meta slots: `export const M = { rowsCap: 0, … } as const`, the same names and slots both ways.
    let m = line_of("export const M = {");
    let slots = [
        ("rowsCap", M_ROWS_CAP),
        ("chainCap", M_CHAIN_CAP),
        ("bytesCap", M_BYTES_CAP),
        ("maxRows", M_MAX_ROWS),
        ("rows", M_ROWS),
        ("chain", M_CHAIN),
        ("bytes", M_BYTES),
        ("flags", M_FLAGS),
        ("rewind", M_REWIND),
    ];
    assert_eq!(pairs(m, ":", "", ""), map(&slots));
    let consts = pairs(BATCH_TS, "=", "", "");
    assert_eq!(consts.get("export const META"), Some(&META));
    for (name, flag) in [("FULL_ROWS", FULL_ROWS), ("FULL_CHAIN", FULL_CHAIN), ("FULL_BYTES", FULL_BYTES)] {
        assert_eq!(consts.get(format!("export const {name}").as_str()), Some(&(flag as usize)), "{name}");
    }
    // Columns: `this.ip = u64(0)` … and `this.type = u32(0)` …, the same names and order both ways.
    let u64s = [("ip", C_IP), ("time", C_TIME), ("addr", C_ADDR), ("id", C_ID), ("streamId", C_STREAM_ID), ("period", C_PERIOD)];
    let u32s = [
        ("type", C_TYPE),
        ("misc", C_MISC),
        ("pid", C_PID),
        ("tid", C_TID),
        ("cpu", C_CPU),
        ("chainOffset", C_CHAIN_OFFSET),
        ("chainLength", C_CHAIN_LENGTH),
        ("recordOffset", C_RECORD_OFFSET),
        ("recordLength", C_RECORD_LENGTH),
    ];
    assert_eq!(pairs(BATCH_TS, "=", "u64(", ")"), map(&u64s));
    assert_eq!(pairs(BATCH_TS, "=", "u32(", ")"), map(&u32s));
    assert_eq!((u64s.len(), u32s.len()), (U64_COLS, U32_COLS));
    // Offsets of each part, and the columns grow() carries over.
    assert_eq!(line_of("const u64At ="), "const u64At = META * 4");
    assert_eq!(line_of("const u32At ="), format!("const u32At = u64At + 8 * ({U64_COLS} * rows + chain)"));
    assert_eq!(line_of("const bytesAt ="), format!("const bytesAt = u32At + 4 * {U32_COLS} * rows"));
    assert_eq!(
        line_of("this.chainIps ="),
        format!("this.chainIps = new BigUint64Array(this.buffer, u64At + 8 * {U64_COLS} * rows, chain)")
    );
    let grown = line_of("for (const k of ['ip'");
    let grown: Vec<&str> = grown.split('\'').skip(1).step_by(2).collect();
    let mut all: Vec<&str> = u64s.iter().chain(u32s.iter()).map(|c| c.0).collect();
    all.sort_unstable();
    let mut grown_sorted = grown.clone();
    grown_sorted.sort_unstable();
    assert_eq!(grown_sorted, all, "grow() copies every column");
}

#[test]
fn a_torn_header_stops_the_fill() {
    let ring = test_ring(0);
    let mut bad = sample(1, &[]);
    bad[6..8].copy_from_slice(&4u16.to_ne_bytes()); // size 4: smaller than a header
    write(&ring, 0, &[sample(0, &[]), bad]);
    let mut b = Batch::new(4, 4, 1024);
    assert_eq!(b.fill(&ring, ST), 1);
    assert_eq!(ring.tail_value(), sample(0, &[]).len() as u64);
}

/// Some CPU time of this thread, in user space.
fn spin(n: u64) -> u64 {
    let mut x = 0u64;
    for i in 0..n {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    x
}

#[test]
fn every_record_this_thread_makes_matches_the_crates_parser_through_a_wrapping_ring() {
    // task-clock of this thread, user space only (opens at perf_event_paranoid 2), a sample every
    // 20 µs of CPU with a call chain and every column's field, and the side-band records a thread
    // causes: comm (renaming itself), mmap (an executable mapping), fork (a new thread), switch.
    let opts = Opts {
        exclude: Priv { kernel: true, hv: true, ..Default::default() },
        sample_on: SampleOn::Count(20_000),
        sample_format: SampleFormat {
            period: true,
            code_addr: true,
            call_chain: Some(CallChain { exclude_user: false, exclude_kernel: true, defer_user: false, max_stack_frames: 0 }),
            ..Default::default()
        },
        record_id_all: true,
        record_id_format: RecordIdFormat { id: true, stream_id: true, cpu: true, task: true, time: true },
        extra_record: ExtraRecord {
            comm: true,
            task: true,
            ctx_switch: true,
            mmap: Mmap { code: true, ..Default::default() },
            ..Default::default()
        },
        ..Default::default()
    };
    let counter = Counter::new(Software::TaskClock, (Proc::CURRENT, Cpu::ALL), &opts).expect("perf_event_open of task-clock:u");
    let parser = counter.sampler(0).expect("the crate's sampler").parser().clone();
    // Two data pages: the thread writes far more than that between fills, so the ring wraps.
    let ring = Ring::map(counter.file().as_raw_fd(), 1, PAGE).expect("mmap");
    counter.enable().unwrap();
    let mut b = Batch::new(256, 8192, 64 * 1024);
    let mut seen = std::collections::BTreeMap::<u32, usize>::new();
    let (mut copied, mut wrapped) = (0usize, 0usize);
    for round in 0..40 {
        let name = std::ffi::CString::new(format!("fill-test-{}", round % 3)).unwrap();
        // SAFETY: PR_SET_NAME with a NUL-terminated string.
        unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
        // SAFETY: a fresh anonymous executable mapping, unmapped at once.
        unsafe {
            let m =
                libc::mmap(std::ptr::null_mut(), PAGE, libc::PROT_READ | libc::PROT_EXEC, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
            assert_ne!(m, libc::MAP_FAILED);
            libc::munmap(m, PAGE);
        }
        std::thread::spawn(|| spin(1000)).join().unwrap();
        std::thread::sleep(std::time::Duration::from_micros(200));
        spin(200_000);
        let before = ring.tail_value();
        b.meta()[M_ROWS] = 0;
        b.meta()[M_CHAIN] = 0;
        b.meta()[M_BYTES] = 0;
        let rows = b.fill(&ring, parser.sample_type) as usize;
        assert_eq!(b.meta()[M_FLAGS], 0, "the batch holds a whole ring");
        for row in 0..rows {
            let bytes = b.bytes(row);
            let at = before + b.u32_col(7, row) as u64;
            if (at & (ring.size - 1)) + bytes.len() as u64 > ring.size {
                wrapped += 1;
            }
            let ty = b.u32_col(0, row);
            *seen.entry(ty).or_default() += 1;
            let mut aligned = vec![0u64; bytes.len().div_ceil(8)];
            // SAFETY: the Vec<u64> holds at least as many bytes.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), aligned.as_mut_ptr().cast::<u8>(), bytes.len()) };
            // SAFETY: one whole record of this counter, 8-byte aligned.
            let (_, rec, size) = unsafe { parser.parse(std::slice::from_raw_parts(aligned.as_ptr().cast::<u8>(), bytes.len())) };
            assert_eq!(size, bytes.len(), "row {row}: the parser reads the whole record");
            assert_eq!(b.u32_col(1, row), u16::from_ne_bytes(bytes[4..6].try_into().unwrap()) as u32, "misc");
            if let Record::Sample(s) = rec {
                assert_eq!(ty, 9);
                let id = &s.record_id;
                assert_eq!(Some(b.u64_col(0, row)), s.code_addr.map(|c| c.0), "ip");
                assert_eq!(Some(b.u64_col(1, row)), id.time, "time");
                assert_eq!(Some(b.u64_col(3, row)), id.id, "id");
                assert_eq!(Some(b.u64_col(4, row)), id.stream_id, "stream id");
                assert_eq!(Some(b.u64_col(5, row)), s.period, "period");
                assert_eq!(Some(b.u32_col(4, row)), id.cpu, "cpu");
                let task = id.task.as_ref().unwrap();
                assert_eq!((b.u32_col(2, row), b.u32_col(3, row)), (task.pid, task.tid), "pid, tid");
                // The chain column holds the kernel's words: context markers, then addresses.
                let words: Vec<u64> = b.chain(row).into_iter().filter(|&a| a < 0xffff_ffff_ffff_f000).collect();
                let ips: Vec<u64> =
                    s.call_chain.unwrap().into_iter().flat_map(|c| if let Chain::User(v) = c { v } else { vec![] }).collect();
                assert_eq!(words, ips, "call chain");
                assert!(!ips.is_empty());
            } else {
                assert_ne!(ty, 9);
                assert_eq!(
                    [b.u64_col(0, row), b.u64_col(5, row), b.u32_col(6, row) as u64],
                    [0, 0, 0],
                    "row {row}: columns of a non-sample stay 0"
                );
            }
        }
        copied += b.meta()[M_BYTES] as usize;
        assert_eq!(ring.tail_value(), before + b.meta()[M_BYTES] as u64, "the tail moved past the copied records");
    }
    drop(ring);
    eprintln!("records by type: {seen:?}; {copied} bytes through a {}-byte ring, {wrapped} records wrapped", 2 * PAGE);
    // sample, comm, fork, switch, and mmap (or mmap2) records all went through fill().
    for ty in [9, 3, 7, 14] {
        assert!(seen.get(&ty).copied().unwrap_or(0) > 0, "no record of type {ty}: {seen:?}");
    }
    assert!(seen.contains_key(&1) || seen.contains_key(&10), "no mmap record: {seen:?}");
    assert!(copied > 4 * 2 * PAGE, "the ring went round several times");
    assert!(wrapped > 0, "some records wrapped at the ring's end");
}
