//! `NativeCounter`: one perf event fd. Internal: the facade's `Counter` wraps it.

use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd};

use napi::bindgen_prelude::{BigInt, Unknown};
use napi::Env;
use napi_derive::napi;
use perf_event_open::count::Counter;

use std::cell::RefCell;

use crate::error::{invalid, IoContext, Result};
use crate::handles::{Owned, Slab, Table};
use crate::event::{to_event, KeepAlive, NativeEvent};
use crate::options::{to_opts, with_target, NativeOpts, NativeTarget};

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

struct Entry {
    counter: Counter,
    /// Probe names/paths the kernel read at open (and may read again on switchTo).
    keep: KeepAlive,
}

thread_local! {
    static COUNTER_SLAB: RefCell<Slab<Entry>> = const { RefCell::new(Slab::new()) };
}
static COUNTERS: Table<Entry> = Table::new(&COUNTER_SLAB);

fn with_counter<R>(h: u32, f: impl FnOnce(&Counter) -> Result<R>) -> Result<R> {
    COUNTERS.with(h, "counter", |e| f(&e.counter))
}

/// Reads the counter whose handle the facade put in the stat buffer's last slot into that buffer (the hot path of `stat()`; no arguments).
#[napi]
pub fn counter_stat() -> Result<u32> {
    crate::handles::read_into_stat_buffer(|h| with_counter(h, |c| Ok(c.file().as_raw_fd())))
}

/// Registers this thread's stat buffer (a BigUint64Array; the native side keeps a
/// reference and checks before every write that it is still attached).
#[napi(ts_args_type = "buf: BigUint64Array")]
pub fn set_stat_buffer(env: Env, buf: Unknown<'_>) -> Result<()> {
    crate::handles::set_stat_buffer(&env, buf)
}

/// Owns one perf event fd (through the thread's counter table).
#[napi]
pub struct NativeCounter {
    entry: Owned<Entry>,
}

impl NativeCounter {
    fn with<R>(&self, f: impl FnOnce(&Counter) -> Result<R>) -> Result<R> {
        self.entry.with(|e| f(&e.counter))
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
        Ok(Self { entry: Owned::new(&COUNTERS, "counter", Entry { counter, keep }) })
    }

    /// The handle that `counterStat` takes.
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.entry.handle()
    }

    #[napi]
    pub fn enable(&self) -> Result<()> {
        self.with(|c| c.enable().op("ioctl"))
    }

    #[napi]
    pub fn disable(&self) -> Result<()> {
        self.with(|c| c.disable().op("ioctl"))
    }

    #[napi]
    pub fn reset(&self) -> Result<()> {
        self.with(|c| c.clear_count().op("ioctl"))
    }

    #[napi]
    pub fn id(&self) -> Result<BigInt> {
        self.with(|c| c.id().op("ioctl").map(BigInt::from))
    }

    /// The perf event fd (for polling). Owned by this handle.
    #[napi]
    pub fn fd(&self) -> Result<i32> {
        self.with(|c| Ok(c.file().as_raw_fd()))
    }

    #[napi]
    pub fn set_filter(&self, filter: String) -> Result<()> {
        self.with(|c| set_filter(c, &filter))
    }

    #[napi]
    pub fn attach_bpf(&self, fd: i32) -> Result<()> {
        self.with(|c| attach_bpf(c, fd))
    }

    #[napi]
    pub fn query_bpf(&self, max: u32) -> Result<NativeBpfQuery> {
        self.with(|c| query_bpf(c, max))
    }

    #[napi]
    pub fn switch_to(&self, event: NativeEvent) -> Result<()> {
        self.entry.with_mut(|e| {
            let event = to_event(&event, &mut e.keep)?;
            e.counter.switch_to(event).op("ioctl")
        })
    }

    /// Maps a ring of 2^exp data pages and returns its sampler (one per counter).
    #[napi]
    pub fn sampler(&self, env: &Env, exp: u32) -> Result<crate::sampler::NativeSampler> {
        self.with(|c| crate::sampler::open(env, c, exp))
    }

    /// Closes the fd now. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.entry.close();
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.entry.is_closed()
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

