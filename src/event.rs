//! JS event descriptors → the crate's event types. The facade parses event
//! strings (`task-clock`, `msr/tsc/`, `mem:0x…:w`…) into these descriptors;
//! this module is the only place that turns a descriptor into `Event`.

use std::ffi::{CStr, CString};

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::event::bp::{Breakpoint, Len, Type as BpType};
use perf_event_open::event::dp::{DynamicPmu, Kprobe, Kretprobe, Uprobe, Uretprobe};
use perf_event_open::event::hw::{Hardware, Op, OpResult, Type as CacheType};
use perf_event_open::event::raw::Raw;
use perf_event_open::event::sw::Software;
use perf_event_open::event::tp::Tracepoint;
use perf_event_open::event::Event;

use crate::error::{invalid, Result};

/// Generic hardware events (`PERF_TYPE_HARDWARE`). Need a hardware PMU.
#[napi(string_enum = "camelCase")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum HardwareEventName {
    CpuCycle,
    Instr,
    CacheAccess,
    CacheMiss,
    BranchInstr,
    BranchMiss,
    BusCycle,
    FrontendStalledCycle,
    BackendStalledCycle,
    RefCpuCycle,
}

/// Software events (`PERF_TYPE_SOFTWARE`), always available. `cgroupSwitch` since Linux 5.13,
/// `bpfOutput` since 4.4. `ctxSwitch` counted with `exclude: { kernel: true }` (`:u`) is always 0:
/// context switches happen in the kernel (perf shows the same).
#[napi(string_enum = "camelCase")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SoftwareEventName {
    CpuClock,
    TaskClock,
    PageFault,
    MinorPageFault,
    MajorPageFault,
    EmuFault,
    AlignFault,
    CtxSwitch,
    CgroupSwitch,
    Dummy,
    BpfOutput,
    CpuMigration,
}

/// Caches of generic hardware cache events (`PERF_TYPE_HW_CACHE`).
#[napi(string_enum = "camelCase")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CacheName {
    #[napi(value = "l1d")]
    L1d,
    #[napi(value = "l1i")]
    L1i,
    Ll,
    Dtlb,
    Itlb,
    Bpu,
    Node,
}

/// Operation of a hardware cache event.
#[napi(string_enum = "camelCase")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CacheOp {
    Read,
    Write,
    Prefetch,
}

/// Result of a hardware cache event.
#[napi(string_enum = "camelCase")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CacheResult {
    Access,
    Miss,
}

/// A perf event, as the facade hands it to native code.
#[napi(discriminant = "type", discriminant_case = "camelCase", object_to_js = false)]
pub enum NativeEvent {
    Hardware { name: HardwareEventName },
    HwCache { cache: CacheName, op: CacheOp, result: CacheResult },
    Software { name: SoftwareEventName },
    Raw { config: BigInt, config1: Option<BigInt>, config2: Option<BigInt>, config3: Option<BigInt> },
    Tracepoint { id: BigInt },
    Breakpoint { access: String, addr: BigInt, len: Option<u32> },
    Dynamic { pmu: u32, config: BigInt, config1: Option<BigInt>, config2: Option<BigInt>, config3: Option<BigInt> },
    Kprobe { symbol: Option<String>, addr: Option<BigInt>, offset: Option<BigInt>, ret: Option<bool> },
    Uprobe { path: String, offset: BigInt, ret: Option<bool> },
}

/// A lossless `u64` from a JS bigint (the facade has validated the range).
pub fn u64_of(field: &str, v: &BigInt) -> Result<u64> {
    let (negative, value, lossless) = v.get_u64();
    if negative || !lossless {
        return Err(invalid(format!("{field} must be a bigint in [0, 2^64)")));
    }
    Ok(value)
}

pub fn opt_u64(field: &str, v: &Option<BigInt>) -> Result<u64> {
    v.as_ref().map_or(Ok(0), |v| u64_of(field, v))
}

/// C strings the kernel reads during `perf_event_open` (probe symbols and
/// paths). They must outlive the syscall, so the handle that made the call keeps them.
#[derive(Default)]
pub struct KeepAlive(Vec<CString>);

