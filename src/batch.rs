//! Columnar sample batches: records copied out of the ring by our own reader
//! into typed-array columns that JS registered once per sampler.
//!
//! `Ring` is the sampler's only mapping of the perf fd (see src/sampler.rs
//! for why there is never a second one). `fill()` snapshots `data_head`
//! (acquire) once, walks from `data_tail` with masked reads (a record that
//! wraps at the ring's end is copied in two parts), stores each record's bytes
//! in the byte area, decodes the fixed sample fields into columns, and stores
//! `data_tail` (release). One call copies at most what was in the ring when it
//! started. Everything lives in one ArrayBuffer (lib/handles/batch.ts lays it out); its
//! memory is looked up again, and its size checked, before every use, so a
//! detached buffer gives an error instead of a write into freed memory.

use std::sync::atomic::{AtomicU64, Ordering};

use napi::{sys, Env};
use perf_event_open::sample::record::{Parser, Priv, Record};

use crate::error::{invalid, Result};
use crate::record::{to_js, NativeRecord};

/// u32 slots at the start of the batch buffer (see lib/handles/batch.ts `META`).
pub const META: usize = 16;
const M_ROWS_CAP: usize = 0;
const M_CHAIN_CAP: usize = 1;
const M_BYTES_CAP: usize = 2;
const M_MAX_ROWS: usize = 3;
const M_ROWS: usize = 4;
const M_CHAIN: usize = 5;
const M_BYTES: usize = 6;
const M_FLAGS: usize = 7;
const M_REWIND: usize = 8;
const FULL_ROWS: u32 = 1;
const FULL_CHAIN: u32 = 2;
const FULL_BYTES: u32 = 4;
/// u64 columns (`rows` each, in this order; lib/handles/batch.ts `Columns` names them the same).
const C_IP: usize = 0;
const C_TIME: usize = 1;
const C_ADDR: usize = 2;
const C_ID: usize = 3;
const C_STREAM_ID: usize = 4;
const C_PERIOD: usize = 5;
const U64_COLS: usize = 6;
/// u32 columns (`rows` each, in this order).
const C_TYPE: usize = 0;
const C_MISC: usize = 1;
const C_PID: usize = 2;
const C_TID: usize = 3;
const C_CPU: usize = 4;
const C_CHAIN_OFFSET: usize = 5;
const C_CHAIN_LENGTH: usize = 6;
const C_RECORD_OFFSET: usize = 7;
const C_RECORD_LENGTH: usize = 8;
const U32_COLS: usize = 9;

/// Our own mapping of the ring (metadata page + data area).
pub struct Ring {
    base: *mut u8,
    len: usize,
    data: *mut u8,
    size: u64,
}

impl Ring {
    pub fn map(fd: i32, exp: u32, page: usize) -> std::io::Result<Ring> {
        let len = page * (1 + (1usize << exp));
        // SAFETY: a shared mapping of a perf fd, with the size the crate's own mapping has.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0) };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Ring::from_mapping(base.cast::<u8>(), len, page))
    }

    /// The ring in a mapping of `len` bytes at `base` (metadata page first), unmapped on drop.
    fn from_mapping(base: *mut u8, len: usize, page: usize) -> Ring {
        // data_offset / data_size (Linux 4.1+); zero before that: the area follows the first page.
        // SAFETY: inside the metadata page.
        let (off, size) = unsafe { (*(base.add(1040) as *const u64), *(base.add(1048) as *const u64)) };
        let (off, size) = if size == 0 { (page as u64, (len - page) as u64) } else { (off, size) };
        // SAFETY: within the mapping.
        Ring { base, len, data: unsafe { base.add(off as usize) }, size }
    }

    pub fn tail_value(&self) -> u64 {
        self.tail().load(Ordering::Acquire)
    }

    pub fn set_tail(&self, v: u64) {
        self.tail().store(v, Ordering::Release)
    }

