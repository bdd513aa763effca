//! `NativeGroup`: a leader and its siblings, scheduled as a unit and read atomically.
//! `CounterGroup` is neither Send nor Sync; it stays on the JS thread that made it.

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::os::fd::AsRawFd;

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::count::group::CounterGroup;
use perf_event_open::count::Counter;

use crate::counter::{open, Switch, Switchable};
use crate::error::{invalid, IoContext, Result};
use crate::event::{to_event, KeepAlive, NativeEvent};
use crate::handles::{FdIdentity, Owned, Slab, Table};
use crate::options::{to_sibling_opts, NativeOpts, NativeTarget};

struct Entry {
    /// Dropped (closing every fd) only while every fd is still its perf event: see `Drop`.
    group: ManuallyDrop<CounterGroup>,
    /// The perf event behind each member's fd (leader first), recorded at open: checked on
    /// failures and before the fds are closed (a member has its own fd, which other code may close).
    ids: Vec<Option<FdIdentity>>,
    keep: KeepAlive,
    /// Whether the leader was left running: by `enable: true` at open or by a successful `enable()`.
    /// `add` restarts a running leader so that the new member is scheduled with it.
    enabled: bool,
}

/// The fd of every member, leader first.
fn fds(g: &CounterGroup) -> impl Iterator<Item = i32> + '_ {
    std::iter::once(g.leader().file().as_raw_fd()).chain(g.siblings().iter().map(|s| s.file().as_raw_fd()))
}

impl Entry {
    /// The first member fd that no longer refers to its perf event (closed by other code, the
    /// number maybe reused by another file), if any.
    fn replaced(&self) -> Option<i32> {
        fds(&self.group).zip(&self.ids).find(|(fd, id)| id.is_some_and(|id| !id.matches(*fd))).map(|(fd, _)| fd)
    }

    /// On the error path only: ERR_FD_REPLACED when a member's fd is not its perf event any more, else `err`.
    fn explain(&self, err: napi::Error<String>) -> napi::Error<String> {
        match self.replaced() {
            Some(fd) => crate::error::fd_replaced("group", fd),
            None => err,
        }
    }
}

impl Drop for Entry {
    /// Closes the fds (close, garbage collection, env or thread teardown) but never one whose
    /// number now belongs to another file: then only the intact fds are closed and the group's
    /// memory is leaked, since dropping it would close every number.
    fn drop(&mut self) {
        if self.replaced().is_none() {
            // SAFETY: dropped once, here; `group` is not used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.group) };
            return;
        }
        for (fd, id) in fds(&self.group).zip(&self.ids) {
            if id.is_some_and(|id| id.matches(fd)) {
                // SAFETY: the number still refers to this member's perf event; the group that owns it is never dropped.
                unsafe { libc::close(fd) };
            }
        }
    }
}

thread_local! {
    static GROUP_SLAB: RefCell<Slab<Entry>> = const { RefCell::new(Slab::new()) };
}
static GROUPS: Table<Entry> = Table::new(&GROUP_SLAB);

/// Member 0 is the leader, then siblings in the order they were added.
fn member(g: &CounterGroup, index: u32) -> Result<&Counter> {
    match index {
        0 => Ok(g.leader()),
        i => g.siblings().get(i as usize - 1).map(|c| &**c).ok_or_else(|| invalid(format!("no group member {i}"))),
    }
}

// Enabling and disabling a group (measured on Linux 6.18, see README "Groups"):
// a member enabled (or added) while its leader is already on the PMU is not scheduled in
// until the thread is next scheduled in, when the member comes from another PMU than the
// leader (task-clock/cpu-clock, the perf_swevent PMU of page-faults/context-switches, the
// tracepoint PMU). `PERF_EVENT_IOC_ENABLE` with `PERF_IOC_FLAG_GROUP` enables the leader
// first and then the members, so such members miss everything (or everything up to the
// first preemption) after every re-enable. Enabling each member while the leader is off
// and the leader last schedules the whole group in at once, which counts exactly.

/// Starts every member: the leader is stopped (a no-op when off), the members are enabled,
/// then the leader starts and brings them onto the PMU together with it.
fn enable_group(g: &CounterGroup) -> Result<()> {
    g.leader().disable().op("ioctl")?;
    for s in g.siblings() {
        s.enable().op("ioctl")?;
    }
    g.leader().enable().op("ioctl")
}

/// Stops the group: disabling the leader takes every member off the PMU at once. The members
/// stay enabled (they count only while their leader runs), so `enable_group` finds them ready.
fn disable_group(g: &CounterGroup) -> Result<()> {
    g.leader().disable().op("ioctl")
}

/// One read(2) of the leader of the group whose handle is in the stat buffer's last slot: every member's value, into that buffer.
/// A failed read whose leader fd is not its perf event any more gives ERR_FD_REPLACED.
#[napi]
pub fn group_stat() -> Result<()> {
    crate::handles::read_into_stat_buffer("group", |h| {
        GROUPS.with(h, "group", |e| Ok((e.group.leader().file().as_raw_fd(), e.ids[0], None)))
    })
}

