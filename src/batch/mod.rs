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

mod fill;
mod ring;
#[cfg(test)]
mod tests;

use napi::{sys, Env};

use crate::error::{invalid, Result};
pub use fill::{decode, fill};
pub use ring::Ring;

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
