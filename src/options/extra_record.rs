//! `extraRecord`: the non-sample records generated into a sampler's ring.

use napi_derive::napi;
use perf_event_open::config::{ExtraRecord, Mmap, UseBuildId};

use super::flag;

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

pub(super) fn extra_record(v: &Option<NativeExtraRecord>) -> ExtraRecord {
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
