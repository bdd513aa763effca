//! The data source of a sample (PERF_SAMPLE_DATA_SRC), decoded.

use napi_derive::napi;
use perf_event_open::sample::record as rec;

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

pub(super) fn data_source(d: &rec::sample::DataSource) -> JsDataSource {
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
