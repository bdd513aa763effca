//! The branch stack (LBR) of a sample. Fixed value sets: one string enum each,
//! converted explicitly from the crate's enums.

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::sample::record as rec;

use super::common::big;

/// Kind of a branch in the branch stack (PERF_BR_*).
#[napi(string_enum)]
pub enum BranchType {
    #[napi(value = "unknown")]
    Unknown,
    #[napi(value = "cond")]
    Cond,
    #[napi(value = "uncond")]
    Uncond,
    #[napi(value = "ind")]
    Ind,
    #[napi(value = "call")]
    Call,
    #[napi(value = "indCall")]
    IndCall,
    #[napi(value = "ret")]
    Ret,
    #[napi(value = "syscall")]
    Syscall,
    #[napi(value = "sysret")]
    Sysret,
    #[napi(value = "condCall")]
    CondCall,
    #[napi(value = "condRet")]
    CondRet,
    #[napi(value = "eret")]
    Eret,
    #[napi(value = "irq")]
    Irq,
    #[napi(value = "sysErr")]
    SysErr,
    #[napi(value = "noTx")]
    NoTx,
    #[napi(value = "dataFault")]
    DataFault,
    #[napi(value = "alignFault")]
    AlignFault,
    #[napi(value = "instrFault")]
    InstrFault,
    #[napi(value = "arch1")]
    Arch1,
    #[napi(value = "arch2")]
    Arch2,
    #[napi(value = "arch3")]
    Arch3,
    #[napi(value = "arch4")]
    Arch4,
    #[napi(value = "arch5")]
    Arch5,
}

impl From<&rec::sample::BranchType> for BranchType {
    fn from(v: &rec::sample::BranchType) -> Self {
        match v {
            rec::sample::BranchType::Unknown => Self::Unknown,
            rec::sample::BranchType::Cond => Self::Cond,
            rec::sample::BranchType::Uncond => Self::Uncond,
            rec::sample::BranchType::Ind => Self::Ind,
            rec::sample::BranchType::Call => Self::Call,
            rec::sample::BranchType::IndCall => Self::IndCall,
            rec::sample::BranchType::Ret => Self::Ret,
            rec::sample::BranchType::Syscall => Self::Syscall,
            rec::sample::BranchType::Sysret => Self::Sysret,
            rec::sample::BranchType::CondCall => Self::CondCall,
            rec::sample::BranchType::CondRet => Self::CondRet,
            rec::sample::BranchType::Eret => Self::Eret,
            rec::sample::BranchType::Irq => Self::Irq,
            rec::sample::BranchType::SysErr => Self::SysErr,
            rec::sample::BranchType::NoTx => Self::NoTx,
            rec::sample::BranchType::DataFault => Self::DataFault,
            rec::sample::BranchType::AlignFault => Self::AlignFault,
            rec::sample::BranchType::InstrFault => Self::InstrFault,
            rec::sample::BranchType::Arch1 => Self::Arch1,
            rec::sample::BranchType::Arch2 => Self::Arch2,
            rec::sample::BranchType::Arch3 => Self::Arch3,
            rec::sample::BranchType::Arch4 => Self::Arch4,
            rec::sample::BranchType::Arch5 => Self::Arch5,
        }
    }
}

/// Speculation outcome of a branch (PERF_BR_SPEC_*).
#[napi(string_enum)]
pub enum BranchSpec {
    #[napi(value = "na")]
    Na,
    #[napi(value = "wrong")]
    Wrong,
    #[napi(value = "correct")]
    Correct,
    #[napi(value = "noSpecCorrect")]
    NoSpecCorrect,
}

impl From<&rec::sample::BranchSpec> for BranchSpec {
    fn from(v: &rec::sample::BranchSpec) -> Self {
        match v {
            rec::sample::BranchSpec::Na => Self::Na,
            rec::sample::BranchSpec::Wrong => Self::Wrong,
            rec::sample::BranchSpec::Correct => Self::Correct,
            rec::sample::BranchSpec::NoSpecCorrect => Self::NoSpecCorrect,
        }
    }
}

/// Privilege level of a branch target (PERF_BR_PRIV_*).
#[napi(string_enum)]
pub enum BranchPriv {
    #[napi(value = "unknown")]
    Unknown,
    #[napi(value = "user")]
    User,
    #[napi(value = "kernel")]
    Kernel,
    #[napi(value = "hv")]
    Hv,
}

impl From<&rec::sample::BranchPriv> for BranchPriv {
    fn from(v: &rec::sample::BranchPriv) -> Self {
        match v {
            rec::sample::BranchPriv::Unknown => Self::Unknown,
            rec::sample::BranchPriv::User => Self::User,
            rec::sample::BranchPriv::Kernel => Self::Kernel,
            rec::sample::BranchPriv::Hv => Self::Hv,
        }
    }
}

#[napi(object, object_from_js = false)]
pub struct JsBranch {
    pub from: BigInt,
    pub to: BigInt,
    pub mis: bool,
    pub pred: bool,
    pub in_tx: bool,
    pub abort: bool,
    pub cycles: u32,
    pub branch_type: BranchType,
    pub branch_spec: BranchSpec,
    pub branch_priv: BranchPriv,
    pub counter: Option<BigInt>,
}

#[napi(object, object_from_js = false)]
pub struct JsLbr {
    pub hw_index: Option<BigInt>,
    pub entries: Vec<JsBranch>,
}

pub(super) fn lbr(l: &rec::sample::Lbr) -> JsLbr {
    JsLbr {
        hw_index: l.hw_index.map(big),
        entries: l
            .entries
            .iter()
            .map(|e| JsBranch {
                from: big(e.from),
                to: big(e.to),
                mis: e.mis,
                pred: e.pred,
                in_tx: e.in_tx,
                abort: e.abort,
                cycles: e.cycles as u32,
                branch_type: (&e.branch_type).into(),
                branch_spec: (&e.branch_spec).into(),
                branch_priv: (&e.branch_priv).into(),
                counter: e.counter.map(big),
            })
            .collect(),
    }
}
