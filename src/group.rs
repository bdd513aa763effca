//! `NativeGroup`: a leader and its siblings, scheduled as a unit and read atomically.
//! `CounterGroup` is neither Send nor Sync; it stays on the JS thread that made it.

use napi::bindgen_prelude::{BigInt, BigUint64ArraySlice};
use napi_derive::napi;
use perf_event_open::count::group::CounterGroup;
use perf_event_open::count::Counter;

use crate::counter::write_stat;
use crate::error::{closed, IoContext, Result};
use crate::event::{to_event, KeepAlive, NativeEvent};
use crate::options::{to_opts, to_sibling_opts, with_target, NativeOpts, NativeTarget};

#[napi]
pub struct NativeGroup {
    inner: Option<CounterGroup>,
    keep: KeepAlive,
}

impl NativeGroup {
    fn get(&self) -> Result<&CounterGroup> {
        self.inner.as_ref().ok_or_else(|| closed("group"))
    }

    /// Member 0 is the leader, then siblings in the order they were added.
    fn member(&self, index: u32) -> Result<&Counter> {
        let g = self.get()?;
        match index {
            0 => Ok(g.leader()),
            i => g
                .siblings()
                .get(i as usize - 1)
                .map(|c| &**c)
                .ok_or_else(|| crate::error::invalid(format!("no group member {i}"))),
        }
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
        Ok(Self { inner: Some(CounterGroup::from(leader)), keep })
    }

    /// Adds a sibling; returns its kernel id.
    #[napi]
    pub fn add(&mut self, event: NativeEvent, opts: NativeOpts) -> Result<BigInt> {
        let event = to_event(&event, &mut self.keep)?;
        let opts = to_sibling_opts(&opts)?;
        let group = self.inner.as_mut().ok_or_else(|| closed("group"))?;
        let sibling = group.add(event, &opts).op("perf_event_open")?;
        sibling.id().op("ioctl").map(BigInt::from)
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

    /// One read(2) of the leader: every member's value.
    #[napi]
    pub fn stat_into(&self, mut out: BigUint64ArraySlice) -> Result<u32> {
        let stat = self.get()?.leader().stat().op("read")?;
        write_stat(&stat, &mut out)
    }

    /// Reads one member alone (its own fd).
    #[napi]
    pub fn member_stat_into(&self, index: u32, mut out: BigUint64ArraySlice) -> Result<u32> {
        let stat = self.member(index)?.stat().op("read")?;
        write_stat(&stat, &mut out)
    }

    #[napi]
    pub fn member_id(&self, index: u32) -> Result<BigInt> {
        self.member(index)?.id().op("ioctl").map(BigInt::from)
    }

    #[napi]
    pub fn member_set_filter(&self, index: u32, filter: String) -> Result<()> {
        crate::counter::set_filter(self.member(index)?, &filter)
    }

    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_none()
    }
}