    fn head(&self) -> &AtomicU64 {
        // SAFETY: data_head of the metadata page, 8-byte aligned.
        unsafe { AtomicU64::from_ptr(self.base.add(1024).cast()) }
    }

    fn tail(&self) -> &AtomicU64 {
        // SAFETY: data_tail of the metadata page, 8-byte aligned.
        unsafe { AtomicU64::from_ptr(self.base.add(1032).cast()) }
    }

    /// `(time_enabled, time_running)` from the metadata page, read under its seqlock
    /// (`lock`, offset 8; the times at offsets 24 and 32), as the crate's `Sampler` does.
    pub fn counter_time(&self) -> (u64, u64) {
        // SAFETY: fields of the metadata page, naturally aligned.
        let (lock, enabled, running) = unsafe {
            (
                std::sync::atomic::AtomicU32::from_ptr(self.base.add(8).cast()),
                AtomicU64::from_ptr(self.base.add(24).cast()),
                AtomicU64::from_ptr(self.base.add(32).cast()),
            )
        };
        loop {
            let seq = lock.load(Ordering::Acquire);
            if seq & 1 == 0 {
                let v = (enabled.load(Ordering::Relaxed), running.load(Ordering::Relaxed));
                std::sync::atomic::fence(Ordering::Acquire);
                if lock.load(Ordering::Relaxed) == seq {
                    return v;
                }
            }
            std::hint::spin_loop();
        }
    }

    /// Parses up to `max` pending records with the crate's `Parser::parse`, advancing the
    /// tail past each one: in place when contiguous, from an 8-byte aligned copy when a
    /// record wraps at the ring's end. Returns the number parsed.
    pub fn parse_each(&self, parser: &Parser, max: usize, mut f: impl FnMut(Priv, Record)) -> usize {
        let head = self.head().load(Ordering::Acquire);
        let mut tail = self.tail().load(Ordering::Relaxed);
        let mut scratch: Vec<u64> = Vec::new();
        let mut n = 0;
        while tail < head && n < max {
            let at = (tail & (self.size - 1)) as usize;
            // SAFETY: a record header: 8-byte aligned inside the data area (records never split one).
            let hdr = unsafe { std::ptr::read_volatile(self.data.add(at) as *const u64) };
            let size = (hdr >> 48) as usize;
            if size < 8 || tail + size as u64 > head {
                break; // never written by a sane kernel
            }
            let (p, r, _) = if at + size <= self.size as usize {
                // SAFETY: one whole record inside the data area, 8-byte aligned, written for this
                // parser's attr; the kernel does not overwrite it before the tail moves past it.
                unsafe { parser.parse(std::slice::from_raw_parts(self.data.add(at), size)) }
            } else {
                scratch.clear();
                scratch.resize(size.div_ceil(8), 0);
                // SAFETY: the Vec<u64> holds at least `size` bytes.
                let buf = unsafe { std::slice::from_raw_parts_mut(scratch.as_mut_ptr().cast::<u8>(), size) };
                self.copy(tail, buf);
                // SAFETY: as above, from the aligned copy.
                unsafe { parser.parse(&*buf) }
            };
            f(p, r);
            tail += size as u64;
            self.tail().store(tail, Ordering::Release);
            n += 1;
        }
        n
    }

