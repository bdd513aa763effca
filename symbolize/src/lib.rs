#![deny(clippy::all)]
// `cargo test` builds without napi's registration of the exported items: they look unused there.
#![cfg_attr(test, allow(dead_code))]
//! Symbolizer of the `perf-event-open` npm package: one addon per target (not per kernel variant),
//! shipped as its own optional platform package and loaded only when a profile is symbolized.
//! Addresses become names with `blazesym` (ELF, DWARF, V8's perf map, vDSO, kallsyms); flame graphs
//! are drawn with `inferno`. Every call runs off the JS thread (an `AsyncTask` on the libuv pool).

mod firefox;
mod flamegraph;
mod unwind;

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;

use blazesym::symbolize::source::{Elf, Kernel, Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer};
use blazesym::Pid;
use napi::bindgen_prelude::{AsyncTask, BigUint64ArraySlice};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

/// One symbolized address. `name` is absent where no source knew the address.
#[napi(object)]
#[derive(Default)]
pub struct SymbolizedAddr {
    /// Function name (demangled), or the perf map's name for JIT code (`JS:*fib /app/x.js:1:15`).
    pub name: Option<String>,
    /// File the code belongs to: an ELF path, `[vdso]` or `[kernel]`; absent for names from V8's perf map.
    pub module: Option<String>,
    /// Source file from DWARF line tables, when the binary has them.
    pub file: Option<String>,
    /// Source line from DWARF.
    pub line: Option<u32>,
    /// Source column from DWARF.
    pub column: Option<u32>,
    /// Why `name` is absent (`'unmapped'`, `'missingSyms'`, `'unknownAddr'`…).
    pub reason: Option<String>,
}

fn convert(sym: Symbolized<'_>, fallback_module: Option<&str>) -> SymbolizedAddr {
    match sym {
        Symbolized::Sym(s) => {
            let (file, line, column) = match &s.code_info {
                Some(ci) => (Some(ci.to_path().display().to_string()), ci.line, ci.column.map(u32::from)),
                None => (None, None, None),
            };
            SymbolizedAddr {
                name: Some(s.name.into_owned()),
                module: s.module.map(|m| m.to_string_lossy().into_owned()).or(fallback_module.map(String::from)),
                file,
                line,
                column,
                reason: None,
            }
        }
        Symbolized::Unknown(reason) => {
            SymbolizedAddr { reason: Some(format!("{reason:?}")), module: fallback_module.map(String::from), ..Default::default() }
        }
    }
}

/// Opens `path` for reading as a regular file only: `O_NONBLOCK` (a FIFO never blocks the open),
/// `O_NOFOLLOW` (a planted symlink is refused), then `fstat`. Anything else (a FIFO, a device such as
/// `/dev/zero`, a directory, a socket, a symlink) is a clear error instead of a hang or a huge read.
fn open_regular(path: &str) -> Result<File> {
    let fail = |what: String| Error::new(Status::GenericFailure, format!("symbolization failed: {path}: {what}"));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                fail("is a symbolic link (refused)".to_string())
            } else {
                fail(e.to_string())
            }
        })?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !meta.file_type().is_file() {
        return Err(fail("is not a regular file (refused)".to_string()));
    }
    Ok(file)
}

enum Job {
    Process { pid: u32, perf_map: bool, debug_syms: bool, map_files: bool },
    Kernel { kallsyms: Option<String> },
    Elf { path: String, debug_syms: bool },
}

/// Symbolizes a batch of addresses off the JS thread.
pub struct SymbolizeTask {
    job: Job,
    addrs: Vec<u64>,
}

impl Task for SymbolizeTask {
    type Output = Vec<SymbolizedAddr>;
    type JsValue = Vec<SymbolizedAddr>;

