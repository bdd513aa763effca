//! JS options → `perf_event_attr` (through the crate's `Opts`): the one place
//! that maps the options object onto the crate's types, for leaders
//! (`config::Opts`) and siblings (`config::sibling::Opts`) alike.
//!
//! The `Native*` structs below are the source of the facade's option types:
//! `lib/events/options.ts` derives its public types from them (field names, docs,
//! "Since Linux X.Y" notes) and checks its validation table against them, so
//! a field added here and not there is a compile error.
//!
//! Validation happens once, in the facade (`lib/events/options.ts`): it checks
//! types, ranges and exclusive choices (`sampleOn`, `wakeUp.on`) and names the
//! offending field. This module only converts; where a value cannot be
//! represented it still fails with `ERR_INVALID_ARG` rather than guess.

use std::fs::File;

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::config::sibling::{AuxTracer, OnSample, Opts as SiblingOpts, StatFormat as SiblingStatFormat};
use perf_event_open::config::{
    BranchType, CallChain, Cgroup, Clock, Cpu, EntryFormat, ExtraRecord, Inherit, Lbr, Mmap, OnExecve, Opts, Priv, Proc, RecordIdFormat,
    RegsMask, Repr, SampleFormat, SampleOn, SampleSkid, Size, StatFormat, Target, TargetPriv, UseBuildId, WakeUp, WakeUpOn,
};

use crate::error::{invalid, IoContext, Result};
use crate::event::u64_of;

/// A JS string enum (camelCase values) mirroring one of the crate's enums,
/// with conversions both ways written as exhaustive `match`es: a variant
/// added to the crate's enum is a compile error here, not a silent gap.
/// Docs are written `#[doc = "…"]` in the invocations: napi-rs reads a `///`
/// passed through `macro_rules!` as a raw string (`r"…"`) into index.d.ts.
macro_rules! string_enum {
    ($(#[$($doc:tt)*])* $name:ident <=> $crate_enum:ident { $($(#[$($vdoc:tt)*])* $variant:ident),+ $(,)? }) => {
        $(#[$($doc)*])*
        #[napi(string_enum = "camelCase")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$($vdoc)*])* $variant),+
        }
        impl From<$name> for $crate_enum {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => $crate_enum::$variant),+
                }
            }
        }
        impl From<$crate_enum> for $name {
            fn from(v: $crate_enum) -> Self {
                match v {
                    $($crate_enum::$variant => $name::$variant),+
                }
            }
        }
    };
}

string_enum! {
    #[doc = "Which children inherit the counter."]
    NativeInherit <=> Inherit {
        #[doc = "New threads and processes created after the counter (not existing ones)."]
        NewChild,
        #[doc = "New threads only. Since Linux 5.13."]
        NewThread,
    }
}

string_enum! {
    #[doc = "What happens to the counter on execve."]
    NativeOnExecve <=> OnExecve {
        #[doc = "Enable the counter (enable_on_exec)."]
        Enable,
        #[doc = "Remove the counter (remove_on_exec). Since Linux 5.13."]
        Remove,
    }
}

string_enum! {
    #[doc = "Skid constraint of sample addresses (precise_ip)."]
    NativeSampleSkid <=> SampleSkid {
        #[doc = "Any skid (precise_ip 0, the default)."]
        Arbitrary,
        #[doc = "Constant skid (precise_ip 1)."]
        Const,
        #[doc = "Zero skid requested (precise_ip 2)."]
        ReqZero,
        #[doc = "Zero skid required (precise_ip 3)."]
        Zero,
    }
}

string_enum! {
    #[doc = "How sample weights are represented."]
    NativeWeight <=> Repr {
        #[doc = "One u64 (PERF_SAMPLE_WEIGHT)."]
        Full,
        #[doc = "Separate variables (PERF_SAMPLE_WEIGHT_STRUCT). Since Linux 5.12."]
        Vars,
    }
}

