//! Columnar sample batches: records copied out of the ring by our own reader
//! into typed-array columns that JS registered once per sampler.
//!
//! `Ring` is the sampler's only mapping of the perf fd (see src/sampler.rs
//! for why there is never a second one). `fill()` snapshots `data_head`
//! (acquire) once, walks from `data_tail` with masked reads (a record that
//! wraps at the ring's end is copied in two parts), stores each record's bytes
//! in the byte area, decodes the fixed sample fields into columns, and stores
//! `data_tail` (release). One call copies at most what was in the ring when it
//! started. Everything lives in one ArrayBuffer (lib/batch.ts lays it out); its
//! memory is looked up again, and its size checked, before every use, so a
//! detached buffer gives an error instead of a write into freed memory.

use std::sync::atomic::{AtomicU64, Ordering};

use napi::{sys, Env};
use perf_event_open::sample::record::{Parser, Priv, Record};

use crate::error::{invalid, Result};
use crate::record::{to_js, NativeRecord};

/// u32 slots at the start of the batch buffer (see lib/batch.ts `META`).
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
/// u64 columns per row: ip, time, addr, id, streamId, period.
const U64_COLS: usize = 6;
/// u32 columns per row: type, misc, pid, tid, cpu, chainOffset, chainLength, recordOffset, recordLength.
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
        let base = base.cast::<u8>();
        // data_offset / data_size (Linux 4.1+); zero before that: the area follows the first page.
        // SAFETY: inside the metadata page.
        let (off, size) = unsafe { (*(base.add(1040) as *const u64), *(base.add(1048) as *const u64)) };
        let (off, size) = if size == 0 { (page as u64, (len - page) as u64) } else { (off, size) };
        // SAFETY: within the mapping.
        Ok(Ring { base, len, data: unsafe { base.add(off as usize) }, size })
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
        if ptr.is_null() || len < META * 4 || !(ptr as usize).is_multiple_of(8) {
            return Err(invalid("the batch buffer was detached (its ArrayBuffer transferred)"));
        }
        // SAFETY: at least META u32 slots, checked above.
        let meta = unsafe { std::slice::from_raw_parts_mut(ptr.cast::<u32>(), META) };
        let (n, c, b) = (meta[M_ROWS_CAP] as usize, meta[M_CHAIN_CAP] as usize, meta[M_BYTES_CAP] as usize);
        if !n.is_multiple_of(2) {
            return Err(invalid("the batch row capacity must be even (8-byte aligned byte area)"));
        }
        let u64_at = META * 4;
        let u32_at = u64_at + 8 * (U64_COLS * n + c);
        let bytes_at = u32_at + 4 * U32_COLS * n;
        if bytes_at + b > len {
            return Err(invalid("the batch buffer is smaller than its layout"));
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
    let st = parser.sample_type;
    let rf = parser.read_format;
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
                cols[3] = rd64(b, &mut at).unwrap_or(0); // IDENTIFIER
            }
            if bit(0) {
                cols[0] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(1) {
                (pid, tid) = r32(&mut at);
            }
            if bit(2) {
                cols[1] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(3) {
                cols[2] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(6) {
                cols[3] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(9) {
                cols[4] = rd64(b, &mut at).unwrap_or(0);
            }
            if bit(7) {
                cpu = r32(&mut at).0;
            }
            if bit(8) {
                cols[5] = rd64(b, &mut at).unwrap_or(0);
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
            let u32v = [ty, misc as u32, pid, tid, cpu, ch_off, ch_len, used as u32, size as u32];
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
    Ok(row as u32)
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
        let (off, len) = (u32s[7 * n + i] as usize, u32s[8 * n + i] as usize);
        let rec = bytes.get(off..off + len).ok_or_else(|| invalid("batch row outside the byte area"))?;
        // SAFETY: `rec` is one whole record as the kernel wrote it, for this parser's attr, and
        // 8-byte aligned (the byte area starts aligned and records are multiples of 8 bytes).
        let (p, r, _) = unsafe { parser.parse(rec) };
        out.push(to_js(&p, r));
    }
    Ok(out)
}
