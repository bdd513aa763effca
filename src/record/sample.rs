//! The parts of a sample: call chains, registers, transaction info and weight.

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::sample::record as rec;

use super::common::big;

/// One segment of a call chain: the context marker and the instruction pointers under it.
#[napi(object, object_from_js = false)]
pub struct JsCallChain {
    pub context: CallChainContext,
    pub ips: Vec<BigInt>,
    /// For `'userDeferred'`: matches a later `callChainDeferred` record.
    pub cookie: Option<BigInt>,
}

pub(super) fn call_chain(c: &rec::sample::CallChain) -> JsCallChain {
    use rec::sample::CallChain as C;
    use CallChainContext as X;
    let (context, ips, cookie): (X, &[u64], Option<u64>) = match c {
        C::User(v) => (X::User, v, None),
        C::UserDeferred { cookie } => (X::UserDeferred, &[], Some(*cookie)),
        C::Kernel(v) => (X::Kernel, v, None),
        C::Hv(v) => (X::Hv, v, None),
        C::Guest(v) => (X::Guest, v, None),
        C::GuestUser(v) => (X::GuestUser, v, None),
        C::GuestKernel(v) => (X::GuestKernel, v, None),
        C::Unknown(v) => (X::Unknown, v, None),
    };
    JsCallChain { context, ips: ips.iter().copied().map(big).collect(), cookie: cookie.map(big) }
}

/// Registers dumped with a sample, in the order of the mask bits.
#[napi(object, object_from_js = false)]
pub struct JsRegs {
    /// `32` or `64`.
    pub abi: u32,
    pub values: Vec<BigInt>,
}

pub(super) fn regs(r: &(Vec<u64>, rec::sample::Abi)) -> JsRegs {
    JsRegs {
        abi: match r.1 {
            rec::sample::Abi::_32 => 32,
            rec::sample::Abi::_64 => 64,
        },
        values: r.0.iter().copied().map(big).collect(),
    }
}

/// Context of a call-chain segment (the PERF_CONTEXT_* marker before its addresses).
#[napi(string_enum)]
pub enum CallChainContext {
    #[napi(value = "user")]
    User,
    #[napi(value = "userDeferred")]
    UserDeferred,
    #[napi(value = "kernel")]
    Kernel,
    #[napi(value = "hv")]
    Hv,
    #[napi(value = "guest")]
    Guest,
    #[napi(value = "guestUser")]
    GuestUser,
    #[napi(value = "guestKernel")]
    GuestKernel,
    #[napi(value = "unknown")]
    Unknown,
}

#[napi(object, object_from_js = false)]
pub struct JsTxn {
    pub elision: bool,
    pub tx: bool,
    pub is_sync: bool,
    pub is_async: bool,
    pub retry: bool,
    pub conflict: bool,
    pub capacity_read: bool,
    pub capacity_write: bool,
    pub code: u32,
}

/// Sample weight: `full` (PERF_SAMPLE_WEIGHT) or the three `vars` (PERF_SAMPLE_WEIGHT_STRUCT).
#[napi(object, object_from_js = false)]
pub struct JsWeight {
    pub full: Option<BigInt>,
    pub var1: Option<u32>,
    pub var2: Option<u32>,
    pub var3: Option<u32>,
}
