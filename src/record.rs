//! The one place where the crate's records become JS objects. Every u64 is a
//! bigint, byte payloads are Buffers copied out of the ring (never external
//! buffers), C strings are decoded lossily. The TypeScript union of these
//! shapes is generated into index.d.ts from this file.

use std::ffi::CString;

use napi::bindgen_prelude::{BigInt, ToNapiValue, TypeName, ValueType};
use napi::sys;
use napi_derive::napi;
use perf_event_open::count::Stat;
use perf_event_open::sample::record::{self as rec, Priv, Record, RecordId, Task};

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

fn big(v: u64) -> BigInt {
    BigInt::from(v)
}

fn text(c: &CString) -> String {
    String::from_utf8_lossy(c.to_bytes()).into_owned()
}

#[napi(object, object_from_js = false)]
pub struct JsTask {
    pub pid: u32,
    pub tid: u32,
}

fn task(t: &Task) -> JsTask {
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

fn record_id(r: &RecordId) -> JsRecordId {
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

fn values(s: &Stat) -> JsValues {
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

/// One segment of a call chain: the context marker and the instruction pointers under it.
#[napi(object, object_from_js = false)]
pub struct JsCallChain {
    pub context: CallChainContext,
    pub ips: Vec<BigInt>,
    /// For `'userDeferred'`: matches a later `callChainDeferred` record.
    pub cookie: Option<BigInt>,
}

fn call_chain(c: &rec::sample::CallChain) -> JsCallChain {
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

fn regs(r: &(Vec<u64>, rec::sample::Abi)) -> JsRegs {
    JsRegs {
        abi: match r.1 {
            rec::sample::Abi::_32 => 32,
            rec::sample::Abi::_64 => 64,
        },
        values: r.0.iter().copied().map(big).collect(),
    }
}

// Fixed value sets: one string enum each, converted explicitly from the crate's enums.

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

/// Memory hierarchy level of a data source (PERF_MEM_LVLNUM_*).
#[napi(string_enum)]
pub enum MemLevel2 {
    #[napi(value = "l0")]
    L0,
    #[napi(value = "l1")]
    L1,
    #[napi(value = "l2")]
    L2,
    #[napi(value = "l3")]
    L3,
    #[napi(value = "l4")]
    L4,
    #[napi(value = "l2Mhb")]
    L2Mhb,
    #[napi(value = "msc")]
    Msc,
    #[napi(value = "unc")]
    Unc,
    #[napi(value = "cxl")]
    Cxl,
    #[napi(value = "io")]
    Io,
    #[napi(value = "anyCache")]
    AnyCache,
    #[napi(value = "lfb")]
    Lfb,
    #[napi(value = "ram")]
    Ram,
    #[napi(value = "pmem")]
    Pmem,
    #[napi(value = "na")]
    Na,
    #[napi(value = "unknown")]
    Unknown,
}

impl From<&rec::sample::MemLevel2> for MemLevel2 {
    fn from(v: &rec::sample::MemLevel2) -> Self {
        match v {
            rec::sample::MemLevel2::L0 => Self::L0,
            rec::sample::MemLevel2::L1 => Self::L1,
            rec::sample::MemLevel2::L2 => Self::L2,
            rec::sample::MemLevel2::L3 => Self::L3,
            rec::sample::MemLevel2::L4 => Self::L4,
            rec::sample::MemLevel2::L2Mhb => Self::L2Mhb,
            rec::sample::MemLevel2::Msc => Self::Msc,
            rec::sample::MemLevel2::Unc => Self::Unc,
            rec::sample::MemLevel2::Cxl => Self::Cxl,
            rec::sample::MemLevel2::Io => Self::Io,
            rec::sample::MemLevel2::AnyCache => Self::AnyCache,
            rec::sample::MemLevel2::Lfb => Self::Lfb,
            rec::sample::MemLevel2::Ram => Self::Ram,
            rec::sample::MemLevel2::Pmem => Self::Pmem,
            rec::sample::MemLevel2::Na => Self::Na,
            rec::sample::MemLevel2::Unknown => Self::Unknown,
        }
    }
}

/// Distance of a data source (PERF_MEM_HOPS_*).
#[napi(string_enum)]
pub enum MemHop {
    #[napi(value = "core")]
    Core,
    #[napi(value = "node")]
    Node,
    #[napi(value = "socket")]
    Socket,
    #[napi(value = "board")]
    Board,
    #[napi(value = "unknown")]
    Unknown,
}

impl From<&rec::sample::MemHop> for MemHop {
    fn from(v: &rec::sample::MemHop) -> Self {
        match v {
            rec::sample::MemHop::Core => Self::Core,
            rec::sample::MemHop::Node => Self::Node,
            rec::sample::MemHop::Socket => Self::Socket,
            rec::sample::MemHop::Board => Self::Board,
            rec::sample::MemHop::Unknown => Self::Unknown,
        }
    }
}

/// Memory region of a data source (PERF_MEM_REGION_*).
#[napi(string_enum)]
pub enum MemRegion {
    #[napi(value = "na")]
    Na,
    #[napi(value = "reserved")]
    Reserved,
    #[napi(value = "localShare")]
    LocalShare,
    #[napi(value = "localNonShare")]
    LocalNonShare,
    #[napi(value = "otherIo")]
    OtherIo,
    #[napi(value = "otherShare")]
    OtherShare,
    #[napi(value = "otherNonShare")]
    OtherNonShare,
    #[napi(value = "mmio")]
    Mmio,
    #[napi(value = "mem0")]
    Mem0,
    #[napi(value = "mem1")]
    Mem1,
    #[napi(value = "mem2")]
    Mem2,
    #[napi(value = "mem3")]
    Mem3,
    #[napi(value = "mem4")]
    Mem4,
    #[napi(value = "mem5")]
    Mem5,
    #[napi(value = "mem6")]
    Mem6,
    #[napi(value = "mem7")]
    Mem7,
    #[napi(value = "unknown")]
    Unknown,
}

impl From<&rec::sample::MemRegion> for MemRegion {
    fn from(v: &rec::sample::MemRegion) -> Self {
        match v {
            rec::sample::MemRegion::Na => Self::Na,
            rec::sample::MemRegion::Reserved => Self::Reserved,
            rec::sample::MemRegion::LocalShare => Self::LocalShare,
            rec::sample::MemRegion::LocalNonShare => Self::LocalNonShare,
            rec::sample::MemRegion::OtherIo => Self::OtherIo,
            rec::sample::MemRegion::OtherShare => Self::OtherShare,
            rec::sample::MemRegion::OtherNonShare => Self::OtherNonShare,
            rec::sample::MemRegion::Mmio => Self::Mmio,
            rec::sample::MemRegion::Mem0 => Self::Mem0,
            rec::sample::MemRegion::Mem1 => Self::Mem1,
            rec::sample::MemRegion::Mem2 => Self::Mem2,
            rec::sample::MemRegion::Mem3 => Self::Mem3,
            rec::sample::MemRegion::Mem4 => Self::Mem4,
            rec::sample::MemRegion::Mem5 => Self::Mem5,
            rec::sample::MemRegion::Mem6 => Self::Mem6,
            rec::sample::MemRegion::Mem7 => Self::Mem7,
            rec::sample::MemRegion::Unknown => Self::Unknown,
        }
    }
}

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

fn lbr(l: &rec::sample::Lbr) -> JsLbr {
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

/// Decoded data source: each flag group lists the flags that are set.
#[napi(object, object_from_js = false)]
pub struct JsDataSource {
    pub op: Vec<String>,
    pub level: Vec<String>,
    pub snoop: Vec<String>,
    pub lock: Vec<String>,
    pub tlb: Vec<String>,
    pub level2: MemLevel2,
    pub remote: bool,
    pub block: Vec<String>,
    pub hops: MemHop,
    pub region: MemRegion,
}

macro_rules! set_flags {
    ($v:expr, [$($f:ident => $n:literal),* $(,)?]) => {{
        let mut out = Vec::new();
        $( if $v.$f { out.push($n.to_owned()); } )*
        out
    }};
}

fn data_source(d: &rec::sample::DataSource) -> JsDataSource {
    JsDataSource {
        op: set_flags!(d.op, [na => "na", load => "load", store => "store", prefetch => "prefetch", exec => "exec"]),
        level: set_flags!(d.level, [na => "na", hit => "hit", miss => "miss", l1 => "l1", lfb => "lfb", l2 => "l2", l3 => "l3",
            loc_ram => "locRam", rem_ram1 => "remRam1", rem_ram2 => "remRam2", rem_cce1 => "remCce1", rem_cce2 => "remCce2", io => "io", unc => "unc"]),
        snoop: set_flags!(d.snoop, [na => "na", none => "none", hit => "hit", miss => "miss", hit_m => "hitM", fwd => "fwd", peer => "peer"]),
        lock: set_flags!(d.lock, [na => "na", locked => "locked"]),
        tlb: set_flags!(d.tlb, [na => "na", hit => "hit", miss => "miss", l1 => "l1", l2 => "l2", walker => "walker", fault => "fault"]),
        level2: (&d.level2).into(),
        remote: d.remote,
        block: set_flags!(d.block, [na => "na", data => "data", addr => "addr"]),
        hops: (&d.hops).into(),
        region: (&d.region).into(),
    }
}

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

#[napi(object, object_from_js = false)]
pub struct JsNamespace {
    pub dev: BigInt,
    pub inode: BigInt,
}

fn ns(l: &rec::ns::LinkInfo) -> JsNamespace {
    JsNamespace { dev: big(l.dev), inode: big(l.inode) }
}

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