impl KeepAlive {
    fn c_str(&mut self, field: &str, s: &str) -> Result<&'static CStr> {
        let c = CString::new(s).map_err(|_| invalid(format!("{field} must not contain NUL bytes")))?;
        // SAFETY: the CString's heap buffer does not move when the CString is
        // moved into the Vec, and the Vec lives as long as the handle that
        // passed the pointer to the kernel. The kernel only reads it during the syscall.
        let s: &'static CStr = unsafe { &*(c.as_c_str() as *const CStr) };
        self.0.push(c);
        Ok(s)
    }
}

fn hardware(name: HardwareEventName) -> Hardware {
    use HardwareEventName as N;
    match name {
        N::CpuCycle => Hardware::CpuCycle,
        N::BusCycle => Hardware::BusCycle,
        N::RefCpuCycle => Hardware::RefCpuCycle,
        N::CacheMiss => Hardware::CacheMiss,
        N::CacheAccess => Hardware::CacheAccess,
        N::BranchMiss => Hardware::BranchMiss,
        N::BranchInstr => Hardware::BranchInstr,
        N::BackendStalledCycle => Hardware::BackendStalledCycle,
        N::FrontendStalledCycle => Hardware::FrontendStalledCycle,
        N::Instr => Hardware::Instr,
    }
}

/// The generic event's `config` (PERF_COUNT_HW_*, a stable ABI): for opening it as a typed config
/// with extra `config1` bits (arm64 user-space reads, `user_read.rs`).
pub fn hardware_config(name: HardwareEventName) -> u64 {
    use HardwareEventName as N;
    match name {
        N::CpuCycle => 0,
        N::Instr => 1,
        N::CacheAccess => 2,
        N::CacheMiss => 3,
        N::BranchInstr => 4,
        N::BranchMiss => 5,
        N::BusCycle => 6,
        N::FrontendStalledCycle => 7,
        N::BackendStalledCycle => 8,
        N::RefCpuCycle => 9,
    }
}

fn hw_cache(cache: CacheName, op: CacheOp, result: CacheResult) -> Hardware {
    let ty = match cache {
        CacheName::L1d => CacheType::L1d,
        CacheName::L1i => CacheType::L1i,
        CacheName::Ll => CacheType::Ll,
        CacheName::Dtlb => CacheType::Dtlb,
        CacheName::Itlb => CacheType::Itlb,
        CacheName::Bpu => CacheType::Bpu,
        CacheName::Node => CacheType::Node,
    };
    let op = match op {
        CacheOp::Read => Op::Read,
        CacheOp::Write => Op::Write,
        CacheOp::Prefetch => Op::Prefetch,
    };
    let result = match result {
        CacheResult::Miss => OpResult::Miss,
        CacheResult::Access => OpResult::Access,
    };
    Hardware::Cache(ty, op, result)
}

fn software(name: SoftwareEventName) -> Software {
    use SoftwareEventName as N;
    match name {
        N::CpuClock => Software::CpuClock,
        N::TaskClock => Software::TaskClock,
        N::PageFault => Software::PageFault,
        N::MinorPageFault => Software::MinorPageFault,
        N::MajorPageFault => Software::MajorPageFault,
        N::EmuFault => Software::EmuFault,
        N::AlignFault => Software::AlignFault,
        N::CtxSwitch => Software::CtxSwitch,
        N::CgroupSwitch => Software::CgroupSwitch,
        N::Dummy => Software::Dummy,
        N::BpfOutput => Software::BpfOutput,
        N::CpuMigration => Software::CpuMigration,
    }
}

fn bp_len(len: u32) -> Result<Len> {
    Ok(match len {
        1 => Len::_1,
        2 => Len::_2,
        3 => Len::_3,
        4 => Len::_4,
        5 => Len::_5,
        6 => Len::_6,
        7 => Len::_7,
        8 => Len::_8,
        _ => return Err(invalid(format!("breakpoint len must be 1..8, got {len}"))),
    })
}

