//! `NativeCounter`: one perf event fd. Internal: the facade's `Counter` wraps it.

use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd};

use napi::bindgen_prelude::{BigInt, Unknown};
use napi::Env;
use napi_derive::napi;
use perf_event_open::count::group::CounterGroup;
use perf_event_open::count::Counter;

use std::cell::RefCell;

use crate::error::{invalid, IoContext, Result};
use crate::event::{to_event, AnyEvent, KeepAlive, NativeEvent};
use crate::handles::{FdIdentity, LentFd, Owned, Slab, Table};
use crate::options::{to_opts, with_target, NativeOpts, NativeTarget};
use crate::user_read::UserPage;
use perf_event_open::event::dp::DynamicPmu;

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

/// Opens a standalone counter or a group leader: converts the event (keeping
/// probe names alive in `keep`), the options and the target. Shared by
/// `NativeCounter` and `NativeGroup`.
pub fn open(event: &NativeEvent, target: &NativeTarget, opts: &NativeOpts) -> Result<(Counter, KeepAlive)> {
    open_with(event, target, opts, false)
}

/// `open`, with `user_read`: on arm64 a generic hardware event also asks the PMU for user-space
/// reads (`config1` bit 1, see user_read.rs).
fn open_with(event: &NativeEvent, target: &NativeTarget, opts: &NativeOpts, user_read: bool) -> Result<(Counter, KeepAlive)> {
    let mut keep = KeepAlive::default();
    let event = match event {
        NativeEvent::Hardware { name } if user_read && cfg!(target_arch = "aarch64") => AnyEvent::Dp(DynamicPmu {
            ty: 0, // PERF_TYPE_HARDWARE
            config: crate::event::hardware_config(*name),
            config1: crate::user_read::ARM64_RDPMC_CONFIG1,
            config2: 0,
            config3: 0,
        }),
        _ => to_event(event, &mut keep)?,
    };
    let opts = to_opts(opts)?;
    let counter = with_target(target, |t| Counter::new(event, t, &opts).op("perf_event_open"))?;
    Ok((counter, keep))
}

/// `enable`/`disable`/`reset` of a counter or, with PERF_IOC_FLAG_GROUP, of a whole group.
#[derive(Clone, Copy)]
pub enum Switch {
    Enable,
    Disable,
    Reset,
}

/// What `Switch` applies to: the crate's `Counter` and `CounterGroup` have the same three methods.
pub trait Switchable {
    fn switch(&self, to: Switch) -> Result<()>;
}

macro_rules! switchable {
    ($($t:ty),+) => {$(
        impl Switchable for $t {
            fn switch(&self, to: Switch) -> Result<()> {
                match to {
                    Switch::Enable => self.enable(),
                    Switch::Disable => self.disable(),
                    Switch::Reset => self.clear_count(),
                }
                .op("ioctl")
            }
        }
    )+};
}
switchable!(Counter, CounterGroup);

struct Entry {
    counter: Counter,
    /// The perf event behind the fd, recorded at open (`NativeCounter::identity`), for `counterStat`'s error path.
    identity: Option<FdIdentity>,
    /// Probe names/paths the kernel read at open (and may read again on switchTo).
    keep: KeepAlive,
    /// Shared with this counter's open sampler, if any: one sampler (one ring mapping) per counter.
    ring_token: std::sync::Arc<()>,
    /// The mapped first page for reads without a system call, with the event id `stat()` reports
    /// (user_read.rs); None when the kernel does not allow them for this counter, or once a
    /// sampler maps the ring instead.
    user: Option<(UserPage, u64)>,
}

/// Whether a counter can be read in user space: a generic hardware event of the calling thread,
/// not inherited (children's counts are only in read(2)), read as count + times + id (the page has no
/// lost-records count), and a kernel that allows it now.
fn wants_user_read(event: &NativeEvent, target: &NativeTarget, opts: &NativeOpts) -> bool {
    matches!(event, NativeEvent::Hardware { .. })
        && target.pid == 0
        && target.cpu < 0
        && target.cgroup.is_none()
        && opts.inherit.is_none()
        && opts.stat_format.as_ref().is_none_or(|f| f.lost_records != Some(true))
        && crate::user_read::allowed()
}

