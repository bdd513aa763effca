//! The column fill (`fill()`: ring records into the batch's columns and byte area) and
//! `decode()` (rows of the batch back into record objects).

use std::sync::atomic::Ordering;

use napi::Env;
use perf_event_open::sample::record::Parser;

use super::ring::Ring;
use super::*;
use crate::error::{invalid, Result};
use crate::record::{to_js, NativeRecord};

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
pub(super) fn fill_layout(l: &mut Layout, ring: &Ring, st: u64, rf: u64) -> u32 {
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
