//! JS options → `perf_event_attr` (through the crate's `Opts`). The facade
//! validates types and ranges and names the offending field; this module is
//! the one place that maps the validated object onto the crate's types, for
//! leaders (`config::Opts`) and siblings (`config::sibling::Opts`) alike.

use std::fs::File;

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::config::sibling::{self, AuxTracer, OnSample};
use perf_event_open::config::{
    BranchType, CallChain, Clock, Cgroup, Cpu, EntryFormat, ExtraRecord, Inherit, Lbr, Mmap, OnExecve, Opts, Priv,
    Proc, RecordIdFormat, RegsMask, Repr, SampleFormat, SampleOn, SampleSkid, Size, StatFormat, Target, TargetPriv,
    UseBuildId, WakeUp, WakeUpOn,
};

use crate::error::{invalid, IoContext, Result};
use crate::event::u64_of;

#[napi(object, object_to_js = false)]
pub struct NativePriv {
    pub user: Option<bool>,
    pub kernel: Option<bool>,
    pub hv: Option<bool>,
    pub host: Option<bool>,
    pub guest: Option<bool>,
    pub idle: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeStatFormat {
    pub id: Option<bool>,
    pub time_enabled: Option<bool>,
    pub time_running: Option<bool>,
    pub lost_records: Option<bool>,
    pub siblings: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeSampleOn {
    pub freq: Option<BigInt>,
    pub count: Option<BigInt>,
}

#[napi(object, object_to_js = false)]
pub struct NativeCallChain {
    pub exclude_user: Option<bool>,
    pub exclude_kernel: Option<bool>,
    pub defer_user: Option<bool>,
    pub max_stack_frames: Option<u32>,
}

#[napi(object, object_to_js = false)]
pub struct NativeTargetPriv {
    pub user: Option<bool>,
    pub kernel: Option<bool>,
    pub hv: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeBranchType {
    pub any: Option<bool>,
    pub any_return: Option<bool>,
    pub cond: Option<bool>,
    pub ind_jump: Option<bool>,
    pub call_stack: Option<bool>,
    pub call: Option<bool>,
    pub ind_call: Option<bool>,
    pub any_call: Option<bool>,
    pub in_tx: Option<bool>,
    pub no_tx: Option<bool>,
    pub abort_tx: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeEntryFormat {
    pub flags: Option<bool>,
    pub cycles: Option<bool>,
    pub counter: Option<bool>,
    pub branch_type: Option<bool>,
    pub branch_priv: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeLbr {
    pub target_priv: Option<NativeTargetPriv>,
    pub branch_type: Option<NativeBranchType>,
    pub hw_index: Option<bool>,
    pub entry_format: Option<NativeEntryFormat>,
}

#[napi(object, object_to_js = false)]
pub struct NativeSampleFormat {
    pub stat: Option<bool>,
    pub period: Option<bool>,
    pub cgroup: Option<bool>,
    pub call_chain: Option<NativeCallChain>,
    pub user_stack: Option<u32>,
    pub data_addr: Option<bool>,
    pub data_phys_addr: Option<bool>,
    pub data_page_size: Option<bool>,
    pub data_source: Option<bool>,
    pub code_addr: Option<bool>,
    pub code_page_size: Option<bool>,
    pub user_regs: Option<BigInt>,
    pub intr_regs: Option<BigInt>,
    pub raw: Option<bool>,
    pub lbr: Option<NativeLbr>,
    pub aux: Option<u32>,
    pub txn: Option<bool>,
    /// `'full'` or `'vars'`.
    pub weight: Option<String>,
}

#[napi(object, object_to_js = false)]
pub struct NativeMmapExt {
    pub build_id: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeMmap {
    pub code: Option<bool>,
    pub data: Option<bool>,
    pub ext: Option<NativeMmapExt>,
}

#[napi(object, object_to_js = false)]
pub struct NativeExtraRecord {
    pub task: Option<bool>,
    pub read: Option<bool>,
    pub comm: Option<bool>,
    pub mmap: Option<NativeMmap>,
    pub cgroup: Option<bool>,
    pub ksymbol: Option<bool>,
    pub bpf_event: Option<bool>,
    pub text_poke: Option<bool>,
    pub ctx_switch: Option<bool>,
    pub namespaces: Option<bool>,
    pub call_chain_deferred: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeRecordIdFormat {
    pub id: Option<bool>,
    pub stream_id: Option<bool>,
    pub cpu: Option<bool>,
    pub task: Option<bool>,
    pub time: Option<bool>,
}

#[napi(object, object_to_js = false)]
pub struct NativeWakeUpOn {
    pub bytes: Option<u32>,
    pub samples: Option<u32>,
}

#[napi(object, object_to_js = false)]
pub struct NativeWakeUp {
    pub on: Option<NativeWakeUpOn>,
    pub on_aux_bytes: Option<u32>,
}

/// Options of a counter or of a group member, validated by the facade.
#[napi(object, object_to_js = false)]
pub struct NativeOpts {
    pub exclude: Option<NativePriv>,
    pub exclusive: Option<bool>,
    pub pin: Option<bool>,
    /// `'newChild'` or `'newThread'`.
    pub inherit: Option<String>,
    /// `'enable'` or `'remove'`.
    pub on_execve: Option<String>,
    pub stat_format: Option<NativeStatFormat>,
    pub enable: Option<bool>,
    pub sample_on: Option<NativeSampleOn>,
    /// `'arbitrary'`, `'const'`, `'reqZero'` or `'zero'`.
    pub sample_skid: Option<String>,
    pub sample_format: Option<NativeSampleFormat>,
    pub extra_record: Option<NativeExtraRecord>,
    pub record_id_all: Option<bool>,
    pub record_id_format: Option<NativeRecordIdFormat>,
    pub wake_up: Option<NativeWakeUp>,
    /// `'tai'`, `'realTime'`, `'bootTime'`, `'monotonic'` or `'monotonicRaw'`.
    pub timer: Option<String>,
    pub pause_aux: Option<bool>,
    /// Group members only.
    pub aux_output: Option<bool>,
    /// Group members only: `'pause'` or `'resume'`.
    pub aux_action: Option<String>,
}

/// Where to count, validated by the facade. `-1` means all.
#[napi(object, object_to_js = false)]
pub struct NativeTarget {
    pub pid: i32,
    pub cpu: i32,
    pub cgroup: Option<String>,
}

fn b(v: Option<bool>) -> bool {
    v.unwrap_or(false)
}

fn privs(p: &Option<NativePriv>) -> Priv {
    p.as_ref().map_or_else(Priv::default, |p| Priv {
        user: b(p.user),
        kernel: b(p.kernel),
        hv: b(p.hv),
        host: b(p.host),
        guest: b(p.guest),
        idle: b(p.idle),
    })
}

fn inherit(v: &Option<String>) -> Result<Option<Inherit>> {
    Ok(match v.as_deref() {
        None => None,
        Some("newChild") => Some(Inherit::NewChild),
        Some("newThread") => Some(Inherit::NewThread),
        Some(o) => return Err(invalid(format!("inherit: unknown value {o:?}"))),
    })
}

fn on_execve(v: &Option<String>) -> Result<Option<OnExecve>> {
    Ok(match v.as_deref() {
        None => None,
        Some("enable") => Some(OnExecve::Enable),
        Some("remove") => Some(OnExecve::Remove),
        Some(o) => return Err(invalid(format!("onExecve: unknown value {o:?}"))),
    })
}

fn sample_on(v: &Option<NativeSampleOn>) -> Result<SampleOn> {
    Ok(match v {
        None => SampleOn::default(),
        Some(NativeSampleOn { freq: Some(f), count: None }) => SampleOn::Freq(u64_of("sampleOn.freq", f)?),
        Some(NativeSampleOn { freq: None, count: Some(c) }) => SampleOn::Count(u64_of("sampleOn.count", c)?),
        Some(NativeSampleOn { freq: None, count: None }) => SampleOn::default(),
        Some(_) => return Err(invalid("sampleOn takes freq or count, not both")),
    })
}

fn sample_skid(v: &Option<String>) -> Result<SampleSkid> {
    Ok(match v.as_deref() {
        None | Some("arbitrary") => SampleSkid::Arbitrary,
        Some("const") => SampleSkid::Const,
        Some("reqZero") => SampleSkid::ReqZero,
        Some("zero") => SampleSkid::Zero,
        Some(o) => return Err(invalid(format!("sampleSkid: unknown value {o:?}"))),
    })
}

fn lbr(l: &NativeLbr) -> Lbr {
    let tp = l.target_priv.as_ref().map(|t| TargetPriv { user: b(t.user), kernel: b(t.kernel), hv: b(t.hv) });
    let bt = l.branch_type.as_ref().map_or_else(BranchType::default, |t| BranchType {
        any: b(t.any),
        any_return: b(t.any_return),
        cond: b(t.cond),
        ind_jump: b(t.ind_jump),
        call_stack: b(t.call_stack),
        call: b(t.call),
        ind_call: b(t.ind_call),
        any_call: b(t.any_call),
        in_tx: b(t.in_tx),
        no_tx: b(t.no_tx),
        abort_tx: b(t.abort_tx),
    });
    let ef = l.entry_format.as_ref().map_or_else(EntryFormat::default, |e| EntryFormat {
        flags: b(e.flags),
        cycles: b(e.cycles),
        counter: b(e.counter),
        branch_type: b(e.branch_type),
        branch_priv: b(e.branch_priv),
    });
    Lbr { target_priv: tp, branch_type: bt, hw_index: b(l.hw_index), entry_format: ef }
}

fn sample_format(v: &Option<NativeSampleFormat>) -> Result<SampleFormat> {
    let Some(f) = v else { return Ok(SampleFormat::default()) };
    let call_chain = f.call_chain.as_ref().map(|c| CallChain {
        exclude_user: b(c.exclude_user),
        exclude_kernel: b(c.exclude_kernel),
        defer_user: b(c.defer_user),
        max_stack_frames: c.max_stack_frames.unwrap_or(0).min(u16::MAX as u32) as u16,
    });
    let regs = |name: &str, r: &Option<BigInt>| -> Result<Option<RegsMask>> {
        r.as_ref().map(|r| u64_of(name, r).map(RegsMask)).transpose()
    };
    Ok(SampleFormat {
        stat: b(f.stat),
        period: b(f.period),
        cgroup: b(f.cgroup),
        call_chain,
        user_stack: f.user_stack.map(Size),
        data_addr: b(f.data_addr),
        data_phys_addr: b(f.data_phys_addr),
        data_page_size: b(f.data_page_size),
        data_source: b(f.data_source),
        code_addr: b(f.code_addr),
        code_page_size: b(f.code_page_size),
        user_regs: regs("sampleFormat.userRegs", &f.user_regs)?,
        intr_regs: regs("sampleFormat.intrRegs", &f.intr_regs)?,
        raw: b(f.raw),
        lbr: f.lbr.as_ref().map(lbr),
        aux: f.aux.map(Size),
        txn: b(f.txn),
        weight: match f.weight.as_deref() {
            None => None,
            Some("full") => Some(Repr::Full),
            Some("vars") => Some(Repr::Vars),
            Some(o) => return Err(invalid(format!("sampleFormat.weight: unknown value {o:?}"))),
        },
    })
}

fn extra_record(v: &Option<NativeExtraRecord>) -> ExtraRecord {
    let Some(e) = v else { return ExtraRecord::default() };
    let mmap = e.mmap.as_ref().map_or_else(Mmap::default, |m| Mmap {
        code: b(m.code),
        data: b(m.data),
        ext: m.ext.as_ref().map(|x| UseBuildId(b(x.build_id))),
    });
    ExtraRecord {
        task: b(e.task),
        read: b(e.read),
        comm: b(e.comm),
        mmap,
        cgroup: b(e.cgroup),
        ksymbol: b(e.ksymbol),
        bpf_event: b(e.bpf_event),
        text_poke: b(e.text_poke),
        ctx_switch: b(e.ctx_switch),
        namespaces: b(e.namespaces),
        call_chain_deferred: b(e.call_chain_deferred),
    }
}

fn record_id_format(v: &Option<NativeRecordIdFormat>) -> RecordIdFormat {
    v.as_ref().map_or_else(RecordIdFormat::default, |r| RecordIdFormat {
        id: b(r.id),
        stream_id: b(r.stream_id),
        cpu: b(r.cpu),
        task: b(r.task),
        time: b(r.time),
    })
}

fn wake_up(v: &Option<NativeWakeUp>) -> Result<WakeUp> {
    let Some(w) = v else { return Ok(WakeUp::default()) };
    let on = match &w.on {
        None => WakeUpOn::default(),
        Some(NativeWakeUpOn { bytes: Some(n), samples: None }) => WakeUpOn::Bytes(*n),
        Some(NativeWakeUpOn { bytes: None, samples: Some(n) }) => WakeUpOn::Samples(*n),
        Some(NativeWakeUpOn { bytes: None, samples: None }) => WakeUpOn::default(),
        Some(_) => return Err(invalid("wakeUp.on takes bytes or samples, not both")),
    };
    Ok(WakeUp { on, on_aux_bytes: w.on_aux_bytes.unwrap_or(0) })
}

fn timer(v: &Option<String>) -> Result<Option<Clock>> {
    Ok(match v.as_deref() {
        None => None,
        Some("tai") => Some(Clock::Tai),
        Some("realTime") => Some(Clock::RealTime),
        Some("bootTime") => Some(Clock::BootTime),
        Some("monotonic") => Some(Clock::Monotonic),
        Some("monotonicRaw") => Some(Clock::MonotonicRaw),
        Some(o) => return Err(invalid(format!("timer: unknown value {o:?}"))),
    })
}

/// Defensive checks for options whose gating the crate does not report
/// (it silently drops them below the Linux version that added them).
fn check_silent_gates(o: &NativeOpts) -> Result<()> {
    let defer = o
        .sample_format
        .as_ref()
        .and_then(|f| f.call_chain.as_ref())
        .is_some_and(|c| b(c.defer_user));
    if defer && !cfg!(feature = "linux-6.19") {
        return Err(napi::Error::new(
            "ERR_UNSUPPORTED_BY_BUILD".to_owned(),
            "option|0|sampleFormat.callChain.deferUser".to_owned(),
        ));
    }
    Ok(())
}

/// Options of a standalone counter or a group leader.
pub fn to_opts(o: &NativeOpts) -> Result<Opts> {
    check_silent_gates(o)?;
    let sf = o.stat_format.as_ref();
    Ok(Opts {
        exclude: privs(&o.exclude),
        only_group: b(o.exclusive),
        pin_on_pmu: b(o.pin),
        inherit: inherit(&o.inherit)?,
        on_execve: on_execve(&o.on_execve)?,
        stat_format: StatFormat {
            id: sf.is_some_and(|s| b(s.id)),
            time_enabled: sf.is_some_and(|s| b(s.time_enabled)),
            time_running: sf.is_some_and(|s| b(s.time_running)),
            lost_records: sf.is_some_and(|s| b(s.lost_records)),
            siblings: sf.is_some_and(|s| b(s.siblings)),
        },
        enable: b(o.enable),
        sample_on: sample_on(&o.sample_on)?,
        sample_skid: sample_skid(&o.sample_skid)?,
        sample_format: sample_format(&o.sample_format)?,
        extra_record: extra_record(&o.extra_record),
        record_id_all: b(o.record_id_all),
        record_id_format: record_id_format(&o.record_id_format),
        wake_up: wake_up(&o.wake_up)?,
        sigtrap_on_sample: None,
        timer: timer(&o.timer)?,
        pause_aux: b(o.pause_aux),
    })
}

/// Options of a group member (sibling).
pub fn to_sibling_opts(o: &NativeOpts) -> Result<sibling::Opts> {
    check_silent_gates(o)?;
    let sf = o.stat_format.as_ref();
    Ok(sibling::Opts {
        exclude: privs(&o.exclude),
        inherit: inherit(&o.inherit)?,
        on_execve: on_execve(&o.on_execve)?,
        stat_format: sibling::StatFormat {
            id: sf.is_some_and(|s| b(s.id)),
            time_enabled: sf.is_some_and(|s| b(s.time_enabled)),
            time_running: sf.is_some_and(|s| b(s.time_running)),
            lost_records: sf.is_some_and(|s| b(s.lost_records)),
        },
        enable: b(o.enable),
        sample_on: sample_on(&o.sample_on)?,
        sample_skid: sample_skid(&o.sample_skid)?,
        sample_format: sample_format(&o.sample_format)?,
        extra_record: extra_record(&o.extra_record),
        record_id_all: b(o.record_id_all),
        record_id_format: record_id_format(&o.record_id_format),
        wake_up: wake_up(&o.wake_up)?,
        aux_output: b(o.aux_output),
        on_sample: OnSample {
            aux: match o.aux_action.as_deref() {
                None => None,
                Some("pause") => Some(AuxTracer::Pause),
                Some("resume") => Some(AuxTracer::Resume),
                Some(a) => return Err(invalid(format!("auxAction: unknown value {a:?}"))),
            },
            sigtrap: None,
        },
    })
}

/// Resolves a target and calls `open` with it. A cgroup target opens the
/// cgroup directory for the duration of the call (the kernel takes its own reference).
pub fn with_target<T>(t: &NativeTarget, open: impl FnOnce(Target) -> Result<T>) -> Result<T> {
    if let Some(path) = &t.cgroup {
        if t.cpu < 0 {
            return Err(invalid("a cgroup target needs a cpu"));
        }
        // A cgroup is a directory: O_DIRECTORY fails fast (ENOTDIR) on a FIFO, device or
        // socket, and O_NONBLOCK makes sure open(2) itself never waits.
        use std::os::unix::fs::OpenOptionsExt;
        let file: File = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .op("open")?;
        return open((Cgroup(&file), Cpu(t.cpu as u32)).into());
    }
    let target: Target = match (t.pid, t.cpu) {
        (pid, cpu) if pid >= 0 && cpu >= 0 => (Proc(pid as u32), Cpu(cpu as u32)).into(),
        (pid, _) if pid >= 0 => (Proc(pid as u32), Cpu::ALL).into(),
        (_, cpu) if cpu >= 0 => (Proc::ALL, Cpu(cpu as u32)).into(),
        _ => return Err(invalid("pid 'all' needs a specific cpu")),
    };
    open(target)
}
