//! `NativeGroup`: a leader and its siblings, scheduled as a unit and read atomically.
//! `CounterGroup` is neither Send nor Sync; it stays on the JS thread that made it.

use std::cell::RefCell;

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::count::group::CounterGroup;
use perf_event_open::count::Counter;

use crate::counter::{open, Switch, Switchable};
use crate::error::{invalid, IoContext, Result};
use crate::handles::{Owned, Slab, Table};
use crate::event::{to_event, KeepAlive, NativeEvent};
use crate::options::{to_sibling_opts, NativeOpts, NativeTarget};

struct Entry {
    group: CounterGroup,
    keep: KeepAlive,
    /// Whether the leader was left enabled: by `enable: true` at open or by `enable()`.
    /// `add` restarts an enabled leader so that the new member is scheduled with it.
    enabled: bool,
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
#[napi]
pub fn group_stat() -> Result<u32> {
    use std::os::fd::AsRawFd;
    crate::handles::read_into_stat_buffer(|h| GROUPS.with(h, "group", |e| Ok(e.group.leader().file().as_raw_fd())))
}

/// Owns a leader and its siblings (through the thread's group table).
#[napi]
pub struct NativeGroup {
    entry: Owned<Entry>,
}

impl NativeGroup {
    fn with<R>(&self, f: impl FnOnce(&CounterGroup) -> Result<R>) -> Result<R> {
        self.entry.with(|e| f(&e.group))
    }
}

#[napi]
impl NativeGroup {
    #[napi(constructor)]
    pub fn new(event: NativeEvent, target: NativeTarget, opts: NativeOpts) -> Result<Self> {
        let (leader, keep) = open(&event, &target, &opts)?;
        Ok(Self { entry: Owned::new(&GROUPS, "group", Entry { group: CounterGroup::from(leader), keep, enabled: opts.enable == Some(true) }) })
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
            let sibling = e.group.add(event, &opts).op("perf_event_open")?;
            let id = sibling.id().op("ioctl").map(BigInt::from)?;
            if e.enabled {
                // The leader is counting: restart it so that the new member counts from now on.
                enable_group(&e.group)?;
            }
            Ok(id)
        })
    }

    /// Enables every member, members first and the leader last, so that members from other
    /// PMUs than the leader's are scheduled together with it.
    #[napi]
    pub fn enable(&self) -> Result<()> {
        self.entry.with_mut(|e| {
            e.enabled = true;
            enable_group(&e.group)
        })
    }

    /// Disables the leader, which stops every member at once (members stay enabled and count
    /// again with the leader).
    #[napi]
    pub fn disable(&self) -> Result<()> {
        self.entry.with_mut(|e| {
            e.enabled = false;
            disable_group(&e.group)
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

    #[napi]
    pub fn close(&mut self) {
        self.entry.close();
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.entry.is_closed()
    }
}