string_enum! {
    #[doc = "Clock of record timestamps (use_clockid)."]
    NativeTimer <=> Clock {
        #[doc = "CLOCK_TAI: wall-clock time without leap seconds."]
        Tai,
        #[doc = "CLOCK_REALTIME: settable wall-clock time."]
        RealTime,
        #[doc = "CLOCK_BOOTTIME: monotonic, including suspend."]
        BootTime,
        #[doc = "CLOCK_MONOTONIC: monotonic, excluding suspend."]
        Monotonic,
        #[doc = "CLOCK_MONOTONIC_RAW: monotonic, without NTP adjustments."]
        MonotonicRaw,
    }
}

string_enum! {
    #[doc = "What a member's overflow does to the leader's AUX tracer. Since Linux 6.13."]
    NativeAuxAction <=> AuxTracer {
        #[doc = "Pause the AUX tracer."]
        Pause,
        #[doc = "Resume the AUX tracer."]
        Resume,
    }
}

/// Which privilege levels NOT to count. Event-string modifiers (`:u`, `:k`…)
/// fill these; explicit options win.
#[napi(object, object_to_js = false)]
pub struct NativePriv {
    /// Do not count user space.
    pub user: Option<bool>,
    /// Do not count the kernel. With `perf_event_paranoid >= 2`, unprivileged users must set this.
    pub kernel: Option<bool>,
    /// Do not count the hypervisor.
    pub hv: Option<bool>,
    /// Do not count in host mode (KVM).
    pub host: Option<bool>,
    /// Do not count in guest mode (KVM).
    pub guest: Option<bool>,
    /// Do not count while the CPU is idle (CPU-wide counters).
    pub idle: Option<bool>,
}

/// Which values `stat()` reads. Default: `{ id: true, timeEnabled: true, timeRunning: true }`.
#[napi(object, object_to_js = false)]
pub struct NativeStatFormat {
    /// The event's kernel id (PERF_FORMAT_ID).
    pub id: Option<bool>,
    /// Time the counter was enabled, in ns (PERF_FORMAT_TOTAL_TIME_ENABLED). Needed for `scaled`/`multiplexed`.
    pub time_enabled: Option<bool>,
    /// Time the counter was on the PMU, in ns (PERF_FORMAT_TOTAL_TIME_RUNNING).
    pub time_running: Option<bool>,
    /// Records lost by this event's sampler (PERF_FORMAT_LOST). Since Linux 6.0.
    pub lost_records: Option<bool>,
    /// Group read (PERF_FORMAT_GROUP). Set by `CounterGroup`, not an option.
    pub siblings: Option<bool>,
}

/// Sample on every `count` events (a period) or `freq` times a second (the kernel adjusts the period).
#[napi(object, object_to_js = false)]
pub struct NativeSampleOn {
    /// Samples per second.
    pub freq: Option<BigInt>,
    /// Events per sample (the period).
    pub count: Option<BigInt>,
}

/// Call chain options of samples.
#[napi(object, object_to_js = false)]
pub struct NativeCallChain {
    /// Leave user frames out.
    pub exclude_user: Option<bool>,
    /// Leave kernel frames out.
    pub exclude_kernel: Option<bool>,
    /// Unwind user stacks later, in a faultable context (deferred call chains). Since Linux 6.19.
    pub defer_user: Option<bool>,
    /// At most this many frames, 0 to 65535 (`kernel.perf_event_max_stack` caps it). Since Linux 4.8.
    pub max_stack_frames: Option<u32>,
}

/// Privilege levels of branch targets to record (default: the event's).
#[napi(object, object_to_js = false)]
pub struct NativeTargetPriv {
    /// User-space branch targets.
    pub user: Option<bool>,
    /// Kernel branch targets.
    pub kernel: Option<bool>,
    /// Hypervisor branch targets.
    pub hv: Option<bool>,
}

