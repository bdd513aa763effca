//! User-stack unwinding for samples taken with PERF_SAMPLE_STACK_USER + PERF_SAMPLE_REGS_USER.
//!
//! A frame-pointer call chain ends where code keeps no frame pointer: glibc's syscall wrappers and
//! futex waits, node's C++ compiled without them. The copied stack bytes plus the user registers let
//! us walk on: DWARF CFI (`.eh_frame` via `.eh_frame_hdr`, else `.debug_frame`) through native code,
//! and frame pointers where a module has no CFI for the address (V8's JIT code in anonymous memory,
//! its builtins in node's `.text`): `framehop` falls back to the frame-pointer rule by itself there.
//!
//! Modules come from `/proc/<pid>/maps` (executable mappings) and are loaded lazily, the first time
//! an address of theirs is unwound; each file's unwind sections are read once (by path, device and
//! inode) and shared by its mappings. The vDSO is read from this process's own memory: the kernel
//! maps the same image into every process.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::sync::Arc;

use framehop::{ExplicitModuleSectionInfo, FrameAddress, Module, Unwinder as _};
use napi::bindgen_prelude::{BigInt, BigUint64ArraySlice, Buffer};
use napi::{Error, Result, Status};
use napi_derive::napi;
use object::{Object, ObjectSection, ObjectSegment};