thread_local! {
    static COUNTER_SLAB: RefCell<Slab<Entry>> = const { RefCell::new(Slab::new()) };
}
static COUNTERS: Table<Entry> = Table::new(&COUNTER_SLAB);

/// Reads the counter whose handle the facade put in the stat buffer's last slot into that buffer (the hot path of `stat()`; no arguments).
#[napi]
pub fn counter_stat() -> Result<()> {
    crate::handles::read_into_stat_buffer("counter", |h| {
        COUNTERS.with(h, "counter", |e| {
            let now = e.user.as_ref().and_then(|(page, id)| page.read().map(|[v, en, run]| [v, en, run, *id]));
            Ok((e.counter.file().as_raw_fd(), e.identity, now))
        })
    })
}

/// Runs `to` on the counter whose handle the facade armed in the stat buffer's last slot
/// (`take_armed_handle`): the hot path of `enable()`/`disable()`/`reset()`, with no arguments.
/// Errors as the `NativeCounter` methods (ERR_CLOSED, ERR_FD_REPLACED on a replaced fd).
fn switch_armed(to: Switch) -> Result<()> {
    let Some(h) = crate::handles::take_armed_handle()? else { return Ok(()) };
    COUNTERS.with(h, "counter", |e| {
        e.counter.switch(to).map_err(|err| match e.identity {
            Some(id) if !id.matches(e.counter.file().as_raw_fd()) => crate::error::fd_replaced("counter", e.counter.file().as_raw_fd()),
            _ => err,
        })
    })
}

/// `enable()` of the counter whose handle is armed in the stat buffer (no arguments).
#[napi]
pub fn counter_enable() -> Result<()> {
    switch_armed(Switch::Enable)
}

/// `disable()` of the counter whose handle is armed in the stat buffer (no arguments).
#[napi]
pub fn counter_disable() -> Result<()> {
    switch_armed(Switch::Disable)
}

/// `reset()` of the counter whose handle is armed in the stat buffer (no arguments).
#[napi]
pub fn counter_reset() -> Result<()> {
    switch_armed(Switch::Reset)
}

/// Registers this thread's stat buffer: a BigUint64Array over a fixed-length ArrayBuffer (a
/// resizable or shared one is refused). The native side keeps a reference to it and checks before
/// every write that it is still attached.
#[napi(ts_args_type = "buf: BigUint64Array")]
pub fn set_stat_buffer(env: Env, buf: Unknown<'_>) -> Result<()> {
    crate::handles::set_stat_buffer(&env, buf)
}

/// Owns one perf event fd (through the thread's counter table).
#[napi]
pub struct NativeCounter {
    entry: Owned<Entry>,
    /// The perf event behind the fd, recorded at open: checked before the fd is closed.
    identity: Option<FdIdentity>,
    /// The dup handed out as `fd` (created on first use).
    lent: RefCell<Option<LentFd>>,
}

impl NativeCounter {
    fn with<R>(&self, f: impl FnOnce(&Counter) -> Result<R>) -> Result<R> {
        self.entry.with(|e| {
            // Only on failure: was the fd closed by other code and its number reused?
            f(&e.counter).map_err(|err| match self.identity {
                Some(id) if !id.matches(e.counter.file().as_raw_fd()) => crate::error::fd_replaced("counter", e.counter.file().as_raw_fd()),
                _ => err,
            })
        })
    }

    /// Closes the fd only if it is still this counter's perf event; otherwise
    /// leaves the file that took over the number open and says so.
    fn release(&mut self) -> Result<()> {
        self.lent.borrow_mut().take();
        let Some(e) = self.entry.take() else { return Ok(()) };
        let fd = e.counter.file().as_raw_fd();
        match self.identity {
            Some(id) if !id.matches(fd) => {
                // Not ours any more: dropping would close a foreign file.
                std::mem::forget(e);
                Err(crate::error::fd_replaced("counter", fd))
            }
            _ => Ok(()),
        }
    }
}