/// Branch kinds to record.
#[napi(object, object_to_js = false)]
pub struct NativeBranchType {
    /// Any branch.
    pub any: Option<bool>,
    /// Any return.
    pub any_return: Option<bool>,
    /// Conditional branches.
    pub cond: Option<bool>,
    /// Indirect jumps. Since Linux 4.2.
    pub ind_jump: Option<bool>,
    /// Call stack (LBR call-stack mode). Since Linux 4.1.
    pub call_stack: Option<bool>,
    /// Direct calls. Since Linux 4.4.
    pub call: Option<bool>,
    /// Indirect calls.
    pub ind_call: Option<bool>,
    /// Any call.
    pub any_call: Option<bool>,
    /// Branches in a transaction.
    pub in_tx: Option<bool>,
    /// Branches outside transactions.
    pub no_tx: Option<bool>,
    /// Transaction aborts.
    pub abort_tx: Option<bool>,
}

/// Fields of each branch entry.
#[napi(object, object_to_js = false)]
pub struct NativeEntryFormat {
    /// Branch flags.
    pub flags: Option<bool>,
    /// Cycle counts.
    pub cycles: Option<bool>,
    /// Event counters. Since Linux 6.8.
    pub counter: Option<bool>,
    /// Branch type. Since Linux 4.14.
    pub branch_type: Option<bool>,
    /// Branch privilege level. Since Linux 6.1.
    pub branch_priv: Option<bool>,
}

/// Branch stack (LBR) sampling options. Needs hardware support (Intel LBR, AMD BRS, Arm BRBE).
#[napi(object, object_to_js = false)]
pub struct NativeLbr {
    /// Privilege levels of branch targets to record (default: the event's).
    pub target_priv: Option<NativeTargetPriv>,
    /// Branch kinds to record.
    pub branch_type: Option<NativeBranchType>,
    /// Save the hardware index of the newest entry. Since Linux 5.7.
    pub hw_index: Option<bool>,
    /// Fields of each entry.
    pub entry_format: Option<NativeEntryFormat>,
}

/// What each sample record carries (PERF_SAMPLE_*).
#[napi(object, object_to_js = false)]
pub struct NativeSampleFormat {
    /// Counter values at sample time (PERF_SAMPLE_READ).
    pub stat: Option<bool>,
    /// Sample period (PERF_SAMPLE_PERIOD).
    pub period: Option<bool>,
    /// cgroup id (PERF_SAMPLE_CGROUP). Since Linux 5.7.
    pub cgroup: Option<bool>,
    /// Call chain (PERF_SAMPLE_CALLCHAIN).
    pub call_chain: Option<NativeCallChain>,
    /// Bytes of user stack to copy into each sample (PERF_SAMPLE_STACK_USER); a multiple of 8.
    pub user_stack: Option<u32>,
    /// Data address (PERF_SAMPLE_ADDR), for memory events.
    pub data_addr: Option<bool>,
    /// Physical data address (PERF_SAMPLE_PHYS_ADDR). Since Linux 4.14; needs kernel access:
    /// `kernel.perf_event_paranoid` <= 1, CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN.
    pub data_phys_addr: Option<bool>,
    /// Data page size (PERF_SAMPLE_DATA_PAGE_SIZE). Since Linux 5.11.
    pub data_page_size: Option<bool>,
    /// Data source (PERF_SAMPLE_DATA_SRC).
    pub data_source: Option<bool>,
    /// Instruction pointer (PERF_SAMPLE_IP).
    pub code_addr: Option<bool>,
    /// Code page size (PERF_SAMPLE_CODE_PAGE_SIZE). Since Linux 5.11.
    pub code_page_size: Option<bool>,
    /// User registers to dump (bit mask of arch/<arch>/include/uapi/asm/perf_regs.h).
    pub user_regs: Option<BigInt>,
    /// Registers at interrupt to dump (same mask layout).
    pub intr_regs: Option<BigInt>,
    /// Raw tracepoint payload (PERF_SAMPLE_RAW). On tracepoints it needs `kernel.perf_event_paranoid` -1,
    /// CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN.
    pub raw: Option<bool>,
    /// Branch stack (PERF_SAMPLE_BRANCH_STACK).
    pub lbr: Option<NativeLbr>,
    /// Bytes of AUX area snapshot per sample (PERF_SAMPLE_AUX). Since Linux 5.5.
    pub aux: Option<u32>,
    /// Transaction abort info (PERF_SAMPLE_TRANSACTION).
    pub txn: Option<bool>,
    /// Sample weight: `'full'` (PERF_SAMPLE_WEIGHT) or `'vars'` (PERF_SAMPLE_WEIGHT_STRUCT, since Linux 5.12).
    pub weight: Option<NativeWeight>,
}

