//! What every record shares: Buffers, bigints and strings, the task and
//! record id fields, counter values, and the privilege mark.

use std::ffi::CString;

use napi::bindgen_prelude::{BigInt, ToNapiValue, TypeName, ValueType};
use napi::sys;
use napi_derive::napi;
use perf_event_open::count::Stat;
use perf_event_open::sample::record::{Priv, RecordId, Task};

/// Bytes that become a Node.js Buffer holding a copy (napi_create_buffer_copy).
pub struct Bytes(pub Vec<u8>);

impl TypeName for Bytes {
    fn type_name() -> &'static str {
        "Buffer"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Bytes {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut data = std::ptr::null_mut();
        let mut out = std::ptr::null_mut();
        let status = unsafe { sys::napi_create_buffer_copy(env, val.0.len(), val.0.as_ptr().cast(), &mut data, &mut out) };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(napi::Status::GenericFailure, "napi_create_buffer_copy failed"));
        }
        Ok(out)
    }
}

pub(super) fn big(v: u64) -> BigInt {
    BigInt::from(v)
}

pub(super) fn text(c: &CString) -> String {
    String::from_utf8_lossy(c.to_bytes()).into_owned()
}

#[napi(object, object_from_js = false)]
pub struct JsTask {
    pub pid: u32,
    pub tid: u32,
}

pub(super) fn task(t: &Task) -> JsTask {
    JsTask { pid: t.pid, tid: t.tid }
}

/// Identity fields selected by `recordIdFormat`.
#[napi(object, object_from_js = false)]
pub struct JsRecordId {
    pub id: Option<BigInt>,
    pub stream_id: Option<BigInt>,
    pub cpu: Option<u32>,
    pub task: Option<JsTask>,
    pub time: Option<BigInt>,
}

pub(super) fn record_id(r: &RecordId) -> JsRecordId {
    JsRecordId { id: r.id.map(big), stream_id: r.stream_id.map(big), cpu: r.cpu, task: r.task.as_ref().map(task), time: r.time.map(big) }
}

#[napi(object, object_from_js = false)]
pub struct JsSiblingValue {
    pub count: BigInt,
    pub id: Option<BigInt>,
    pub lost_records: Option<BigInt>,
}

/// Counter values carried by `read` records and by samples with `sampleFormat.stat`.
#[napi(object, object_from_js = false)]
pub struct JsValues {
    pub count: BigInt,
    pub id: Option<BigInt>,
    pub time_enabled: Option<BigInt>,
    pub time_running: Option<BigInt>,
    pub lost_records: Option<BigInt>,
    pub siblings: Vec<JsSiblingValue>,
}

pub(super) fn values(s: &Stat) -> JsValues {
    JsValues {
        count: big(s.count),
        id: s.id.map(big),
        time_enabled: s.time_enabled.map(big),
        time_running: s.time_running.map(big),
        lost_records: s.lost_records.map(big),
        siblings: s
            .siblings
            .iter()
            .map(|x| JsSiblingValue { count: big(x.count), id: x.id.map(big), lost_records: x.lost_records.map(big) })
            .collect(),
    }
}

/// Privilege level the kernel marked a record with (PERF_RECORD_MISC_CPUMODE).
#[napi(string_enum)]
pub enum RecordPriv {
    #[napi(value = "user")]
    User,
    #[napi(value = "kernel")]
    Kernel,
    #[napi(value = "hv")]
    Hv,
    #[napi(value = "guestUser")]
    GuestUser,
    #[napi(value = "guestKernel")]
    GuestKernel,
    #[napi(value = "unknown")]
    Unknown,
}

impl From<&Priv> for RecordPriv {
    fn from(v: &Priv) -> Self {
        match v {
            Priv::User => Self::User,
            Priv::Kernel => Self::Kernel,
            Priv::Hv => Self::Hv,
            Priv::GuestUser => Self::GuestUser,
            Priv::GuestKernel => Self::GuestKernel,
            Priv::Unknown => Self::Unknown,
        }
    }
}
