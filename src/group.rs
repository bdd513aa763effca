//! `NativeGroup`: a leader and its siblings, scheduled as a unit and read atomically.
//! `CounterGroup` is neither Send nor Sync; it stays on the JS thread that made it.

use std::cell::RefCell;

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::count::group::CounterGroup;
use perf_event_open::count::Counter;

use crate::error::{invalid, IoContext, Result};
use crate::handles::{Owned, Slab, Table};
use crate::event::{to_event, KeepAlive, NativeEvent};
use crate::options::{to_opts, to_sibling_opts, with_target, NativeOpts, NativeTarget};

struct Entry {
    group: CounterGroup,
    keep: KeepAlive,
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
        let mut keep = KeepAlive::default();
        let event = to_event(&event, &mut keep)?;
        let opts = to_opts(&opts)?;
        let leader = with_target(&target, |t| Counter::new(event, t, &opts).op("perf_event_open"))?;
        Ok(Self { entry: Owned::new(&GROUPS, "group", Entry { group: CounterGroup::from(leader), keep }) })
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
            sibling.id().op("ioctl").map(BigInt::from)
        })
    }

    #[napi]
    pub fn enable(&self) -> Result<()> {
        self.with(|g| g.enable().op("ioctl"))
    }

    #[napi]
    pub fn disable(&self) -> Result<()> {
        self.with(|g| g.disable().op("ioctl"))
    }

    #[napi]
    pub fn reset(&self) -> Result<()> {
        self.with(|g| g.clear_count().op("ioctl"))
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
