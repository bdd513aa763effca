//! The one place where the crate's records become JS objects. Every u64 is a
//! bigint, byte payloads are Buffers copied out of the ring (never external
//! buffers), C strings are decoded lossily. The TypeScript union of these
//! shapes is generated into index.d.ts from this module.

mod branch;
mod common;
mod data_source;
mod ksymbol;
mod mmap;
mod namespaces;
mod sample;

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;
use perf_event_open::sample::record::{self as rec, Priv, Record, RecordId};

use branch::{lbr, JsLbr};
use common::Bytes;
use common::{big, record_id, task, text, values, JsRecordId, JsTask, JsValues, RecordPriv};
use data_source::{data_source, JsDataSource};
use ksymbol::{BpfEventType, KsymbolState, KsymbolType};
use mmap::{JsDevice, JsMmapExt};
use namespaces::{ns, JsNamespace};
use sample::{call_chain, regs, JsCallChain, JsRegs, JsTxn, JsWeight};

/// A record from a sampler's ring. Every record has `type`, `priv` (the privilege level the
/// kernel marked it with: `'user'`, `'kernel'`, `'hv'`, `'guestUser'`, `'guestKernel'` or
/// `'unknown'`) and, with `recordIdAll` (always for samples), `recordId`.
// A transient value: each one is converted into a JS object as soon as it is built.
#[allow(clippy::large_enum_variant)]
#[napi(discriminant = "type", discriminant_case = "camelCase", object_from_js = false)]
pub enum NativeRecord {
    Sample {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: JsRecordId,
        stat: Option<JsValues>,
        period: Option<BigInt>,
        cgroup: Option<BigInt>,
        call_chain: Option<Vec<JsCallChain>>,
        #[napi(ts_type = "Buffer")]
        user_stack: Option<Bytes>,
        data_addr: Option<BigInt>,
        data_phys_addr: Option<BigInt>,
        data_page_size: Option<BigInt>,
        data_source: Option<JsDataSource>,
        code_addr: Option<BigInt>,
        /// The kernel marked `codeAddr` as the exact instruction (PERF_RECORD_MISC_EXACT_IP).
        code_addr_exact: Option<bool>,
        code_page_size: Option<BigInt>,
        user_regs: Option<JsRegs>,
        intr_regs: Option<JsRegs>,
        #[napi(ts_type = "Buffer")]
        raw: Option<Bytes>,
        lbr: Option<JsLbr>,
        #[napi(ts_type = "Buffer")]
        aux: Option<Bytes>,
        txn: Option<JsTxn>,
        weight: Option<JsWeight>,
    },
    Mmap {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        executable: bool,
        task: JsTask,
        addr: BigInt,
        len: BigInt,
        file: String,
        page_offset: BigInt,
        ext: Option<JsMmapExt>,
    },
    Read {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        task: JsTask,
        stat: JsValues,
    },
    Cgroup {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        id: BigInt,
        path: String,
    },
    Ksymbol {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        ksymbol_type: KsymbolType,
        name: String,
        state: KsymbolState,
        addr: BigInt,
        len: u32,
    },
    TextPoke {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        addr: BigInt,
        #[napi(ts_type = "Buffer")]
        old_bytes: Bytes,
        #[napi(ts_type = "Buffer")]
        new_bytes: Bytes,
    },
    BpfEvent {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        bpf_event_type: BpfEventType,
        id: u32,
        #[napi(ts_type = "Buffer")]
        tag: Bytes,
        flags: u32,
    },
    CtxSwitch {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        /// `true`: switched out (to `task` when CPU-wide), `false`: switched in (from `task`).
        out: bool,
        /// Switched out because of preemption.
        preempt: bool,
        task: Option<JsTask>,
    },
    Namespaces {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        task: JsTask,
        uts: JsNamespace,
        pid: JsNamespace,
        ipc: JsNamespace,
        mnt: JsNamespace,
        net: JsNamespace,
        user: JsNamespace,
        cgroup: JsNamespace,
    },
    ItraceStart {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        task: JsTask,
    },
    CallChainDeferred {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        cookie: BigInt,
        call_chain: Vec<BigInt>,
    },
    Aux {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        offset: BigInt,
        size: BigInt,
        truncated: bool,
        overwrite: bool,
        partial: bool,
        collision: bool,
        pmu_format_type: u32,
    },
    AuxOutputHwId {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        hw_id: BigInt,
    },
    Comm {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        by_execve: bool,
        task: JsTask,
        comm: String,
    },
    Exit {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        task: JsTask,
        parent_task: JsTask,
        time: BigInt,
    },
    Fork {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        task: JsTask,
        parent_task: JsTask,
        time: BigInt,
    },
    Throttle {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        time: BigInt,
        id: BigInt,
        stream_id: BigInt,
    },
    Unthrottle {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        time: BigInt,
        id: BigInt,
        stream_id: BigInt,
    },
    LostRecords {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        id: BigInt,
        lost_records: BigInt,
    },
    LostSamples {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        record_id: Option<JsRecordId>,
        lost_samples: BigInt,
    },
    Unknown {
        #[napi(js_name = "priv")]
        privilege: RecordPriv,
        #[napi(ts_type = "Buffer")]
        bytes: Bytes,
    },
}

