//! `NativeSampler`: the ring buffer of a counter, drained into JS records in
//! batches, and waited on without blocking JS.
//!
//! Waiting: every sampler of the process shares one poller, the IO driver of
//! napi-rs's tokio runtime (one epoll instance). Each sampler registers a
//! private dup of its perf fd once, when it opens, for its whole life (so a
//! closed sampler never leaves the poller with a reused fd number, and no
//! kernel wake-up is lost between two waits: `perf_poll()` consumes a pending
//! wake-up, so a fresh registration per wait could miss the one that came
//! before it and stall while the ring is full). The registration is
//! edge-triggered; the poller remembers a wake-up that arrives while nobody
//! waits, and the facade drains before every wait. A wait resolves with
//! `'readable'`, `'hup'` (the target exited) or `'error'` (EPOLLERR is data,
//! not a crash), or `'cancelled'` when JS aborts or the sampler is closed. No
//! libuv pool thread is ever parked on poll(2).
//!
//! One mapping per ring: the crate's `Sampler` is opened only transiently, to
//! clone its record `Parser`, and dropped (unmapped) before our own `Ring`
//! maps the event. Two mappings of one event at the same time leak the
//! user's locked-memory accounting in the kernel (seen on 6.18: the pages
//! stay charged after both munmaps, until reboot, so an unprivileged user's
//! later samplers fail with EPERM). The ring's ioctls go through the dup'd fd.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use napi::bindgen_prelude::{BigInt, JsValue, PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;
use perf_event_open::sample::record::Parser;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;

use crate::batch::{BatchBuffer, Ring};
use crate::error::{invalid, IoContext, Result};
use crate::event::u64_of;
use crate::handles::{Owned, Slab, Table};
use crate::record::{to_js, NativeRecord};

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

struct Entry {
    /// Record layout of the counter's attr (cloned from the crate's transient sampler).
    parser: Parser,
    /// The only mapping of the ring.
    ring: Ring,
    /// Held while the sampler is open: the counter refuses a second one.
    _token: Arc<()>,
    /// The batch buffer JS registered (columns, byte area), if any.
    batch: Option<BatchBuffer>,
    /// A dup of the perf fd, registered with the poller for the sampler's life.
    poll_fd: Arc<AsyncFd<PollFd>>,
    /// Bytes of the ring's data area: one `drain()` copies out at most this much.
    ring_bytes: usize,
    /// Cancels the pending wait, if any (dropping it cancels too).
    cancel: Option<oneshot::Sender<()>>,
}

thread_local! {
    static SAMPLER_SLAB: RefCell<Slab<Entry>> = const { RefCell::new(Slab::new()) };
    /// The env whose teardown drops this thread's samplers (a renderer reload makes a new env on
    /// the same thread: it gets its own hook, so no sampler outlives the env its references live in).
    static CLEANUP_ENV: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
static SAMPLERS: Table<Entry> = Table::new(&SAMPLER_SLAB);

struct PollFd(OwnedFd);

impl AsRawFd for PollFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// Opens the sampler of `counter` with 2^exp data pages. `token` is the counter's
/// (cloned for this call): a sampler holds it while it lives.
pub fn open(env: &Env, counter: &perf_event_open::count::Counter, token: Arc<()>, exp: u32) -> Result<NativeSampler> {
    if exp > 30 {
        return Err(invalid("exp must be at most 30"));
    }
    // The counter's entry and this call hold the token; a third holder is an open sampler.
    if Arc::strong_count(&token) > 2 {
        let e = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "There is already a sampler attached to this counter.");
        return Err(e).op("mmap");
    }
    // Map through the crate only to get its parser, and unmap (drop) before our own mapping:
    // never two mappings of one event at a time (see the module docs).
    let parser = counter.sampler(exp as u8).op("mmap")?.parser().clone();
    // Mapped before the fd is registered with the poller: perf_poll() of an event without a
    // ring says EPOLLHUP, which would end the sampler's first wait.
    let ring_bytes = page_size() << exp;
    let ring = Ring::map(counter.file().as_raw_fd(), exp, page_size()).op("mmap")?;
    let poll_fd = counter.file().try_clone().op("dup")?;
    // Env teardown (worker exit, renderer reload) drops this thread's samplers:
    // their mappings are unmapped and pending waits end.
    if CLEANUP_ENV.with(|c| c.replace(env.raw() as usize)) != env.raw() as usize {
        env.add_env_cleanup_hook((), |_| {
            SAMPLER_SLAB.with(|s| *s.borrow_mut() = Slab::new());
            CLEANUP_ENV.with(|c| c.set(0));
        })
        .map_err(|e| invalid(e.reason))?;
    }
    let poll_fd = napi::bindgen_prelude::within_runtime_if_available(|| {
        // SAFETY: PollFd owns the fd it registers, for as long as the AsyncFd lives.
        unsafe { AsyncFd::register_with_interest(PollFd(OwnedFd::from(poll_fd)), Interest::READABLE | Interest::ERROR) }
            .map_err(std::io::Error::from)
    })
    .op("epoll_ctl")?;
    let entry = Entry { parser, ring, _token: token, batch: None, poll_fd: Arc::new(poll_fd), ring_bytes, cancel: None };
    Ok(NativeSampler { entry: Owned::new(&SAMPLERS, "sampler", entry) })
}

