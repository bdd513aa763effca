//! The namespace links of namespaces records.

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::sample::record as rec;

use super::common::big;

#[napi(object, object_from_js = false)]
pub struct JsNamespace {
    pub dev: BigInt,
    pub inode: BigInt,
}

pub(super) fn ns(l: &rec::ns::LinkInfo) -> JsNamespace {
    JsNamespace { dev: big(l.dev), inode: big(l.inode) }
}
