//! The mmap2 fields of mmap records.

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;

use super::common::Bytes;

#[napi(object, object_from_js = false)]
pub struct JsDevice {
    pub major: u32,
    pub minor: u32,
    pub inode: BigInt,
    pub inode_gen: BigInt,
}

/// mmap2 fields (with `extraRecord.mmap.ext`).
#[napi(object, object_from_js = false)]
pub struct JsMmapExt {
    pub prot: u32,
    pub flags: u32,
    pub device: Option<JsDevice>,
    #[napi(ts_type = "Buffer")]
    pub build_id: Option<Bytes>,
}