#[cfg(target_arch = "x86_64")]
mod arch {
    //! x86_64: arch/x86/include/uapi/asm/perf_regs.h numbers BP 6, SP 7, IP 8.
    use framehop::x86_64::UnwindRegsX86_64;
    pub use framehop::x86_64::{CacheX86_64 as Cache, UnwinderX86_64 as Native};
    pub const REG_FP: u32 = 6;
    pub const REG_SP: u32 = 7;
    pub const REG_PC: u32 = 8;
    /// The registers the unwinder needs, by bit, as the message names them.
    pub const NEEDED: &str = "IP (bit 8), SP (bit 7) and BP (bit 6): mask 0x1c0";
    pub type Regs = UnwindRegsX86_64;
    pub fn regs(_lr: u64, sp: u64, fp: u64, pc: u64) -> Regs {
        UnwindRegsX86_64::new(pc, sp, fp)
    }
    pub fn link_register(_get: impl Fn(u32) -> Option<u64>) -> Option<u64> {
        Some(0)
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    //! arm64: arch/arm64/include/uapi/asm/perf_regs.h numbers X29 (FP) 29, LR 30, SP 31, PC 32.
    pub use framehop::aarch64::{CacheAarch64 as Cache, UnwinderAarch64 as Native};
    use framehop::aarch64::{PtrAuthMask, UnwindRegsAarch64};
    pub const REG_FP: u32 = 29;
    pub const REG_LR: u32 = 30;
    pub const REG_SP: u32 = 31;
    pub const REG_PC: u32 = 32;
    pub const NEEDED: &str = "PC (bit 32), SP (bit 31), LR (bit 30) and X29 (bit 29): mask 0x1e0000000";
    pub type Regs = UnwindRegsAarch64;
    pub fn regs(lr: u64, sp: u64, fp: u64, _pc: u64) -> Regs {
        // User addresses have at most 48 bits here: the bits above hold a pointer-authentication code.
        UnwindRegsAarch64::new_with_ptr_auth_mask(PtrAuthMask(u64::MAX >> 16), lr, sp, fp)
    }
    pub fn link_register(get: impl Fn(u32) -> Option<u64>) -> Option<u64> {
        get(REG_LR)
    }
}

/// Section bytes shared by every mapping of one file.
type Data = Arc<[u8]>;

/// The most bytes one unwind section may have (node's `.eh_frame` is a few MB): a larger one is refused.
const MAX_SECTION: u64 = 256 << 20;

/// One executable mapping of the process.
struct Mapping {
    start: u64,
    end: u64,
    offset: u64,
    /// The path as /proc/<pid>/maps prints it (`[vdso]`, `/usr/lib/…/libc.so.6`; ` (deleted)` removed).
    path: String,
    /// Whether it was tried already (loaded as a module, or found without unwind data).
    tried: bool,
}

/// A file's unwind sections and the PT_LOAD segments that place them.
struct Sections {
    /// (file offset, file size, virtual address) of each loadable segment.
    segments: Vec<(u64, u64, u64)>,
    text: Option<std::ops::Range<u64>>,
    got: Option<std::ops::Range<u64>>,
    eh_frame: Option<(std::ops::Range<u64>, Data)>,
    eh_frame_hdr: Option<(std::ops::Range<u64>, Data)>,
    debug_frame: Option<Data>,
}

fn read_sections<'a, R: object::ReadRef<'a>>(data: R) -> std::result::Result<Sections, String> {
    let file = object::File::parse(data).map_err(|e| e.to_string())?;
    let range = |name: &str| file.section_by_name(name).map(|s| s.address()..s.address().saturating_add(s.size()));
    let bytes = |name: &str| -> Option<(std::ops::Range<u64>, Data)> {
        let s = file.section_by_name(name)?;
        if s.size() > MAX_SECTION {
            return None;
        }
        // A compressed or missing (NOBITS) section gives no bytes: the module unwinds by frame pointers.
        match s.compressed_file_range().ok()?.format {
            object::CompressionFormat::None => {}
            _ => return None,
        }
        let data = s.data().ok()?;
        if data.is_empty() {
            return None;
        }
        Some((s.address()..s.address() + data.len() as u64, Arc::from(data)))
    };
    Ok(Sections {
        segments: file
            .segments()
            .filter_map(|s| {
                let (off, size) = s.file_range();
                Some((off, size, s.address())).filter(|_| size > 0)
            })
            .collect(),
        text: range(".text"),
        got: range(".got"),
        eh_frame: bytes(".eh_frame"),
        eh_frame_hdr: bytes(".eh_frame_hdr"),
        debug_frame: bytes(".debug_frame").map(|(_, d)| d),
    })
}

/// Opens a mapped file for reading: through /proc/<pid>/map_files (the very inode mapped, even if
/// deleted or in another mount namespace; needs ptrace access to the process), else by its path.
/// Non-blocking (a FIFO planted at the path never blocks) and regular files only.
fn open_mapped(pid: u32, m: &Mapping) -> std::result::Result<File, String> {
    let open = |path: &str, nofollow: bool| -> std::io::Result<File> {
        let flags = libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY | if nofollow { libc::O_NOFOLLOW } else { 0 };
        let f = std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path)?;
        if !f.metadata()?.file_type().is_file() {
            return Err(std::io::Error::other("not a regular file (refused)"));
        }
        Ok(f)
    };
    let via_proc = format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end);
    open(&via_proc, false).or_else(|_| open(&m.path, true)).map_err(|e| format!("{}: {e}", m.path))
}

/// This process's vDSO image, read from its own memory.
fn own_vdso() -> Option<Vec<u8>> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let m = parse_maps(&maps).into_iter().find(|m| m.path == "[vdso]")?;
    let len = usize::try_from(m.end - m.start).ok()?;
    // SAFETY: the kernel maps the vDSO readable for the life of the process and never unmaps it.
    let bytes = unsafe { std::slice::from_raw_parts(m.start as *const u8, len) };
    Some(bytes.to_vec())
}

/// Executable mappings of a maps file, sorted by address. Lines that do not parse are skipped.
fn parse_maps(text: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = text
        .lines()
        .filter_map(|line| {
            // 7f1c2a028000-7f1c2a1bd000 r-xp 00028000 fd:01 1234     /usr/lib/x86_64-linux-gnu/libc.so.6
            let mut f = line.splitn(6, ' ');
            let (range, perms, offset) = (f.next()?, f.next()?, f.next()?);
            let (_dev, _inode) = (f.next()?, f.next()?);
            let path = f.next().unwrap_or("").trim_start();
            if perms.as_bytes().get(2) != Some(&b'x') {
                return None;
            }
            let (s, e) = range.split_once('-')?;
            let (start, end) = (u64::from_str_radix(s, 16).ok()?, u64::from_str_radix(e, 16).ok()?);
            let path = path.strip_suffix(" (deleted)").unwrap_or(path).to_string();
            (start < end).then_some(Mapping { start, end, offset: u64::from_str_radix(offset, 16).ok()?, path, tried: false })
        })
        .collect();
    out.sort_by_key(|m| m.start);
    out
}

