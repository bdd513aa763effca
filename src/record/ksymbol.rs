//! The kinds and states of kernel symbol and BPF event records.

use napi_derive::napi;
use perf_event_open::sample::record as rec;

/// Kind of a kernel symbol (PERF_RECORD_KSYMBOL_TYPE_*).
#[napi(string_enum)]
pub enum KsymbolType {
    #[napi(value = "bpf")]
    Bpf,
    #[napi(value = "outOfLine")]
    OutOfLine,
    #[napi(value = "unknown")]
    Unknown,
}

impl From<&rec::ksymbol::Type> for KsymbolType {
    fn from(v: &rec::ksymbol::Type) -> Self {
        match v {
            rec::ksymbol::Type::Bpf => Self::Bpf,
            rec::ksymbol::Type::OutOfLine => Self::OutOfLine,
            rec::ksymbol::Type::Unknown => Self::Unknown,
        }
    }
}

/// Whether a kernel symbol was registered or unregistered.
#[napi(string_enum)]
pub enum KsymbolState {
    #[napi(value = "reg")]
    Reg,
    #[napi(value = "unreg")]
    Unreg,
}

impl From<&rec::ksymbol::State> for KsymbolState {
    fn from(v: &rec::ksymbol::State) -> Self {
        match v {
            rec::ksymbol::State::Reg => Self::Reg,
            rec::ksymbol::State::Unreg => Self::Unreg,
        }
    }
}

/// Kind of a BPF event (PERF_BPF_EVENT_*).
#[napi(string_enum)]
pub enum BpfEventType {
    #[napi(value = "progLoad")]
    ProgLoad,
    #[napi(value = "progUnload")]
    ProgUnload,
    #[napi(value = "unknown")]
    Unknown,
}

impl From<&rec::bpf::Type> for BpfEventType {
    fn from(v: &rec::bpf::Type) -> Self {
        match v {
            rec::bpf::Type::ProgLoad => Self::ProgLoad,
            rec::bpf::Type::ProgUnload => Self::ProgUnload,
            rec::bpf::Type::Unknown => Self::Unknown,
        }
    }
}