// ioctl requests (linux/perf_event.h): _IO('$', 2), _IOW('$', 4, u64), _IOW('$', 9, u32).
const PERF_EVENT_IOC_REFRESH: u32 = 0x2402;
const PERF_EVENT_IOC_PERIOD: u32 = 0x4008_2404;
const PERF_EVENT_IOC_PAUSE_OUTPUT: u32 = 0x4004_2409;

/// An ioctl on the sampler's own dup of the perf fd (the same open file as the counter's).
fn ioctl(e: &Entry, req: u32, arg: libc::c_ulong) -> Result<()> {
    // SAFETY: a perf fd this entry owns; each request takes an integer or a pointer to a live u64.
    if unsafe { libc::ioctl(e.poll_fd.as_raw_fd(), req as _, arg) } < 0 {
        return Err(std::io::Error::last_os_error()).op("ioctl");
    }
    Ok(())
}

/// Owns a counter's ring buffer mapping.
#[napi]
pub struct NativeSampler {
    entry: Owned<Entry>,
}

#[napi]
impl NativeSampler {
    /// Parses up to `max` pending records with the crate's `Parser::parse`, walking our
    /// ring (the baseline of `npm run bench` and of the tests). With `rewind`, the ring's
    /// tail is put back afterwards: only for a disabled counter, whose ring the kernel no
    /// longer writes.
    #[napi]
    pub fn drain_crate(&self, max: u32, rewind: bool) -> Result<Vec<NativeRecord>> {
        self.entry.with(|e| {
            let tail = e.ring.tail_value();
            let mut out = Vec::new();
            e.ring.parse_each(&e.parser, max as usize, |p, r| out.push(to_js(&p, r)));
            if rewind {
                e.ring.set_tail(tail);
            }
            Ok(out)
        })
    }

    /// Parses the pending records with the crate's `Parser::parse` and drops them (no JS
    /// values): the native baseline of `npm run bench`. `rewind` as in `drainCrate`.
    #[napi]
    pub fn parse_crate(&self, rewind: bool) -> Result<u32> {
        self.entry.with(|e| {
            let tail = e.ring.tail_value();
            let n = e.ring.parse_each(&e.parser, usize::MAX, |p, r| {
                std::hint::black_box((p, r));
            });
            if rewind {
                e.ring.set_tail(tail);
            }
            Ok(n as u32)
        })
    }

    /// Registers the ArrayBuffer that holds this sampler's batch columns (laid out by lib/handles/batch.ts).
    #[napi(ts_args_type = "buf: ArrayBuffer")]
    pub fn set_batch_buffer(&self, env: Env, buf: Unknown<'_>) -> Result<()> {
        // `BatchBuffer::new` checks that it is an ArrayBuffer.
        let b = BatchBuffer::new(&env, buf.raw())?;
        self.entry.with_mut(|e| {
            e.batch = Some(b);
            Ok(())
        })
    }

    /// Copies records from the ring into the registered batch columns (no arguments:
    /// limits and cursors are in the buffer's meta slots). Returns the rows in the batch.
    #[napi]
    pub fn fill(&self, env: Env) -> Result<u32> {
        self.entry.with(|e| {
            let b = e.batch.as_ref().ok_or_else(|| invalid("no batch buffer registered"))?;
            crate::batch::fill(&env, b, &e.ring, &e.parser)
        })
    }