/// mmap2 records (inode or build id).
#[napi(object, object_to_js = false)]
pub struct NativeMmapExt {
    /// Build id instead of inode data. Since Linux 5.12.
    pub build_id: Option<bool>,
}

/// mmap records: `code` for executable maps, `data` for others, `ext` for mmap2.
#[napi(object, object_to_js = false)]
pub struct NativeMmap {
    /// Executable mappings.
    pub code: Option<bool>,
    /// Data mappings.
    pub data: Option<bool>,
    /// mmap2 records (inode or, since Linux 5.12, build id).
    pub ext: Option<NativeMmapExt>,
}

/// Extra (non-sample) records to generate into the sampler's ring.
#[napi(object, object_to_js = false)]
pub struct NativeExtraRecord {
    /// fork/exit records.
    pub task: Option<bool>,
    /// read records on exit of inherited children (inherit_stat).
    pub read: Option<bool>,
    /// comm records (also enables `task`).
    pub comm: Option<bool>,
    /// mmap records.
    pub mmap: Option<NativeMmap>,
    /// cgroup records. Since Linux 5.7.
    pub cgroup: Option<bool>,
    /// ksymbol records. Since Linux 5.1.
    pub ksymbol: Option<bool>,
    /// BPF event records. Since Linux 5.1.
    pub bpf_event: Option<bool>,
    /// text poke records (kernel text changes). Since Linux 5.9; needs privilege (root or CAP_PERFMON).
    pub text_poke: Option<bool>,
    /// context switch records. Since Linux 4.3.
    pub ctx_switch: Option<bool>,
    /// namespaces records. Since Linux 4.12; needs CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN, whatever the paranoid level.
    pub namespaces: Option<bool>,
    /// deferred call chain records. Since Linux 6.19.
    pub call_chain_deferred: Option<bool>,
}

/// Which identity fields every record carries (PERF_SAMPLE_ID, STREAM_ID, CPU, TID, TIME).
#[napi(object, object_to_js = false)]
pub struct NativeRecordIdFormat {
    /// Event id (PERF_SAMPLE_ID).
    pub id: Option<bool>,
    /// Stream id (PERF_SAMPLE_STREAM_ID).
    pub stream_id: Option<bool>,
    /// CPU (PERF_SAMPLE_CPU).
    pub cpu: Option<bool>,
    /// pid and tid (PERF_SAMPLE_TID).
    pub task: Option<bool>,
    /// Timestamp (PERF_SAMPLE_TIME), on the `timer` clock.
    pub time: Option<bool>,
}

/// Every `samples` samples, or every `bytes` bytes (watermark): one of them.
#[napi(object, object_to_js = false)]
pub struct NativeWakeUpOn {
    /// Bytes of records (watermark).
    pub bytes: Option<u32>,
    /// Samples.
    pub samples: Option<u32>,
}

/// When a waiting sampler is woken.
#[napi(object, object_to_js = false)]
pub struct NativeWakeUp {
    /// Every `samples` samples, or every `bytes` bytes (watermark).
    pub on: Option<NativeWakeUpOn>,
    /// Every N bytes of AUX data. Since Linux 4.1.
    pub on_aux_bytes: Option<u32>,
}

