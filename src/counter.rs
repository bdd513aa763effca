//! `NativeCounter`: one perf event fd. Internal: the facade's `Counter` wraps it.

use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd};

use napi::bindgen_prelude::{BigInt, BigUint64ArraySlice};
use napi_derive::napi;
use perf_event_open::count::{Counter, Stat};

use crate::error::{closed, invalid, IoContext, Result};
use crate::event::{to_event, KeepAlive, NativeEvent};
use crate::options::{to_opts, with_target, NativeOpts, NativeTarget};

/// Slots of the stat layout that `write_stat` fills and the facade's
/// `readStat` decodes: flags, count, timeEnabled, timeRunning, id, lost,
/// sibling count, then (count, id, lost) per sibling.
pub const STAT_HEADER: usize = 7;
pub const STAT_PER_SIBLING: usize = 3;
const HAS_TIME_ENABLED: u64 = 1;
const HAS_TIME_RUNNING: u64 = 2;
const HAS_ID: u64 = 4;
const HAS_LOST: u64 = 8;

/// Writes a `Stat` into the caller's `BigUint64Array` (no allocation on the JS heap).
pub fn write_stat(stat: &Stat, out: &mut BigUint64ArraySlice) -> Result<u32> {
    let need = STAT_HEADER + STAT_PER_SIBLING * stat.siblings.len();
    // SAFETY: JS is blocked in this synchronous call; nothing else touches the array.
    let out = unsafe { out.as_mut() };
    if out.len() < need {
        return Err(invalid(format!("stat buffer holds {} slots, needs {need}", out.len())));
    }
    let mut flags = 0;
    let mut opt = |v: Option<u64>, bit: u64| {
        v.map_or(0, |v| {
            flags |= bit;
            v
        })
    };
    out[2] = opt(stat.time_enabled, HAS_TIME_ENABLED);
    out[3] = opt(stat.time_running, HAS_TIME_RUNNING);
    out[4] = opt(stat.id, HAS_ID);
    out[5] = opt(stat.lost_records, HAS_LOST);
    out[0] = flags;
    out[1] = stat.count;
    out[6] = stat.siblings.len() as u64;
    for (i, s) in stat.siblings.iter().enumerate() {
        let at = STAT_HEADER + i * STAT_PER_SIBLING;
        out[at] = s.count;
        out[at + 1] = s.id.unwrap_or(0);
        out[at + 2] = s.lost_records.unwrap_or(0);
    }
    Ok(need as u32)
}

/// Result of `queryBpf`.
#[napi(object, object_from_js = false)]
pub struct NativeBpfQuery {
    /// Ids of the attached BPF programs (at most the requested number).
    pub ids: Vec<u32>,
    /// How many more programs are attached than `ids` holds.
    pub more: u32,
}

/// Shared operations of a counter handle (standalone or group leader/member).
pub fn attach_bpf(c: &Counter, fd: i32) -> Result<()> {
    if fd < 0 {
        return Err(invalid("fd must be a non-negative integer"));
    }
    // SAFETY: the fd is borrowed for the ioctl only and never closed here.
    let file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    c.attach_bpf(&file).op("ioctl")
}

pub fn query_bpf(c: &Counter, max: u32) -> Result<NativeBpfQuery> {
    let (ids, more) = c.query_bpf(max).op("ioctl")?;
    Ok(NativeBpfQuery { ids, more: more.unwrap_or(0) })
}

pub fn set_filter(c: &Counter, filter: &str) -> Result<()> {
    let filter = std::ffi::CString::new(filter).map_err(|_| invalid("filter must not contain NUL bytes"))?;
    c.with_ftrace_filter(&filter).op("ioctl")
}

#[napi]
pub struct NativeCounter {
    inner: Option<Counter>,
    keep: KeepAlive,
}

impl NativeCounter {
    fn get(&self) -> Result<&Counter> {
        self.inner.as_ref().ok_or_else(|| closed("counter"))
    }
}

#[napi]
impl NativeCounter {
    #[napi(constructor)]
    pub fn new(event: NativeEvent, target: NativeTarget, opts: NativeOpts) -> Result<Self> {
        let mut keep = KeepAlive::default();
        let event = to_event(&event, &mut keep)?;
        let opts = to_opts(&opts)?;
        let counter = with_target(&target, |t| Counter::new(event, t, &opts).op("perf_event_open"))?;
        Ok(Self { inner: Some(counter), keep })
    }

    #[napi]
    pub fn enable(&self) -> Result<()> {
        self.get()?.enable().op("ioctl")
    }

    #[napi]
    pub fn disable(&self) -> Result<()> {
        self.get()?.disable().op("ioctl")
    }

    #[napi]
    pub fn reset(&self) -> Result<()> {
        self.get()?.clear_count().op("ioctl")
    }

    #[napi]
    pub fn id(&self) -> Result<BigInt> {
        self.get()?.id().op("ioctl").map(BigInt::from)
    }

    /// The perf event fd (for polling). Owned by this handle.
    #[napi]
    pub fn fd(&self) -> Result<i32> {
        Ok(self.get()?.file().as_raw_fd())
    }

    #[napi]
    pub fn stat_into(&self, mut out: BigUint64ArraySlice) -> Result<u32> {
        let stat = self.get()?.stat().op("read")?;
        write_stat(&stat, &mut out)
    }

    #[napi]
    pub fn set_filter(&self, filter: String) -> Result<()> {
        set_filter(self.get()?, &filter)
    }

    #[napi]
    pub fn attach_bpf(&self, fd: i32) -> Result<()> {
        attach_bpf(self.get()?, fd)
    }

    #[napi]
    pub fn query_bpf(&self, max: u32) -> Result<NativeBpfQuery> {
        query_bpf(self.get()?, max)
    }

    #[napi]
    pub fn switch_to(&mut self, event: NativeEvent) -> Result<()> {
        let event = to_event(&event, &mut self.keep)?;
        self.get()?.switch_to(event).op("ioctl")
    }

    /// Closes the fd now. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// prctl(PR_TASK_PERF_EVENTS_ENABLE): enables every counter attached to the calling thread.
    #[napi]
    pub fn enable_all() -> Result<()> {
        Counter::enable_all().op("prctl")
    }

    /// prctl(PR_TASK_PERF_EVENTS_DISABLE).
    #[napi]
    pub fn disable_all() -> Result<()> {
        Counter::disable_all().op("prctl")
    }
}
