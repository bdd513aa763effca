//! `Ring`: the sampler's own mapping of the perf ring (metadata page + data area), its
//! head/tail, the counter times of its metadata page, and the crate-parser walk over it.

use std::sync::atomic::{AtomicU64, Ordering};

use perf_event_open::sample::record::{Parser, Priv, Record};

/// Our own mapping of the ring (metadata page + data area).
pub struct Ring {
    base: *mut u8,
    len: usize,
    pub(super) data: *mut u8,
    pub(super) size: u64,
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
    pub(super) fn from_mapping(base: *mut u8, len: usize, page: usize) -> Ring {
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

    pub(super) fn head(&self) -> &AtomicU64 {
        // SAFETY: data_head of the metadata page, 8-byte aligned.
        unsafe { AtomicU64::from_ptr(self.base.add(1024).cast()) }
    }

    pub(super) fn tail(&self) -> &AtomicU64 {
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
    pub(super) fn copy(&self, pos: u64, out: &mut [u8]) {
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