/// Options of a counter or of a group member, mirroring the crate's `Opts` in camelCase.
#[napi(object, object_to_js = false)]
pub struct NativeOpts {
    /// Privilege levels not to count.
    pub exclude: Option<NativePriv>,
    /// Leaders only: this group must be the only one on the PMU while it runs (exclusive). Hardware PMUs only.
    pub exclusive: Option<bool>,
    /// Leaders only: keep on the PMU at all times; if it cannot be, reads fail with ERR_COUNTER_ERROR_STATE (pinned).
    pub pin: Option<bool>,
    /// Children inherit the counter: `'newChild'` (new threads and processes created after the counter)
    /// or `'newThread'` (threads only, since Linux 5.13). Group reads (`CounterGroup`) cannot be combined
    /// with inherit.
    pub inherit: Option<NativeInherit>,
    /// On execve: `'enable'` the counter, or `'remove'` it (since Linux 5.13).
    pub on_execve: Option<NativeOnExecve>,
    /// Which values `stat()` reads.
    pub stat_format: Option<NativeStatFormat>,
    /// Start counting as soon as the counter is opened. Counters default to disabled until `enable()`;
    /// group members default to enabled, so they count whenever their leader is enabled.
    pub enable: Option<bool>,
    /// Sampling period or frequency (for samplers). Frequencies above `kernel.perf_event_max_sample_rate` fail with EINVAL.
    pub sample_on: Option<NativeSampleOn>,
    /// Skid constraint (precise_ip): `'arbitrary'` (default), `'const'`, `'reqZero'`, `'zero'`.
    pub sample_skid: Option<NativeSampleSkid>,
    /// Fields of sample records.
    pub sample_format: Option<NativeSampleFormat>,
    /// Extra record types.
    pub extra_record: Option<NativeExtraRecord>,
    /// Put the record id fields into every record, not only samples (sample_id_all).
    pub record_id_all: Option<bool>,
    /// Record id fields.
    pub record_id_format: Option<NativeRecordIdFormat>,
    /// Sampler wake-up policy.
    pub wake_up: Option<NativeWakeUp>,
    /// Leaders only: clock of record timestamps (use_clockid). Since Linux 4.1.
    pub timer: Option<NativeTimer>,
    /// Leaders only: create the AUX tracer paused. Since Linux 6.13.
    pub pause_aux: Option<bool>,
    /// Group members only: emit this member's data into the leader's AUX area (aux_output). Since Linux 5.4.
    pub aux_output: Option<bool>,
    /// Group members only: on overflow, pause or resume the leader's AUX tracer. Since Linux 6.13.
    pub aux_action: Option<NativeAuxAction>,
}

/// Where to count, validated by the facade. `-1` means all.
#[napi(object, object_to_js = false)]
pub struct NativeTarget {
    /// Thread or process id, 0 for the calling thread, -1 for every process (needs a cpu).
    pub pid: i32,
    /// CPU number, or -1 for any CPU.
    pub cpu: i32,
    /// cgroup directory path (then `pid` is ignored and `cpu` is needed).
    pub cgroup: Option<String>,
}

/// An unset boolean option is `false`.
fn flag(v: Option<bool>) -> bool {
    v.unwrap_or(false)
}

fn privs(p: &Option<NativePriv>) -> Priv {
    p.as_ref().map_or_else(Priv::default, |p| Priv {
        user: flag(p.user),
        kernel: flag(p.kernel),
        hv: flag(p.hv),
        host: flag(p.host),
        guest: flag(p.guest),
        idle: flag(p.idle),
    })
}

/// The facade passes exactly one of `freq`/`count` (it rejects both).
fn sample_on(v: &Option<NativeSampleOn>) -> Result<SampleOn> {
    Ok(match v {
        Some(NativeSampleOn { freq: Some(f), .. }) => SampleOn::Freq(u64_of("sampleOn.freq", f)?),
        Some(NativeSampleOn { count: Some(c), .. }) => SampleOn::Count(u64_of("sampleOn.count", c)?),
        _ => SampleOn::default(),
    })
}

fn lbr(l: &NativeLbr) -> Lbr {
    let target_priv = l.target_priv.as_ref().map(|t| TargetPriv { user: flag(t.user), kernel: flag(t.kernel), hv: flag(t.hv) });
    let branch_type = l.branch_type.as_ref().map_or_else(BranchType::default, |t| BranchType {
        any: flag(t.any),
        any_return: flag(t.any_return),
        cond: flag(t.cond),
        ind_jump: flag(t.ind_jump),
        call_stack: flag(t.call_stack),
        call: flag(t.call),
        ind_call: flag(t.ind_call),
        any_call: flag(t.any_call),
        in_tx: flag(t.in_tx),
        no_tx: flag(t.no_tx),
        abort_tx: flag(t.abort_tx),
    });
    let entry_format = l.entry_format.as_ref().map_or_else(EntryFormat::default, |e| EntryFormat {
        flags: flag(e.flags),
        cycles: flag(e.cycles),
        counter: flag(e.counter),
        branch_type: flag(e.branch_type),
        branch_priv: flag(e.branch_priv),
    });
    Lbr { target_priv, branch_type, hw_index: flag(l.hw_index), entry_format }
}