/// How an unwound chain ended: `'root'` (the outermost frame was reached: the unwind data or a zero
/// frame pointer said so), `'truncated'` (the next frame lies outside the copied stack bytes, or no
/// rule applied), `'maxFrames'`.
type UnwindEnd = &'static str;
const ROOT: UnwindEnd = "root";
const TRUNCATED: UnwindEnd = "truncated";
const MAX_FRAMES: UnwindEnd = "maxFrames";

/// One unwound user stack.
#[napi(object, object_from_js = false)]
pub struct UnwoundStack {
    /// The sampled instruction pointer, then return addresses, innermost first (as in a kernel call chain).
    /// A plain array, copied into JS: Electron refuses the external ArrayBuffer a typed array would be.
    pub frames: Vec<BigInt>,
    /// Why the chain ended: `'root'` (the outermost frame was reached), `'truncated'` (the next frame lies
    /// outside the copied stack bytes, or no rule applied) or `'maxFrames'`.
    #[napi(ts_type = "'root' | 'truncated' | 'maxFrames'")]
    pub end: String,
}

/// Unwinds copied user stacks of one process (`sampleFormat.userStack` + `sampleFormat.userRegs`) with
/// DWARF CFI through native code and frame pointers through JIT code.
#[napi]
pub struct Unwinder {
    pid: u32,
    max_frames: u32,
    mappings: Vec<Mapping>,
    files: HashMap<(String, u64, u64), Option<Arc<Sections>>>,
    vdso: Option<Option<Arc<Sections>>>,
    native: arch::Native<Data>,
    cache: Box<arch::Cache>,
    /// Modules loaded and mappings found without usable unwind data.
    loaded: u32,
    failed: Vec<String>,
}