    /// Copies `out.len()` bytes starting at ring position `pos` (masked), in two parts across the end.
    #[inline]
    fn copy(&self, pos: u64, out: &mut [u8]) {
        let at = (pos & (self.size - 1)) as usize;
        let first = out.len().min(self.size as usize - at);
        // SAFETY: both ranges lie inside the data area.
        unsafe {
            std::ptr::copy_nonoverlapping(self.data.add(at), out.as_mut_ptr(), first);
            if first < out.len() {
                std::ptr::copy_nonoverlapping(self.data, out.as_mut_ptr().add(first), out.len() - first);
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: our own mapping.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// The registered ArrayBuffer: a strong reference in its env.
pub struct BatchBuffer {
    env: sys::napi_env,
    r: sys::napi_ref,
}

impl BatchBuffer {
    pub fn new(env: &Env, value: sys::napi_value) -> Result<Self> {
        let mut r = std::ptr::null_mut();
        // SAFETY: `value` is a live value of `env`.
        if unsafe { sys::napi_create_reference(env.raw(), value, 1, &mut r) } != sys::Status::napi_ok {
            return Err(invalid("could not reference the batch buffer"));
        }
        let b = BatchBuffer { env: env.raw(), r };
        b.memory(env)?;
        Ok(b)
    }

    /// The buffer's memory, checked: attached, of this env, and large enough for its own layout.
    fn memory(&self, env: &Env) -> Result<Layout> {
        if env.raw() != self.env {
            return Err(invalid("the batch buffer belongs to another thread"));
        }
        // SAFETY: the reference is strong and belongs to this env.
        let (ptr, len) = unsafe {
            let mut value = std::ptr::null_mut();
            if sys::napi_get_reference_value(self.env, self.r, &mut value) != sys::Status::napi_ok || value.is_null() {
                return Err(invalid("the batch buffer is gone"));
            }
            let mut data = std::ptr::null_mut();
            let mut len = 0usize;
            if sys::napi_get_arraybuffer_info(self.env, value, &mut data, &mut len) != sys::Status::napi_ok {
                return Err(invalid("Expected an ArrayBuffer for the batch buffer"));
            }
            (data.cast::<u8>(), len)
        };
        Layout::check(ptr, len).map_err(invalid)
    }
}

impl Layout {
    /// The layout of `len` bytes at `ptr` as its meta slots describe it, checked: present, 8-byte
    /// aligned, an even row capacity, and large enough. (A plain error: no napi value is made here,
    /// so `cargo test` runs it outside Node.)
    fn check(ptr: *mut u8, len: usize) -> std::result::Result<Layout, &'static str> {
        if ptr.is_null() || len < META * 4 || !(ptr as usize).is_multiple_of(8) {
            return Err("the batch buffer was detached (its ArrayBuffer transferred)");
        }
        // SAFETY: at least META u32 slots, checked above.
        let meta = unsafe { std::slice::from_raw_parts_mut(ptr.cast::<u32>(), META) };
        let (n, c, b) = (meta[M_ROWS_CAP] as usize, meta[M_CHAIN_CAP] as usize, meta[M_BYTES_CAP] as usize);
        if !n.is_multiple_of(2) {
            return Err("the batch row capacity must be even (8-byte aligned byte area)");
        }
        let u64_at = META * 4;
        let u32_at = u64_at + 8 * (U64_COLS * n + c);
        let bytes_at = u32_at + 4 * U32_COLS * n;
        if bytes_at + b > len {
            return Err("the batch buffer is smaller than its layout");
        }
        Ok(Layout { ptr, n, c, b, u64_at, u32_at, bytes_at })
    }
}

impl Drop for BatchBuffer {
    fn drop(&mut self) {
        // Only while our env is alive: env teardown drops the samplers from its cleanup hook,
        // where deleting a reference is still allowed.
        // SAFETY: the reference belongs to `env`.
        unsafe { sys::napi_delete_reference(self.env, self.r) };
    }
}

struct Layout {
    ptr: *mut u8,
    n: usize,
    c: usize,
    b: usize,
    u64_at: usize,
    u32_at: usize,
    bytes_at: usize,
}

impl Layout {
    /// Meta slots, u64 columns (+ chain addresses), u32 columns and the byte area: disjoint parts
    /// of the checked buffer.
    fn parts(&mut self) -> (&mut [u32], &mut [u64], &mut [u32], &mut [u8]) {
        // SAFETY: checked by `memory()`; the four ranges do not overlap; the u64 part is 8-byte
        // aligned (META * 4 = 64 bytes from an aligned start).
        unsafe {
            (
                std::slice::from_raw_parts_mut(self.ptr.cast::<u32>(), META),
                std::slice::from_raw_parts_mut(self.ptr.add(self.u64_at).cast::<u64>(), U64_COLS * self.n + self.c),
                std::slice::from_raw_parts_mut(self.ptr.add(self.u32_at).cast::<u32>(), U32_COLS * self.n),
                std::slice::from_raw_parts_mut(self.ptr.add(self.bytes_at), self.b),
            )
        }
    }
}

#[inline]
fn rd64(b: &[u8], at: &mut usize) -> Option<u64> {
    let v = u64::from_ne_bytes(b.get(*at..*at + 8)?.try_into().ok()?);
    *at += 8;
    Some(v)
}

/// Fills the columns from the ring; returns the number of rows now in the batch.
pub fn fill(env: &Env, buf: &BatchBuffer, ring: &Ring, parser: &Parser) -> Result<u32> {
    let mut l = buf.memory(env)?;
    Ok(fill_layout(&mut l, ring, parser.sample_type, parser.read_format))
}

/// `fill()` on a checked layout, for records of a counter with these `sample_type` and `read_format` bits.
fn fill_layout(l: &mut Layout, ring: &Ring, st: u64, rf: u64) -> u32 {
    let (n, c_cap, b_cap) = (l.n, l.c, l.b);
    let (meta, u64s, u32s, bytes) = l.parts();
    let max_rows = (meta[M_MAX_ROWS] as usize).min(n);
    let mut row = meta[M_ROWS] as usize;
    let mut chain = meta[M_CHAIN] as usize;
    let mut used = meta[M_BYTES] as usize;
    let rewind = meta[M_REWIND] != 0;
    let mut flags = 0;
    let head = ring.head().load(Ordering::Acquire);
    let start = ring.tail().load(Ordering::Relaxed);
    let mut tail = start;
    while tail < head {
        if row >= max_rows {
            if row >= n {
                flags |= FULL_ROWS;
            }
            break;
        }
        // Records are 8-byte aligned and sized, so a header never wraps.
        // SAFETY: inside the data area (masked), 8-byte aligned.
        let hdr = unsafe { std::ptr::read_volatile(ring.data.add((tail & (ring.size - 1)) as usize) as *const u64) };
        let ty = hdr as u32;
        let misc = (hdr >> 32) as u16;
        let size = (hdr >> 48) as usize;
        if size < 8 || tail + size as u64 > head {
            break; // never written by a sane kernel; stop rather than read garbage
        }
        if used + size > b_cap {
            flags |= FULL_BYTES;
            break;
        }
        let rec = &mut bytes[used..used + size];
        ring.copy(tail, rec);
        let mut cols = [0u64; U64_COLS];
        let (mut pid, mut tid, mut cpu) = (0u32, 0u32, 0u32);
        let ch_off = chain as u32;
        let mut ch_len = 0u32;
        if ty == 9 {
            let b: &[u8] = rec;
            let mut at = 8;
            let bit = |n: u32| st & (1 << n) != 0;
            let r32 = |at: &mut usize| -> (u32, u32) {
                let v = rd64(b, at).unwrap_or(0);
                (v as u32, (v >> 32) as u32)
            };
            if bit(16) {
                cols[C_ID] = rd64(b, &mut at).unwrap_or(0); // IDENTIFIER
            }
            if bit(0) {
                cols[C_IP] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(1) {
                (pid, tid) = r32(&mut at);
            }
            if bit(2) {
                cols[C_TIME] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(3) {
                cols[C_ADDR] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(6) {
                cols[C_ID] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(9) {
                cols[C_STREAM_ID] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(7) {
                cpu = r32(&mut at).0;
            }
            if bit(8) {
                cols[C_PERIOD] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(4) {
                let k = |m: u64| (rf & m != 0) as usize;
                if rf & 8 != 0 {
                    let nr = rd64(b, &mut at).unwrap_or(0) as usize;
                    at += 8 * (k(1) + k(2)) + nr * 8 * (1 + k(4) + k(16));
                } else {
                    at += 8 * (1 + k(1) + k(2) + k(4) + k(16));
                }
            }
            if bit(5) {
                let nr = rd64(b, &mut at).unwrap_or(0) as usize;
                if chain + nr > c_cap {
                    flags |= FULL_CHAIN;
                    break;
                }
                for _ in 0..nr {
                    u64s[U64_COLS * n + chain] = rd64(b, &mut at).unwrap_or(0);
                    chain += 1;
                }
                ch_len = nr as u32;
            }
        }
        // SAFETY: row < n (checked at the top of the loop); the slices hold U64_COLS * n and U32_COLS * n.
        unsafe {
            for (k, v) in cols.iter().enumerate() {
                *u64s.get_unchecked_mut(k * n + row) = *v;
            }
            let mut u32v = [0u32; U32_COLS];
            (u32v[C_TYPE], u32v[C_MISC], u32v[C_PID], u32v[C_TID], u32v[C_CPU]) = (ty, misc as u32, pid, tid, cpu);
            (u32v[C_CHAIN_OFFSET], u32v[C_CHAIN_LENGTH], u32v[C_RECORD_OFFSET], u32v[C_RECORD_LENGTH]) =
                (ch_off, ch_len, used as u32, size as u32);
            for (k, v) in u32v.iter().enumerate() {
                *u32s.get_unchecked_mut(k * n + row) = *v;
            }
        }
        used += size;
        row += 1;
        tail += size as u64;
    }
    if !rewind {
        ring.tail().store(tail, Ordering::Release);
    }
    meta[M_ROWS] = row as u32;
    meta[M_CHAIN] = chain as u32;
    meta[M_BYTES] = used as u32;
    meta[M_FLAGS] = flags;
    row as u32
}

/// Today's record objects for rows `from..to` of the batch, from the copied bytes.
pub fn decode(env: &Env, buf: &BatchBuffer, parser: &Parser, from: u32, to: u32) -> Result<Vec<NativeRecord>> {
    let mut l = buf.memory(env)?;
    let n = l.n;
    let (meta, _, u32s, bytes) = l.parts();
    let rows = meta[M_ROWS].min(n as u32);
    let (from, to) = (from.min(rows) as usize, to.min(rows) as usize);
    let mut out = Vec::with_capacity(to.saturating_sub(from));
    for i in from..to {
        let (off, len) = (u32s[C_RECORD_OFFSET * n + i] as usize, u32s[C_RECORD_LENGTH * n + i] as usize);
        let rec = bytes.get(off..off + len).ok_or_else(|| invalid("batch row outside the byte area"))?;
        // SAFETY: `rec` is one whole record as the kernel wrote it, for this parser's attr, and
        // 8-byte aligned (the byte area starts aligned and records are multiples of 8 bytes).
        let (p, r, _) = unsafe { parser.parse(rec) };
        out.push(to_js(&p, r));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! `fill()` on rings written by hand (wrap-around at the ring's end, full columns and what a
    //! larger batch picks up, rewind) and on a ring the kernel wrote (every record type one thread
    //! produces, read back by the crate's own parser).

    use super::*;
    use perf_event_open::config::{CallChain, Cpu, ExtraRecord, Mmap, Opts, Priv, Proc, RecordIdFormat, SampleFormat, SampleOn};
    use perf_event_open::count::Counter;
    use perf_event_open::event::sw::Software;
    use perf_event_open::sample::record::sample::CallChain as Chain;
    use std::os::fd::AsRawFd;

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
            assert_eq!(
                [b.u32_col(1, row), b.u32_col(2, row), b.u32_col(3, row), b.u32_col(4, row)],
                [2, 100 + k as u32, 200 + k as u32, 3]
            );
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
    const BATCH_TS: &str = include_str!("../lib/handles/batch.ts");

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
                let m = libc::mmap(
                    std::ptr::null_mut(),
                    PAGE,
                    libc::PROT_READ | libc::PROT_EXEC,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
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
}