fn sample_format(v: &Option<NativeSampleFormat>) -> Result<SampleFormat> {
    let Some(f) = v else { return Ok(SampleFormat::default()) };
    let call_chain = f.call_chain.as_ref().map(|c| CallChain {
        exclude_user: flag(c.exclude_user),
        exclude_kernel: flag(c.exclude_kernel),
        defer_user: flag(c.defer_user),
        // The facade checked 0..=65535.
        max_stack_frames: c.max_stack_frames.unwrap_or(0).min(u16::MAX as u32) as u16,
    });
    let regs =
        |name: &str, r: &Option<BigInt>| -> Result<Option<RegsMask>> { r.as_ref().map(|r| u64_of(name, r).map(RegsMask)).transpose() };
    Ok(SampleFormat {
        stat: flag(f.stat),
        period: flag(f.period),
        cgroup: flag(f.cgroup),
        call_chain,
        user_stack: f.user_stack.map(Size),
        data_addr: flag(f.data_addr),
        data_phys_addr: flag(f.data_phys_addr),
        data_page_size: flag(f.data_page_size),
        data_source: flag(f.data_source),
        code_addr: flag(f.code_addr),
        code_page_size: flag(f.code_page_size),
        user_regs: regs("sampleFormat.userRegs", &f.user_regs)?,
        intr_regs: regs("sampleFormat.intrRegs", &f.intr_regs)?,
        raw: flag(f.raw),
        lbr: f.lbr.as_ref().map(lbr),
        aux: f.aux.map(Size),
        txn: flag(f.txn),
        weight: f.weight.map(Repr::from),
    })
}

fn extra_record(v: &Option<NativeExtraRecord>) -> ExtraRecord {
    let Some(e) = v else { return ExtraRecord::default() };
    let mmap = e.mmap.as_ref().map_or_else(Mmap::default, |m| Mmap {
        code: flag(m.code),
        data: flag(m.data),
        ext: m.ext.as_ref().map(|x| UseBuildId(flag(x.build_id))),
    });
    ExtraRecord {
        task: flag(e.task),
        read: flag(e.read),
        comm: flag(e.comm),
        mmap,
        cgroup: flag(e.cgroup),
        ksymbol: flag(e.ksymbol),
        bpf_event: flag(e.bpf_event),
        text_poke: flag(e.text_poke),
        ctx_switch: flag(e.ctx_switch),
        namespaces: flag(e.namespaces),
        call_chain_deferred: flag(e.call_chain_deferred),
    }
}

fn record_id_format(v: &Option<NativeRecordIdFormat>) -> RecordIdFormat {
    v.as_ref().map_or_else(RecordIdFormat::default, |r| RecordIdFormat {
        id: flag(r.id),
        stream_id: flag(r.stream_id),
        cpu: flag(r.cpu),
        task: flag(r.task),
        time: flag(r.time),
    })
}

/// The facade passes at most one of `bytes`/`samples` (it rejects both).
fn wake_up(v: &Option<NativeWakeUp>) -> WakeUp {
    let Some(w) = v else { return WakeUp::default() };
    let on = match &w.on {
        Some(NativeWakeUpOn { bytes: Some(n), .. }) => WakeUpOn::Bytes(*n),
        Some(NativeWakeUpOn { samples: Some(n), .. }) => WakeUpOn::Samples(*n),
        _ => WakeUpOn::default(),
    };
    WakeUp { on, on_aux_bytes: w.on_aux_bytes.unwrap_or(0) }
}