impl Drop for NativeCounter {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

#[napi]
impl NativeCounter {
    #[napi(constructor)]
    pub fn new(event: NativeEvent, target: NativeTarget, opts: NativeOpts) -> Result<Self> {
        let user_read = wants_user_read(&event, &target, &opts);
        let (counter, keep) = open_with(&event, &target, &opts, user_read)?;
        let identity = FdIdentity::of(counter.file().as_raw_fd(), None);
        let user = if user_read { UserPage::map(counter.file().as_raw_fd()).zip(counter.id().ok()) } else { None };
        Ok(Self {
            entry: Owned::new(&COUNTERS, "counter", Entry { counter, keep, identity, ring_token: Default::default(), user }),
            identity,
            lent: RefCell::new(None),
        })
    }

    /// Whether `stat()` can read this counter without a system call: a hardware counter of the
    /// calling thread where the kernel allows user-space reads (x86-64 `rdpmc`; arm64
    /// `kernel.perf_user_access = 1`, Linux 5.17+). Each `stat()` still falls back to `read(2)`
    /// whenever the counter is not on a PMU counter of this CPU (disabled, multiplexed away), and
    /// for good once a sampler maps the counter's ring.
    #[napi(getter)]
    pub fn user_space_read(&self) -> bool {
        self.entry.with(|e| Ok(e.user.is_some())).unwrap_or(false)
    }

    /// The handle that `counterStat` takes.
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.entry.handle()
    }

    #[napi]
    pub fn enable(&self) -> Result<()> {
        self.with(|c| c.switch(Switch::Enable))
    }

    #[napi]
    pub fn disable(&self) -> Result<()> {
        self.with(|c| c.switch(Switch::Disable))
    }

    #[napi]
    pub fn reset(&self) -> Result<()> {
        self.with(|c| c.switch(Switch::Reset))
    }

    #[napi]
    pub fn id(&self) -> Result<BigInt> {
        self.with(|c| c.id().op("ioctl").map(BigInt::from))
    }

    /// A duplicate of the perf event fd (for polling), owned by this handle and
    /// closed with it. If other code closed it, a new duplicate is made; a file
    /// that reused the old number is never closed or touched.
    #[napi]
    pub fn fd(&self) -> Result<i32> {
        self.with(|c| {
            let mut lent = self.lent.borrow_mut();
            if let Some(l) = lent.as_ref() {
                if l.intact() {
                    return Ok(l.fd());
                }
                // Closed by other code: forget it without closing (the number may be reused).
                std::mem::forget(lent.take());
            }
            let fd = c.file().as_raw_fd();
            let identity = self.identity.or_else(|| FdIdentity::of(fd, None)).ok_or_else(|| crate::error::fd_replaced("counter", fd))?;
            let l = LentFd::lend(fd, identity).op("fcntl")?;
            let out = l.fd();
            *lent = Some(l);
            Ok(out)
        })
    }

    /// ERR_FD_REPLACED when the fd no longer refers to this counter's perf event (other code closed
    /// it and the number may belong to another file now); else nothing. The facade calls it when a
    /// read does not have the counter's layout.
    #[napi]
    pub fn check_fds(&self) -> Result<()> {
        self.with(|c| match self.identity {
            Some(id) if !id.matches(c.file().as_raw_fd()) => Err(crate::error::fd_replaced("counter", c.file().as_raw_fd())),
            _ => Ok(()),
        })
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
        // The ring's mapping replaces the user-read page: one mapping per perf fd.
        let token = self.entry.with_mut(|e| {
            e.user = None;
            Ok(e.ring_token.clone())
        })?;
        self.with(|c| crate::sampler::open(env, c, token, exp))
    }

    /// Closes the fd now. Idempotent. Fails with ERR_FD_REPLACED (after
    /// marking the counter closed) when other code closed the fd and its
    /// number now belongs to another file, which is left open.
    #[napi]
    pub fn close(&mut self) -> Result<()> {
        self.release()
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