fn invalid(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

#[napi]
impl Unwinder {
    /// Reads the executable mappings of process `pid` from `/proc/<pid>/maps`; their unwind sections
    /// are read when an address in them is first unwound. `maxFrames` (default 512, 1..=65536) bounds
    /// one chain.
    #[napi(constructor)]
    pub fn new(pid: u32, max_frames: Option<u32>) -> Result<Self> {
        let max_frames = max_frames.unwrap_or(512);
        if pid == 0 || pid > i32::MAX as u32 {
            return Err(invalid(format!("pid must be a process id (1..{}), got {pid}", i32::MAX)));
        }
        if max_frames == 0 || max_frames > 65536 {
            return Err(invalid(format!("maxFrames must be 1..65536, got {max_frames}")));
        }
        let mut u = Unwinder {
            pid,
            max_frames,
            mappings: Vec::new(),
            files: HashMap::new(),
            vdso: None,
            native: arch::Native::new(),
            cache: Box::new(arch::Cache::new()),
            loaded: 0,
            failed: Vec::new(),
        };
        u.refresh()?;
        Ok(u)
    }

    /// Reads `/proc/<pid>/maps` again (after a `dlopen`, or when code was unmapped): mappings that stay
    /// keep their loaded modules; new ones load on first use. Returns the number of executable mappings.
    #[napi]
    pub fn refresh(&mut self) -> Result<u32> {
        let path = format!("/proc/{}/maps", self.pid);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(Status::GenericFailure, format!("cannot read {path}: {e} (errno {})", e.raw_os_error().unwrap_or(0)))
        })?;
        let mut fresh = parse_maps(&text);
        for m in &mut fresh {
            if let Some(old) =
                self.mappings.iter().find(|o| o.start == m.start && o.end == m.end && o.offset == m.offset && o.path == m.path)
            {
                m.tried = old.tried;
            }
        }
        for old in &self.mappings {
            if old.tried && !fresh.iter().any(|m| m.start == old.start && m.tried) {
                self.native.remove_module(old.start);
            }
        }
        self.mappings = fresh;
        Ok(self.mappings.len() as u32)
    }

    /// Modules whose unwind data was loaded so far.
    #[napi(getter)]
    pub fn modules_loaded(&self) -> u32 {
        self.loaded
    }

    /// Mapped files whose unwind data could not be read (`path: why`): their code unwinds by frame pointers.
    #[napi(getter)]
    pub fn failures(&self) -> Vec<String> {
        self.failed.clone()
    }

    /// Unwinds one sample: `regsMask` is the `sampleFormat.userRegs` mask the sampler was opened with,
    /// `regs` the sample's `userRegs.values` (one per set bit, lowest bit first), `stack` its
    /// `userStack` bytes (copied from the sampled thread's stack pointer up). Needs IP, SP and the
    /// frame pointer in the mask (LR too on arm64). A short or empty stack gives a short chain.
    #[napi]
    pub fn unwind(&mut self, regs_mask: BigInt, regs: BigUint64ArraySlice, stack: Buffer) -> Result<UnwoundStack> {
        let (sign, mask, lossless) = regs_mask.get_u64();
        if sign || !lossless {
            return Err(invalid("regsMask must be a 64-bit mask (a non-negative bigint below 2n ** 64n)".to_string()));
        }
        if regs.len() != mask.count_ones() as usize {
            return Err(invalid(format!("regs has {} values but regsMask 0x{mask:x} names {} registers", regs.len(), mask.count_ones())));
        }
        let get = |bit: u32| -> Option<u64> {
            if mask & (1u64 << bit) == 0 {
                return None;
            }
            regs.get((mask & ((1u64 << bit) - 1)).count_ones() as usize).copied()
        };
        let (Some(pc), Some(sp), Some(fp), Some(lr)) = (get(arch::REG_PC), get(arch::REG_SP), get(arch::REG_FP), arch::link_register(get))
        else {
            return Err(invalid(format!("regsMask 0x{mask:x} lacks registers the unwinder needs: {}", arch::NEEDED)));
        };
        let stack: &[u8] = &stack;
        let (frames, end) = self.walk(pc, arch::regs(lr, sp, fp, pc), sp, stack);
        Ok(UnwoundStack { frames: frames.into_iter().map(BigInt::from).collect(), end: end.to_string() })
    }
}