    /// Record objects (the same as `drain()` returns) for batch rows `from..to`.
    #[napi]
    pub fn decode(&self, env: Env, from: u32, to: u32) -> Result<Vec<NativeRecord>> {
        self.entry.with(|e| {
            let b = e.batch.as_ref().ok_or_else(|| invalid("no batch buffer registered"))?;
            crate::batch::decode(&env, b, &e.parser, from, to)
        })
    }

    /// Waits until the kernel wakes readers (per `wakeUp`), the target exits, or `cancelWait()`.
    #[napi(ts_return_type = "Promise<'readable' | 'hup' | 'error' | 'cancelled'>")]
    pub fn wait<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, String>> {
        let (tx, rx) = oneshot::channel::<()>();
        let fd = self.entry.with_mut(|e| {
            e.cancel = Some(tx);
            Ok(e.poll_fd.clone())
        })?;
        env.spawn_future(async move {
            let state = tokio::select! {
                ready = fd.ready(Interest::READABLE | Interest::ERROR) => {
                    let mut guard = ready?;
                    let r = guard.ready();
                    // Only a plain wake-up is consumed: HUP and ERR stay reported, so the
                    // facade sees them again after draining and ends the iteration.
                    if r.is_error() { "error" } else if r.is_read_closed() { "hup" } else {
                        guard.clear_ready_matching(tokio::io::Ready::READABLE);
                        "readable"
                    }
                }
                _ = rx => "cancelled",
            };
            Ok(state.to_owned())
        })
        .map_err(|e| invalid(e.reason))
    }

    /// Ends a pending `wait()` with `'cancelled'`.
    #[napi]
    pub fn cancel_wait(&self) -> Result<()> {
        self.entry.with_mut(|e| {
            if let Some(tx) = e.cancel.take() {
                let _ = tx.send(());
            }
            Ok(())
        })
    }

    /// Stops writing records into the ring (they count as lost). Since Linux 4.7.
    #[napi]
    pub fn pause(&self) -> Result<()> {
        self.entry.with(|e| ioctl(e, PERF_EVENT_IOC_PAUSE_OUTPUT, 1))
    }

    /// Resumes writing records. Since Linux 4.7.
    #[napi]
    pub fn resume(&self) -> Result<()> {
        self.entry.with(|e| ioctl(e, PERF_EVENT_IOC_PAUSE_OUTPUT, 0))
    }

    /// Enables the counter for `n` more overflows (PERF_EVENT_IOC_REFRESH).
    #[napi]
    pub fn refresh(&self, n: u32) -> Result<()> {
        self.entry.with(|e| ioctl(e, PERF_EVENT_IOC_REFRESH, n as libc::c_ulong))
    }

    /// New sample period, or frequency for `sampleOn: { freq }` counters (PERF_EVENT_IOC_PERIOD).
    #[napi]
    pub fn set_sample_on(&self, value: BigInt) -> Result<()> {
        let v = u64_of("value", &value)?;
        // The kernel copies the u64 the argument points to.
        self.entry.with(|e| ioctl(e, PERF_EVENT_IOC_PERIOD, std::ptr::from_ref(&v) as libc::c_ulong))
    }

    /// `[timeEnabled, timeRunning]` from the mmap'd page (no syscall).
    #[napi]
    pub fn counter_time(&self) -> Result<Vec<BigInt>> {
        self.entry.with(|e| {
            let (enabled, running) = e.ring.counter_time();
            Ok(vec![BigInt::from(enabled), BigInt::from(running)])
        })
    }

    /// The counter's `sample_type` bits (PERF_SAMPLE_*), for the facade's decoding of batch rows.
    #[napi(getter)]
    pub fn sample_type(&self) -> Result<f64> {
        self.entry.with(|e| Ok(e.parser.sample_type as f64))
    }

    /// Bytes of the ring's data area (2^exp pages).
    #[napi(getter)]
    pub fn ring_bytes(&self) -> Result<u32> {
        self.entry.with(|e| Ok(e.ring_bytes.min(u32::MAX as usize) as u32))
    }

    /// Unmaps the ring and ends a pending wait. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.entry.close();
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.entry.is_closed()
    }
}
