//! `sampleFormat`: what each sample record carries.

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::config::{CallChain, RegsMask, Repr, SampleFormat, Size};

use super::enums::NativeWeight;
use super::flag;
use super::lbr::{lbr, NativeLbr};
use crate::error::Result;
use crate::event::u64_of;

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

pub(super) fn sample_format(v: &Option<NativeSampleFormat>) -> Result<SampleFormat> {
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