impl Unwinder {
    fn walk(&mut self, pc: u64, mut regs: arch::Regs, sp: u64, stack: &[u8]) -> (Vec<u64>, UnwindEnd) {
        let mut read = |addr: u64| -> std::result::Result<u64, ()> {
            let off = usize::try_from(addr.checked_sub(sp).ok_or(())?).map_err(|_| ())?;
            let bytes = stack.get(off..off.checked_add(8).ok_or(())?).ok_or(())?;
            Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| ())?))
        };
        let mut frames = vec![pc];
        let mut at = FrameAddress::from_instruction_pointer(pc);
        loop {
            if frames.len() >= self.max_frames as usize {
                return (frames, MAX_FRAMES);
            }
            self.ensure_module(at.address_for_lookup());
            match self.native.unwind_frame(at, &mut regs, &mut self.cache, &mut read) {
                Ok(Some(ra)) => match FrameAddress::from_return_address(ra) {
                    Some(next) => {
                        frames.push(ra);
                        at = next;
                    }
                    None => return (frames, ROOT),
                },
                Ok(None) => return (frames, ROOT),
                Err(_) => return (frames, TRUNCATED),
            }
        }
    }

    /// Loads the module of the mapping that holds `addr`, the first time one of its addresses is unwound.
    fn ensure_module(&mut self, addr: u64) {
        let i = self.mappings.partition_point(|m| m.start <= addr);
        if i == 0 || self.mappings[i - 1].end <= addr || self.mappings[i - 1].tried {
            return;
        }
        let m = &mut self.mappings[i - 1];
        m.tried = true;
        let (start, end, offset, path) = (m.start, m.end, m.offset, m.path.clone());
        let sections = if path == "[vdso]" {
            self.vdso.get_or_insert_with(|| own_vdso().and_then(|b| read_sections(&b[..]).ok()).map(Arc::new)).clone()
        } else if path.starts_with('/') && !path.starts_with("/memfd:") && !path.starts_with("/dev/") {
            self.file_sections(i - 1)
        } else {
            None // anonymous memory (JIT code), [vsyscall], memfd: frame pointers
        };
        let Some(s) = sections else { return };
        // The load bias: where the segment holding this mapping's file offset was placed.
        // The vDSO is not mapped from a file: its image starts at the mapping.
        let file_offset = if path == "[vdso]" { 0 } else { offset };
        // A segment's file offset need not be page-aligned (lld puts code right after the headers): the
        // mapping starts at that offset rounded down to its page.
        let Some(&(seg_off, _, seg_addr)) = s.segments.iter().find(|(o, size, _)| file_offset >= (*o & !0xfff) && file_offset < o + size)
        else {
            self.failed.push(format!("{path}: no loadable segment holds file offset 0x{offset:x}"));
            return;
        };
        let svma = seg_addr.wrapping_add(file_offset.wrapping_sub(seg_off));
        let bias = start.wrapping_sub(svma);
        if s.eh_frame.is_none() && s.debug_frame.is_none() {
            return; // no CFI: frame pointers (framehop's fallback for addresses outside any module)
        }
        let info = ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: s.text.clone(),
            got_svma: s.got.clone(),
            eh_frame_svma: s.eh_frame.as_ref().map(|(r, _)| r.clone()),
            eh_frame: s.eh_frame.as_ref().map(|(_, d)| d.clone()),
            eh_frame_hdr_svma: s.eh_frame_hdr.as_ref().map(|(r, _)| r.clone()),
            eh_frame_hdr: s.eh_frame_hdr.as_ref().map(|(_, d)| d.clone()),
            debug_frame: s.debug_frame.clone(),
            ..Default::default()
        };
        self.native.add_module(Module::new(path, start..end, bias, info));
        self.loaded += 1;
    }

    fn file_sections(&mut self, i: usize) -> Option<Arc<Sections>> {
        let m = &self.mappings[i];
        let file = match open_mapped(self.pid, m) {
            Ok(f) => f,
            Err(e) => {
                self.failed.push(e);
                return None;
            }
        };
        let meta = file.metadata().ok()?;
        let key = (m.path.clone(), meta.dev(), meta.ino());
        if let Some(s) = self.files.get(&key) {
            return s.clone();
        }
        let cache = object::ReadCache::new(file);
        let s = match read_sections(&cache) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                self.failed.push(format!("{}: {e}", m.path));
                None
            }
        };
        self.files.insert(key, s.clone());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_parse_and_bad_ones_are_skipped() {
        let text = "55d0c2a00000-55d0c3e5c000 r-xp 00a00000 fd:01 1234   /usr/bin/node\n\
                    7ffd1b5f0000-7ffd1b5f2000 r-xp 00000000 00:00 0                          [vdso]\n\
                    7f0000000000-7f0000001000 rw-p 00000000 00:00 0\n\
                    garbage\n\
                    7f0000002000-7f0000001000 r-xp 00000000 00:00 0  /backwards\n\
                    7f0000003000-7f0000004000 r-xp 00001000 fd:01 99 /tmp/a b (deleted)\n";
        let m = parse_maps(text);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].start, m[0].offset, m[0].path.as_str()), (0x55d0c2a00000, 0xa00000, "/usr/bin/node"));
        assert_eq!(m[1].path, "/tmp/a b");
        assert_eq!(m[2].path, "[vdso]");
    }

    #[test]
    fn own_vdso_has_cfi() {
        let b = own_vdso().expect("vdso");
        let s = read_sections(&b[..]).expect("elf");
        assert!(s.eh_frame.is_some());
    }
}