/// One of the crate's event types. The crate converts it to `Event` inside
/// `perf_event_open` calls (probe PMU types are read from sysfs there).
pub enum AnyEvent {
    Hw(Hardware),
    Sw(Software),
    Raw(Raw),
    Tp(Tracepoint),
    Bp(Breakpoint),
    Dp(DynamicPmu),
    Kp(Kprobe),
    Krp(Kretprobe),
    Up(Uprobe),
    Urp(Uretprobe),
}

impl TryFrom<AnyEvent> for Event {
    type Error = std::io::Error;
    fn try_from(e: AnyEvent) -> std::io::Result<Event> {
        match e {
            AnyEvent::Hw(e) => e.try_into(),
            AnyEvent::Sw(e) => e.try_into(),
            AnyEvent::Raw(e) => e.try_into(),
            AnyEvent::Tp(e) => e.try_into(),
            AnyEvent::Bp(e) => e.try_into(),
            AnyEvent::Dp(e) => e.try_into(),
            AnyEvent::Kp(e) => e.try_into(),
            AnyEvent::Krp(e) => e.try_into(),
            AnyEvent::Up(e) => e.try_into(),
            AnyEvent::Urp(e) => e.try_into(),
        }
    }
}

/// The one conversion from a JS descriptor to the crate's event types.
pub fn to_event(ev: &NativeEvent, keep: &mut KeepAlive) -> Result<AnyEvent> {
    Ok(match ev {
        NativeEvent::Hardware { name } => AnyEvent::Hw(hardware(*name)),
        NativeEvent::HwCache { cache, op, result } => AnyEvent::Hw(hw_cache(*cache, *op, *result)),
        NativeEvent::Software { name } => AnyEvent::Sw(software(*name)),
        NativeEvent::Raw { config, config1, config2, config3 } => AnyEvent::Raw(Raw {
            config: u64_of("config", config)?,
            config1: opt_u64("config1", config1)?,
            config2: opt_u64("config2", config2)?,
            config3: opt_u64("config3", config3)?,
        }),
        NativeEvent::Tracepoint { id } => AnyEvent::Tp(Tracepoint { id: u64_of("id", id)? }),
        NativeEvent::Breakpoint { access, addr, len } => {
            let len = len.unwrap_or(if access == "x" { 8 } else { 4 });
            let ty = match access.as_str() {
                "r" => BpType::R(bp_len(len)?),
                "w" => BpType::W(bp_len(len)?),
                "rw" => BpType::Rw(bp_len(len)?),
                "x" => BpType::X,
                _ => return Err(invalid(format!("breakpoint access must be r, w, rw or x, got {access:?}"))),
            };
            AnyEvent::Bp(Breakpoint { ty, addr: u64_of("addr", addr)? })
        }
        NativeEvent::Dynamic { pmu, config, config1, config2, config3 } => AnyEvent::Dp(DynamicPmu {
            ty: *pmu,
            config: u64_of("config", config)?,
            config1: opt_u64("config1", config1)?,
            config2: opt_u64("config2", config2)?,
            config3: opt_u64("config3", config3)?,
        }),
        NativeEvent::Kprobe { symbol, addr, offset, ret } => {
            let ret = ret.unwrap_or(false);
            match (symbol, addr) {
                (Some(symbol), None) => {
                    let name = keep.c_str("symbol", symbol)?;
                    let offset = opt_u64("offset", offset)?;
                    if ret {
                        AnyEvent::Krp(Kretprobe::Symbol { name, offset })
                    } else {
                        AnyEvent::Kp(Kprobe::Symbol { name, offset })
                    }
                }
                (None, Some(addr)) => {
                    let addr = u64_of("addr", addr)?;
                    if ret {
                        AnyEvent::Krp(Kretprobe::Addr(addr))
                    } else {
                        AnyEvent::Kp(Kprobe::Addr(addr))
                    }
                }
                _ => return Err(invalid("kprobe needs exactly one of symbol or addr")),
            }
        }
        NativeEvent::Uprobe { path, offset, ret } => {
            let path = keep.c_str("path", path)?;
            let offset = u64_of("offset", offset)?;
            if ret.unwrap_or(false) {
                AnyEvent::Urp(Uretprobe { path, offset })
            } else {
                AnyEvent::Up(Uprobe { path, offset })
            }
        }
    })
}
