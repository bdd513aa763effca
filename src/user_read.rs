//! Counter reads without a system call: the `perf_event_mmap_page` self-monitoring protocol.
//!
//! A hardware counter of the calling thread whose first page is mapped can be read in user space
//! while it sits on a PMU counter of this CPU: the page gives the counter's `index` (0: not readable
//! now), the `offset` to add, the counter's width, and the clock conversion (`time_mult`,
//! `time_shift`, `time_offset`, …) that brings `time_enabled`/`time_running` up to now; a seqcount
//! (`lock`) says whether the kernel rewrote the page meanwhile. The kernel allows it on x86-64 when
//! `/sys/bus/event_source/devices/cpu/rdpmc` is not 0 (`rdpmc`), and on arm64 (Linux 5.17+) when
//! `kernel.perf_user_access` is 1 and the event asks for it (`config1` bit 1): then `mrs` of
//! `PMEVCNTR<n>_EL0`/`PMCCNTR_EL0`. Whenever the page says no (the counter is disabled, scheduled out,
//! multiplexed away, or the kernel gives no user time), the caller falls back to `read(2)`.

use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::atomic::{compiler_fence, fence, Ordering};

/// `config1` bit of the arm64 PMU that asks for user access (`rdpmc` in its sysfs format).
pub const ARM64_RDPMC_CONFIG1: u64 = 1 << 1;

// Offsets in struct perf_event_mmap_page (include/uapi/linux/perf_event.h; a stable ABI).
const LOCK: usize = 8;
const INDEX: usize = 12;
const OFFSET: usize = 16;
const TIME_ENABLED: usize = 24;
const TIME_RUNNING: usize = 32;
const CAPABILITIES: usize = 40;
const PMC_WIDTH: usize = 48;
const TIME_SHIFT: usize = 50;
const TIME_MULT: usize = 52;
const TIME_OFFSET: usize = 56;
const TIME_CYCLES: usize = 80;
const TIME_MASK: usize = 88;
// Bits of `capabilities`.
const CAP_USER_RDPMC: u64 = 1 << 2;
const CAP_USER_TIME: u64 = 1 << 3;
const CAP_USER_TIME_SHORT: u64 = 1 << 5;