/// `enable()` of the group whose handle the facade armed in the stat buffer's last slot (no
/// arguments; see `crate::handles::take_armed_handle`): the same as `NativeGroup::enable`.
#[napi]
pub fn group_enable() -> Result<()> {
    let Some(h) = crate::handles::take_armed_handle()? else { return Ok(()) };
    GROUPS.with_mut(h, "group", |e| {
        // Only a successful enable leaves the leader running (a failed one may have stopped it).
        let r = enable_group(&e.group);
        e.enabled = r.is_ok();
        r.map_err(|err| e.explain(err))
    })
}

/// `disable()` of the group whose handle is armed in the stat buffer (no arguments).
#[napi]
pub fn group_disable() -> Result<()> {
    let Some(h) = crate::handles::take_armed_handle()? else { return Ok(()) };
    GROUPS.with_mut(h, "group", |e| {
        disable_group(&e.group).map_err(|err| e.explain(err))?;
        e.enabled = false;
        Ok(())
    })
}

/// `reset()` of the group whose handle is armed in the stat buffer (no arguments).
#[napi]
pub fn group_reset() -> Result<()> {
    let Some(h) = crate::handles::take_armed_handle()? else { return Ok(()) };
    GROUPS.with(h, "group", |e| e.group.switch(Switch::Reset).map_err(|err| e.explain(err)))
}

/// Owns a leader and its siblings (through the thread's group table).
#[napi]
pub struct NativeGroup {
    entry: Owned<Entry>,
}

impl NativeGroup {
    fn with<R>(&self, f: impl FnOnce(&CounterGroup) -> Result<R>) -> Result<R> {
        self.entry.with(|e| f(&e.group).map_err(|err| e.explain(err)))
    }
}

#[napi]
impl NativeGroup {
    #[napi(constructor)]
    pub fn new(event: NativeEvent, target: NativeTarget, opts: NativeOpts) -> Result<Self> {
        let (leader, keep) = open(&event, &target, &opts)?;
        let ids = vec![FdIdentity::of(leader.file().as_raw_fd(), None)];
        let entry = Entry { group: ManuallyDrop::new(CounterGroup::from(leader)), ids, keep, enabled: opts.enable == Some(true) };
        Ok(Self { entry: Owned::new(&GROUPS, "group", entry) })
    }

    /// The handle that `groupStat` takes.
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.entry.handle()
    }

    /// Adds a sibling; returns its kernel id.
    #[napi]
    pub fn add(&self, event: NativeEvent, opts: NativeOpts) -> Result<BigInt> {
        self.entry.with_mut(|e| {
            let event = to_event(&event, &mut e.keep)?;
            let opts = to_sibling_opts(&opts)?;
            let added = e.group.add(event, &opts).op("perf_event_open");
            let sibling = added.map_err(|err| e.explain(err))?;
            e.ids.push(FdIdentity::of(sibling.file().as_raw_fd(), None));
            let id = sibling.id().op("ioctl").map(BigInt::from).map_err(|err| e.explain(err))?;
            if e.enabled {
                // The leader is counting: restart it so that the new member counts from now on.
                let r = enable_group(&e.group);
                e.enabled = r.is_ok();
                r.map_err(|err| e.explain(err))?;
            }
            Ok(id)
        })
    }

    /// Enables every member, members first and the leader last, so that members from other
    /// PMUs than the leader's are scheduled together with it.
    #[napi]
    pub fn enable(&self) -> Result<()> {
        self.entry.with_mut(|e| {
            // Only a successful enable leaves the leader running (a failed one may have stopped it).
            let r = enable_group(&e.group);
            e.enabled = r.is_ok();
            r.map_err(|err| e.explain(err))
        })
    }

    /// Disables the leader, which stops every member at once (members stay enabled and count
    /// again with the leader).
    #[napi]
    pub fn disable(&self) -> Result<()> {
        self.entry.with_mut(|e| {
            disable_group(&e.group).map_err(|err| e.explain(err))?;
            e.enabled = false;
            Ok(())
        })
    }

    #[napi]
    pub fn reset(&self) -> Result<()> {
        self.with(|g| g.switch(Switch::Reset))
    }

    #[napi]
    pub fn member_id(&self, index: u32) -> Result<BigInt> {
        self.with(|g| member(g, index)?.id().op("ioctl").map(BigInt::from))
    }

    #[napi]
    pub fn member_set_filter(&self, index: u32, filter: String) -> Result<()> {
        self.with(|g| crate::counter::set_filter(member(g, index)?, &filter))
    }

    /// ERR_FD_REPLACED when a member's fd no longer refers to its perf event (other code closed
    /// it and the number may belong to another file now); else nothing. The facade calls it when
    /// a read does not have the group's layout.
    #[napi]
    pub fn check_fds(&self) -> Result<()> {
        self.entry.with(|e| e.replaced().map_or(Ok(()), |fd| Err(crate::error::fd_replaced("group", fd))))
    }

    /// Closes every fd now. Idempotent. Fails with ERR_FD_REPLACED (after marking the group
    /// closed and closing the intact fds) when other code closed a member's fd: its number may
    /// belong to another file now, which is left open.
    #[napi]
    pub fn close(&mut self) -> Result<()> {
        let Some(e) = self.entry.take() else { return Ok(()) };
        let replaced = e.replaced();
        drop(e); // closes only the fds that are still the group's (Entry's Drop)
        replaced.map_or(Ok(()), |fd| Err(crate::error::fd_replaced("group", fd)))
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.entry.is_closed()
    }
}