    fn compute(&mut self) -> Result<Self::Output> {
        let symbolizer = Symbolizer::builder().enable_code_info(true).enable_inlined_fns(false).build();
        // An ELF file is opened here, without blocking (a FIFO) and without following a final symlink,
        // and symbolized through our own descriptor only if it is a regular file: blazesym then reopens
        // /proc/self/fd/N, the same inode, whatever happens to the path meanwhile.
        let mut _elf_file: Option<File> = None;
        let (src, input, module) = match &self.job {
            Job::Process { pid, perf_map, debug_syms, map_files } => {
                let mut p = Process::new(Pid::from(*pid));
                p.perf_map = *perf_map;
                p.debug_syms = *debug_syms;
                p.map_files = *map_files;
                (Source::Process(p), Input::AbsAddr(&self.addrs[..]), None)
            }
            Job::Kernel { kallsyms } => {
                let mut k = Kernel::default();
                if let Some(path) = kallsyms {
                    k.kallsyms = blazesym::MaybeDefault::Some(PathBuf::from(path));
                }
                // vmlinux is rarely installed; kallsyms is what a running system has.
                k.vmlinux = blazesym::MaybeDefault::None;
                (Source::Kernel(k), Input::AbsAddr(&self.addrs[..]), Some("[kernel]"))
            }
            Job::Elf { path, debug_syms } => {
                let file = open_regular(path)?;
                let fd_path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
                _elf_file = Some(file);
                let mut e = Elf::new(fd_path);
                e.debug_syms = *debug_syms;
                (Source::Elf(e), Input::FileOffset(&self.addrs[..]), None)
            }
        };
        let out =
            symbolizer.symbolize(&src, input).map_err(|e| Error::new(Status::GenericFailure, format!("symbolization failed: {e}")))?;
        let mut out: Vec<SymbolizedAddr> = out.into_iter().map(|s| convert(s, module)).collect();
        if let (Job::Elf { path, .. }, Some(file)) = (&self.job, &_elf_file) {
            // Name the file as the caller did, not by our descriptor.
            let fd_path = format!("/proc/self/fd/{}", file.as_raw_fd());
            for s in &mut out {
                if s.module.as_deref() == Some(fd_path.as_str()) {
                    s.module = Some(path.clone());
                }
            }
        }
        Ok(out)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// Options of `symbolizeProcess`.
#[napi(object)]
pub struct ProcessOptions {
    /// Read V8's `/tmp/perf-<pid>.map` (Node started with `--perf-basic-prof`). Default true.
    pub perf_map: Option<bool>,
    /// Use DWARF debug info for file and line where present. Default true.
    pub debug_syms: Option<bool>,
    /// Open mappings through `/proc/<pid>/map_files` (needs CAP_SYS_ADMIN); default false: the paths in `/proc/<pid>/maps`.
    pub map_files: Option<bool>,
}

/// Symbolizes user-space addresses of a live process (`pid`), one result per address, in order.
#[napi(ts_return_type = "Promise<SymbolizedAddr[]>")]
pub fn symbolize_process(pid: u32, addrs: BigUint64ArraySlice, options: Option<ProcessOptions>) -> Result<AsyncTask<SymbolizeTask>> {
    if pid == 0 {
        return Err(Error::new(Status::InvalidArg, "Expected a process id > 0 for pid but received 0".to_string()));
    }
    let o = options.unwrap_or(ProcessOptions { perf_map: None, debug_syms: None, map_files: None });
    Ok(AsyncTask::new(SymbolizeTask {
        job: Job::Process {
            pid,
            perf_map: o.perf_map.unwrap_or(true),
            debug_syms: o.debug_syms.unwrap_or(true),
            map_files: o.map_files.unwrap_or(false),
        },
        addrs: addrs.as_ref().to_vec(),
    }))
}

/// Symbolizes kernel addresses with `/proc/kallsyms` (or the file given), one result per address.
#[napi(ts_return_type = "Promise<SymbolizedAddr[]>")]
pub fn symbolize_kernel(addrs: BigUint64ArraySlice, kallsyms: Option<String>) -> AsyncTask<SymbolizeTask> {
    AsyncTask::new(SymbolizeTask { job: Job::Kernel { kallsyms }, addrs: addrs.as_ref().to_vec() })
}

/// Symbolizes file offsets inside one ELF file (for a process that has exited: offsets come from its mmap records).
#[napi(ts_return_type = "Promise<SymbolizedAddr[]>")]
pub fn symbolize_elf(path: String, offsets: BigUint64ArraySlice, debug_syms: Option<bool>) -> AsyncTask<SymbolizeTask> {
    AsyncTask::new(SymbolizeTask { job: Job::Elf { path, debug_syms: debug_syms.unwrap_or(true) }, addrs: offsets.as_ref().to_vec() })
}

/// Versions of the libraries inside this addon (read from Cargo.lock by build.rs).
#[napi]
pub fn symbolizer_info() -> String {
    env!("SYMBOLIZE_LIBRARIES").to_string()
}