fn sysfs_number(path: &str) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether the kernel lets a thread read its own hardware counters in user space (checked at each
/// open: both settings can change at run time).
pub fn allowed() -> bool {
    if cfg!(target_arch = "aarch64") {
        sysfs_number("/proc/sys/kernel/perf_user_access") == Some(1)
    } else if cfg!(target_arch = "x86_64") {
        sysfs_number("/sys/bus/event_source/devices/cpu/rdpmc").is_some_and(|v| v != 0)
    } else {
        false
    }
}

/// The first page of a perf event fd, mapped read-only for self-monitoring. One mapping per fd:
/// the sampler's ring replaces it (mapping one perf fd twice leaks locked memory, NOTES.md).
pub struct UserPage {
    base: NonNull<u8>,
    len: usize,
}

impl UserPage {
    /// Maps the page, or None (the caller then reads with `read(2)`): a failed mmap, e.g. the
    /// user's perf_event_mlock_kb budget used up, is not an error.
    pub fn map(fd: RawFd) -> Option<Self> {
        // SAFETY: sysconf has no preconditions.
        let len = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: a fresh shared read-only mapping of the fd's first page; unmapped in Drop.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, fd, 0) };
        if p == libc::MAP_FAILED {
            return None;
        }
        Some(Self { base: NonNull::new(p.cast())?, len })
    }

    fn u64_at(&self, off: usize) -> u64 {
        // SAFETY: `off` + 8 lies inside the mapped page (offsets above); the kernel writes these
        // fields concurrently, hence volatile reads inside the seqcount loop.
        unsafe { self.base.as_ptr().add(off).cast::<u64>().read_volatile() }
    }

    fn u32_at(&self, off: usize) -> u32 {
        // SAFETY: as u64_at.
        unsafe { self.base.as_ptr().add(off).cast::<u32>().read_volatile() }
    }

    fn u16_at(&self, off: usize) -> u16 {
        // SAFETY: as u64_at.
        unsafe { self.base.as_ptr().add(off).cast::<u16>().read_volatile() }
    }

    /// The count, time enabled and time running (ns) now, or None when the counter cannot be read
    /// here now (then `read(2)` gives the same values).
    pub fn read(&self) -> Option<[u64; 3]> {
        loop {
            let seq = self.u32_at(LOCK);
            fence(Ordering::Acquire);
            compiler_fence(Ordering::SeqCst);
            let caps = self.u64_at(CAPABILITIES);
            let index = self.u32_at(INDEX);
            if index == 0 || caps & CAP_USER_RDPMC == 0 || caps & CAP_USER_TIME == 0 {
                return None;
            }
            let mut enabled = self.u64_at(TIME_ENABLED);
            let mut running = self.u64_at(TIME_RUNNING);
            let width = u32::from(self.u16_at(PMC_WIDTH));
            let offset = self.u64_at(OFFSET);
            let (shift, mult, time_offset) =
                (u32::from(self.u16_at(TIME_SHIFT)), u64::from(self.u32_at(TIME_MULT)), self.u64_at(TIME_OFFSET));
            let (time_cycles, time_mask) = (self.u64_at(TIME_CYCLES), self.u64_at(TIME_MASK));
            let pmc = read_pmc(index - 1)?;
            let mut cyc = timestamp()?;
            compiler_fence(Ordering::SeqCst);
            fence(Ordering::Acquire);
            if self.u32_at(LOCK) != seq {
                continue;
            }
            if !(1..=64).contains(&width) || shift >= 64 {
                return None;
            }
            // Sign-extend the counter from its width: the offset was taken against its start value.
            let value = offset.wrapping_add(((pmc << (64 - width)) as i64 >> (64 - width)) as u64);
            if caps & CAP_USER_TIME_SHORT != 0 {
                cyc = time_cycles.wrapping_add(cyc.wrapping_sub(time_cycles) & time_mask);
            }
            let quot = cyc >> shift;
            let rem = cyc & ((1u64 << shift) - 1);
            let delta = time_offset.wrapping_add(quot.wrapping_mul(mult)).wrapping_add(rem.wrapping_mul(mult) >> shift);
            enabled = enabled.wrapping_add(delta);
            running = running.wrapping_add(delta);
            return Some([value, enabled, running]);
        }
    }
}

impl Drop for UserPage {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

/// The hardware counter `counter` (the page's `index` - 1) of this CPU.
#[cfg(target_arch = "aarch64")]
fn read_pmc(counter: u32) -> Option<u64> {
    macro_rules! pmevcntr {
        ($($n:literal)*) => {
            match counter {
                $($n => {
                    let v: u64;
                    // SAFETY: EL0 reads of the event counters are enabled by the kernel for this task (PMUSERENR_EL0.ER).
                    unsafe { core::arch::asm!(concat!("mrs {}, pmevcntr", $n, "_el0"), out(reg) v, options(nomem, nostack)) };
                    Some(v)
                })*
                31 => {
                    let v: u64;
                    // SAFETY: as above (PMUSERENR_EL0.CR): the cycle counter, index 32 in the page.
                    unsafe { core::arch::asm!("mrs {}, pmccntr_el0", out(reg) v, options(nomem, nostack)) };
                    Some(v)
                }
                _ => None,
            }
        };
    }
    pmevcntr!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30)
}

#[cfg(target_arch = "x86_64")]
fn read_pmc(counter: u32) -> Option<u64> {
    let (lo, hi): (u32, u32);
    // SAFETY: the kernel allows rdpmc for this mm (cap_user_rdpmc was set); `counter` is the one it gave.
    unsafe { core::arch::asm!("rdpmc", in("ecx") counter, out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    Some(u64::from(hi) << 32 | u64::from(lo))
}

#[cfg(not(any(target_arch = "aarch64", target_arch = "x86_64")))]
fn read_pmc(_: u32) -> Option<u64> {
    None
}

/// The clock the page's time conversion is for: the virtual counter on arm64, the TSC on x86-64.
#[cfg(target_arch = "aarch64")]
fn timestamp() -> Option<u64> {
    let v: u64;
    // SAFETY: CNTVCT_EL0 is readable at EL0 on Linux.
    unsafe { core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack)) };
    Some(v)
}

#[cfg(target_arch = "x86_64")]
fn timestamp() -> Option<u64> {
    // SAFETY: rdtsc has no preconditions.
    Some(unsafe { core::arch::x86_64::_rdtsc() })
}

#[cfg(not(any(target_arch = "aarch64", target_arch = "x86_64")))]
fn timestamp() -> Option<u64> {
    None
}