/// The one conversion from a parsed record to its JS shape.
pub fn to_js(p: &Priv, r: Record) -> NativeRecord {
    let privilege = RecordPriv::from(p); // converted once per record
    let rid = |r: &Option<RecordId>| r.as_ref().map(record_id);
    match r {
        Record::Sample(s) => NativeRecord::Sample {
            privilege,
            record_id: record_id(&s.record_id),
            stat: s.stat.as_ref().map(values),
            period: s.period.map(big),
            cgroup: s.cgroup.map(big),
            call_chain: s.call_chain.as_ref().map(|c| c.iter().map(call_chain).collect()),
            user_stack: s.user_stack.map(Bytes),
            data_addr: s.data_addr.map(big),
            data_phys_addr: s.data_phys_addr.map(big),
            data_page_size: s.data_page_size.map(big),
            data_source: s.data_source.as_ref().map(data_source),
            code_addr: s.code_addr.map(|(a, _)| big(a)),
            code_addr_exact: s.code_addr.map(|(_, exact)| exact),
            code_page_size: s.code_page_size.map(big),
            user_regs: s.user_regs.as_ref().map(regs),
            intr_regs: s.intr_regs.as_ref().map(regs),
            raw: s.raw.map(Bytes),
            lbr: s.lbr.as_ref().map(lbr),
            aux: s.aux.map(Bytes),
            txn: s.txn.as_ref().map(|t| JsTxn {
                elision: t.elision,
                tx: t.tx,
                is_sync: t.is_sync,
                is_async: t.is_async,
                retry: t.retry,
                conflict: t.conflict,
                capacity_read: t.capacity_read,
                capacity_write: t.capacity_write,
                code: t.code,
            }),
            weight: s.weight.as_ref().map(|w| match w {
                rec::sample::Weight::Full(v) => JsWeight { full: Some(big(*v)), var1: None, var2: None, var3: None },
                rec::sample::Weight::Vars { var1, var2, var3 } => {
                    JsWeight { full: None, var1: Some(*var1), var2: Some(*var2 as u32), var3: Some(*var3 as u32) }
                }
            }),
        },
        Record::Mmap(m) => NativeRecord::Mmap {
            privilege,
            record_id: rid(&m.record_id),
            executable: m.executable,
            task: task(&m.task),
            addr: big(m.addr),
            len: big(m.len),
            file: text(&m.file),
            page_offset: big(m.page_offset),
            ext: m.ext.as_ref().map(|e| {
                let (device, build_id) = match &e.info {
                    rec::mmap::Info::Device { major, minor, inode, inode_gen } => {
                        (Some(JsDevice { major: *major, minor: *minor, inode: big(*inode), inode_gen: big(*inode_gen) }), None)
                    }
                    rec::mmap::Info::BuildId(id) => (None, Some(Bytes(id.to_vec()))),
                };
                JsMmapExt { prot: e.prot, flags: e.flags, device, build_id }
            }),
        },
        Record::Read(r) => NativeRecord::Read { privilege, record_id: rid(&r.record_id), task: task(&r.task), stat: values(&r.stat) },
        Record::Cgroup(c) => NativeRecord::Cgroup { privilege, record_id: rid(&c.record_id), id: big(c.id), path: text(&c.path) },
        Record::Ksymbol(k) => NativeRecord::Ksymbol {
            privilege,
            record_id: rid(&k.record_id),
            ksymbol_type: (&k.ty).into(),
            name: text(&k.name),
            state: (&k.state).into(),
            addr: big(k.addr),
            len: k.len,
        },
        Record::TextPoke(t) => NativeRecord::TextPoke {
            privilege,
            record_id: rid(&t.record_id),
            addr: big(t.addr),
            old_bytes: Bytes(t.old_bytes),
            new_bytes: Bytes(t.new_bytes),
        },
        Record::BpfEvent(b) => NativeRecord::BpfEvent {
            privilege,
            record_id: rid(&b.record_id),
            bpf_event_type: (&b.ty).into(),
            id: b.id,
            tag: Bytes(b.tag.to_vec()),
            flags: b.flags as u32,
        },
        Record::CtxSwitch(c) => {
            let (out, preempt, t) = match &c.info {
                rec::ctx::Switch::OutTo { task: t, preempt } => (true, *preempt, t.as_ref().map(task)),
                rec::ctx::Switch::InFrom(t) => (false, false, t.as_ref().map(task)),
            };
            NativeRecord::CtxSwitch { privilege, record_id: rid(&c.record_id), out, preempt, task: t }
        }
        Record::Namespaces(n) => NativeRecord::Namespaces {
            privilege,
            record_id: rid(&n.record_id),
            task: task(&n.task),
            uts: ns(&n.ns_uts),
            pid: ns(&n.ns_pid),
            ipc: ns(&n.ns_ipc),
            mnt: ns(&n.ns_mnt),
            net: ns(&n.ns_net),
            user: ns(&n.ns_user),
            cgroup: ns(&n.ns_cgroup),
        },
        Record::ItraceStart(i) => NativeRecord::ItraceStart { privilege, record_id: rid(&i.record_id), task: task(&i.task) },
        Record::CallChainDeferred(c) => NativeRecord::CallChainDeferred {
            privilege,
            record_id: rid(&c.record_id),
            cookie: big(c.cookie),
            call_chain: c.call_chain.iter().copied().map(big).collect(),
        },
        Record::Aux(a) => NativeRecord::Aux {
            privilege,
            record_id: rid(&a.record_id),
            offset: big(a.offset),
            size: big(a.size),
            truncated: a.truncated,
            overwrite: a.overwrite,
            partial: a.partial,
            collision: a.collision,
            pmu_format_type: a.pmu_format_type as u32,
        },
        Record::AuxOutputHwId(a) => NativeRecord::AuxOutputHwId { privilege, record_id: rid(&a.record_id), hw_id: big(a.hw_id) },
        Record::Comm(c) => {
            NativeRecord::Comm { privilege, record_id: rid(&c.record_id), by_execve: c.by_execve, task: task(&c.task), comm: text(&c.comm) }
        }
        Record::Exit(e) => NativeRecord::Exit {
            privilege,
            record_id: rid(&e.record_id),
            task: task(&e.task),
            parent_task: task(&e.parent_task),
            time: big(e.time),
        },
        Record::Fork(f) => NativeRecord::Fork {
            privilege,
            record_id: rid(&f.record_id),
            task: task(&f.task),
            parent_task: task(&f.parent_task),
            time: big(f.time),
        },
        Record::Throttle(t) => NativeRecord::Throttle {
            privilege,
            record_id: rid(&t.record_id),
            time: big(t.time),
            id: big(t.id),
            stream_id: big(t.stream_id),
        },
        Record::Unthrottle(t) => NativeRecord::Unthrottle {
            privilege,
            record_id: rid(&t.record_id),
            time: big(t.time),
            id: big(t.id),
            stream_id: big(t.stream_id),
        },
        Record::LostRecords(l) => {
            NativeRecord::LostRecords { privilege, record_id: rid(&l.record_id), id: big(l.id), lost_records: big(l.lost_records) }
        }
        Record::LostSamples(l) => NativeRecord::LostSamples { privilege, record_id: rid(&l.record_id), lost_samples: big(l.lost_samples) },
        Record::Unknown(bytes) => NativeRecord::Unknown { privilege, bytes: Bytes(bytes) },
    }
}
