#![deny(clippy::all)]
//! Symbolizer of the `perf-event-open` npm package: one addon per target (not per kernel variant),
//! shipped as its own optional platform package and loaded only when a profile is symbolized.
//! Addresses become names with `blazesym` (ELF, DWARF, V8's perf map, vDSO, kallsyms); flame graphs
//! are drawn with `inferno`. Every call runs off the JS thread (an `AsyncTask` on the libuv pool).

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
    Symbolized::Unknown(reason) => SymbolizedAddr {
      reason: Some(format!("{reason:?}")),
      module: fallback_module.map(String::from),
      ..Default::default()
    },
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
    let out = symbolizer
      .symbolize(&src, input)
      .map_err(|e| Error::new(Status::GenericFailure, format!("symbolization failed: {e}")))?;
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

/// Options of `flameGraph`.
#[napi(object)]
pub struct FlameGraphOptions {
  pub title: Option<String>,
  pub subtitle: Option<String>,
  /// What a sample's weight counts, e.g. `'ns'` or `'page faults'`.
  pub count_name: Option<String>,
  /// Pixel width (default 1200).
  pub width: Option<u32>,
}

/// Draws folded stacks (`a;b;c 42` lines) as a self-contained, interactive flame graph SVG.
pub struct FlameGraphTask {
  folded: String,
  title: String,
  subtitle: Option<String>,
  count_name: String,
  width: usize,
}

impl Task for FlameGraphTask {
  type Output = String;
  type JsValue = String;

  fn compute(&mut self) -> Result<String> {
    use inferno::flamegraph::{color, Options};
    let mut opts = Options::default();
    opts.title = self.title.clone();
    opts.subtitle = self.subtitle.clone();
    opts.count_name = self.count_name.clone();
    opts.image_width = Some(self.width);
    opts.colors = color::Palette::Multi(color::MultiPalette::Js);
    opts.deterministic = true;
    let mut out = Vec::new();
    inferno::flamegraph::from_lines(&mut opts, self.folded.lines(), &mut out)
      .map_err(|e| Error::new(Status::GenericFailure, format!("flame graph failed: {e}")))?;
    String::from_utf8(out).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
  }

  fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
    Ok(output)
  }
}

/// Draws a flame graph SVG from folded stacks, off the JS thread.
#[napi(ts_return_type = "Promise<string>")]
pub fn flame_graph(folded: String, options: Option<FlameGraphOptions>) -> AsyncTask<FlameGraphTask> {
  let o = options.unwrap_or(FlameGraphOptions { title: None, subtitle: None, count_name: None, width: None });
  AsyncTask::new(FlameGraphTask {
    folded,
    title: o.title.unwrap_or_else(|| "Flame Graph".into()),
    subtitle: o.subtitle,
    count_name: o.count_name.unwrap_or_else(|| "samples".into()),
    width: o.width.unwrap_or(1200) as usize,
  })
}

/// The profile model handed to `firefoxProfile` (columns of `Profile` in lib/profile/model.ts).
#[napi(object)]
pub struct FxInput {
  /// Shown as the product name, e.g. `node app.js`.
  pub product: String,
  /// Event name, e.g. `cpu-clock`.
  pub event: String,
  /// Process id and name.
  pub pid: u32,
  pub process_name: String,
  /// Profile start, ms since the Unix epoch; sample times are ns after it.
  pub start_time_ms: f64,
  /// Sampling interval in ms (1 / freq), for the profiler's display.
  pub interval_ms: f64,
  /// Whether weights count samples of a clock (`true`) or events (`false`: weights are the periods).
  pub time_based: bool,
  pub frame_label: Vec<String>,
  /// `js`, `builtin`, `native`, `kernel` or `unknown`.
  pub frame_kind: Vec<String>,
  pub stack_parent: Vec<i32>,
  pub stack_frame: Vec<i32>,
  pub sample_stack: Vec<i32>,
  pub sample_thread: Vec<i32>,
  pub sample_time_ns: Vec<f64>,
  pub sample_weight: Vec<f64>,
  pub thread_tid: Vec<u32>,
  pub thread_name: Vec<String>,
}

/// Builds a Firefox Profiler processed profile (JSON) off the JS thread.
pub struct FirefoxTask {
  input: Option<FxInput>,
}

