//! `sampleFormat.lbr`: branch stack (LBR) sampling options.

use napi_derive::napi;
use perf_event_open::config::{BranchType, EntryFormat, Lbr, TargetPriv};

use super::flag;

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

pub(super) fn lbr(l: &NativeLbr) -> Lbr {
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