/// Defensive checks for options whose gating the crate does not report
/// (it silently drops them below the Linux version that added them).
fn check_silent_gates(o: &NativeOpts) -> Result<()> {
    let defer = o.sample_format.as_ref().and_then(|f| f.call_chain.as_ref()).is_some_and(|c| flag(c.defer_user));
    if defer && !cfg!(feature = "linux-6.19") {
        return Err(napi::Error::new("ERR_UNSUPPORTED_BY_BUILD".to_owned(), "option|0|sampleFormat.callChain.deferUser".to_owned()));
    }
    Ok(())
}

/// The fields that leaders and siblings share, converted once.
struct Common {
    exclude: Priv,
    inherit: Option<Inherit>,
    on_execve: Option<OnExecve>,
    enable: bool,
    sample_on: SampleOn,
    sample_skid: SampleSkid,
    sample_format: SampleFormat,
    extra_record: ExtraRecord,
    record_id_all: bool,
    record_id_format: RecordIdFormat,
    wake_up: WakeUp,
    stat_id: bool,
    stat_time_enabled: bool,
    stat_time_running: bool,
    stat_lost_records: bool,
}

fn common(o: &NativeOpts) -> Result<Common> {
    check_silent_gates(o)?;
    let stat = |f: fn(&NativeStatFormat) -> Option<bool>| o.stat_format.as_ref().is_some_and(|s| flag(f(s)));
    Ok(Common {
        exclude: privs(&o.exclude),
        inherit: o.inherit.map(Inherit::from),
        on_execve: o.on_execve.map(OnExecve::from),
        enable: flag(o.enable),
        sample_on: sample_on(&o.sample_on)?,
        sample_skid: o.sample_skid.map_or(SampleSkid::Arbitrary, SampleSkid::from),
        sample_format: sample_format(&o.sample_format)?,
        extra_record: extra_record(&o.extra_record),
        record_id_all: flag(o.record_id_all),
        record_id_format: record_id_format(&o.record_id_format),
        wake_up: wake_up(&o.wake_up),
        stat_id: stat(|s| s.id),
        stat_time_enabled: stat(|s| s.time_enabled),
        stat_time_running: stat(|s| s.time_running),
        stat_lost_records: stat(|s| s.lost_records),
    })
}

/// `$opts { <the common fields from $c>, $own fields }`, and its `$stat { … }` the same way: the
/// crate's leader and sibling structs have the same common fields under different types.
macro_rules! with_common {
    ($opts:ident, $stat:ident, $c:expr, { $($stat_field:ident: $stat_value:expr),* }, { $($field:ident: $value:expr),* $(,)? }) => {{
        let c: Common = $c;
        $opts {
            exclude: c.exclude,
            inherit: c.inherit,
            on_execve: c.on_execve,
            stat_format: $stat {
                id: c.stat_id,
                time_enabled: c.stat_time_enabled,
                time_running: c.stat_time_running,
                lost_records: c.stat_lost_records,
                $($stat_field: $stat_value),*
            },
            enable: c.enable,
            sample_on: c.sample_on,
            sample_skid: c.sample_skid,
            sample_format: c.sample_format,
            extra_record: c.extra_record,
            record_id_all: c.record_id_all,
            record_id_format: c.record_id_format,
            wake_up: c.wake_up,
            $($field: $value),*
        }
    }};
}

/// Options of a standalone counter or a group leader.
pub fn to_opts(o: &NativeOpts) -> Result<Opts> {
    Ok(with_common!(Opts, StatFormat, common(o)?, { siblings: o.stat_format.as_ref().is_some_and(|s| flag(s.siblings)) }, {
        only_group: flag(o.exclusive),
        pin_on_pmu: flag(o.pin),
        sigtrap_on_sample: None,
        timer: o.timer.map(Clock::from),
        pause_aux: flag(o.pause_aux),
    }))
}

/// Options of a group member (sibling).
pub fn to_sibling_opts(o: &NativeOpts) -> Result<SiblingOpts> {
    Ok(with_common!(SiblingOpts, SiblingStatFormat, common(o)?, {}, {
        aux_output: flag(o.aux_output),
        on_sample: OnSample { aux: o.aux_action.map(AuxTracer::from), sigtrap: None },
    }))
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