fn firefox_json(i: FxInput) -> Result<String> {
  use fxprof_processed_profile::{
    CategoryColor, CpuDelta, Frame, FrameFlags, FrameInfo, Profile, ReferenceTimestamp, SamplingInterval, StackHandle, Timestamp,
  };
  let bad = |m: &str| Error::new(Status::InvalidArg, m.to_string());
  if i.frame_label.len() != i.frame_kind.len() || i.stack_parent.len() != i.stack_frame.len() {
    return Err(bad("frame and stack columns differ in length"));
  }
  let n = i.sample_stack.len();
  if i.sample_thread.len() != n || i.sample_time_ns.len() != n || i.sample_weight.len() != n || i.thread_tid.len() != i.thread_name.len() {
    return Err(bad("sample or thread columns differ in length"));
  }
  let interval = SamplingInterval::from_nanos((i.interval_ms * 1e6).max(1.0) as u64);
  let mut p = Profile::new(&i.product, ReferenceTimestamp::from_millis_since_unix_epoch(i.start_time_ms), interval);
  p.set_symbolicated(true);
  p.set_os_name("Linux");
  let cat = |p: &mut Profile, name: &str, c: CategoryColor| p.add_category(name, c).into();
  let js = cat(&mut p, "JavaScript", CategoryColor::Yellow);
  let builtin = cat(&mut p, "V8 builtin", CategoryColor::Green);
  let native = cat(&mut p, "Native", CategoryColor::Blue);
  let kernel = cat(&mut p, "Kernel", CategoryColor::Orange);
  let unknown = cat(&mut p, "Unknown", CategoryColor::Gray);
  let process = p.add_process(&i.process_name, i.pid, Timestamp::from_millis_since_reference(0.0));
  let mut threads = Vec::with_capacity(i.thread_tid.len());
  for (k, (&tid, name)) in i.thread_tid.iter().zip(&i.thread_name).enumerate() {
    let t = p.add_thread(process, tid, Timestamp::from_millis_since_reference(0.0), k == 0);
    p.set_thread_name(t, name);
    threads.push(t);
  }
  // Stacks are interned per thread (the format keeps one stack table per thread).
  let mut memo: Vec<std::collections::HashMap<i32, StackHandle>> = vec![Default::default(); threads.len()];
  let frame_count = i.frame_label.len() as i32;
  for s in 0..n {
    let t = usize::try_from(i.sample_thread[s]).ok().filter(|&t| t < threads.len()).ok_or_else(|| bad("sample thread out of range"))?;
    let th = threads[t];
    let leaf = i.sample_stack[s];
    // Walk up to the first stack already interned for this thread, then intern downwards.
    let mut chain = Vec::new();
    let mut cur = leaf;
    while cur >= 0 && !memo[t].contains_key(&cur) {
      if cur as usize >= i.stack_parent.len() {
        return Err(bad("stack id out of range"));
      }
      chain.push(cur);
      cur = i.stack_parent[cur as usize];
    }
    let mut parent = if cur >= 0 { memo[t].get(&cur).copied() } else { None };
    for &sid in chain.iter().rev() {
      let f = i.stack_frame[sid as usize];
      if f < 0 || f >= frame_count {
        return Err(bad("frame id out of range"));
      }
      let (category, flags) = match i.frame_kind[f as usize].as_str() {
        "js" => (js, FrameFlags::IS_JS),
        "builtin" => (builtin, FrameFlags::IS_RELEVANT_FOR_JS),
        "native" => (native, FrameFlags::empty()),
        "kernel" => (kernel, FrameFlags::empty()),
        _ => (unknown, FrameFlags::empty()),
      };
      let label = p.intern_string(&i.frame_label[f as usize]);
      let fh = p.intern_frame(th, FrameInfo { frame: Frame::Label(label), category_pair: category, flags });
      let sh = p.intern_stack(th, parent, fh);
      memo[t].insert(sid, sh);
      parent = Some(sh);
    }
    let stack = if leaf >= 0 { memo[t].get(&leaf).copied() } else { None };
    let ts = Timestamp::from_nanos_since_reference(i.sample_time_ns[s].max(0.0) as u64);
    let weight = if i.time_based { 1 } else { i.sample_weight[s].clamp(1.0, i32::MAX as f64) as i32 };
    p.add_sample(th, ts, stack, CpuDelta::ZERO, weight);
  }
  let _ = &i.event;
  serde_json::to_string(&p).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

impl Task for FirefoxTask {
  type Output = String;
  type JsValue = String;
  fn compute(&mut self) -> Result<String> {
    firefox_json(self.input.take().ok_or_else(|| Error::new(Status::GenericFailure, "task ran twice".to_string()))?)
  }
  fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
    Ok(output)
  }
}

/// Writes a profile in the Firefox Profiler's processed format (JSON; open it at profiler.firefox.com), threads as threads.
#[napi(ts_return_type = "Promise<string>")]
pub fn firefox_profile(input: FxInput) -> AsyncTask<FirefoxTask> {
  AsyncTask::new(FirefoxTask { input: Some(input) })
}

/// Versions of the libraries inside this addon.
#[napi]
pub fn symbolizer_info() -> String {
  "blazesym 0.2.7, inferno 0.12.8, fxprof-processed-profile 0.8.1".to_string()
}
