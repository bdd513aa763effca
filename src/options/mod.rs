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

mod enums;
mod exclude;
mod extra_record;
mod lbr;
mod record_id_format;
mod sample_format;
mod sample_on;
mod target;
mod wake_up;

use napi_derive::napi;
use perf_event_open::config::sibling::{AuxTracer, OnSample, Opts as SiblingOpts, StatFormat as SiblingStatFormat};
use perf_event_open::config::{
    Clock, ExtraRecord, Inherit, OnExecve, Opts, Priv, RecordIdFormat, SampleFormat, SampleOn, SampleSkid, StatFormat, WakeUp,
};

use crate::error::Result;
use enums::{NativeAuxAction, NativeInherit, NativeOnExecve, NativeSampleSkid, NativeTimer};
use exclude::{privs, NativePriv};
use extra_record::{extra_record, NativeExtraRecord};
use record_id_format::{record_id_format, NativeRecordIdFormat};
use sample_format::{sample_format, NativeSampleFormat};
use sample_on::{sample_on, NativeSampleOn};
pub use target::{with_target, NativeTarget};
use wake_up::{wake_up, NativeWakeUp};

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

/// An unset boolean option is `false`.
fn flag(v: Option<bool>) -> bool {
    v.unwrap_or(false)
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
