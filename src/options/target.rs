//! Where to count: a pid/cpu pair or a cgroup.

use std::fs::File;

use napi_derive::napi;
use perf_event_open::config::{Cgroup, Cpu, Proc, Target};

use crate::error::{invalid, IoContext, Result};

/// Where to count, validated by the facade. `-1` means all.
#[napi(object, object_to_js = false)]
pub struct NativeTarget {
    /// Thread or process id, 0 for the calling thread, -1 for every process (needs a cpu).
    pub pid: i32,
    /// CPU number, or -1 for any CPU.
    pub cpu: i32,
    /// cgroup directory path (then `pid` is ignored and `cpu` is needed).
    pub cgroup: Option<String>,
}

/// Resolves a target and calls `open` with it. A cgroup target opens the
/// cgroup directory for the duration of the call (the kernel takes its own reference).
pub fn with_target<T>(t: &NativeTarget, open: impl FnOnce(Target) -> Result<T>) -> Result<T> {
    if let Some(path) = &t.cgroup {
        if t.cpu < 0 {
            return Err(invalid("a cgroup target needs a cpu"));
        }
        // A cgroup is a directory: O_DIRECTORY fails fast (ENOTDIR) on a FIFO, device or
        // socket, and O_NONBLOCK makes sure open(2) itself never waits.
        use std::os::unix::fs::OpenOptionsExt;
        let file: File = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .op("open")?;
        return open((Cgroup(&file), Cpu(t.cpu as u32)).into());
    }
    let target: Target = match (t.pid, t.cpu) {
        (pid, cpu) if pid >= 0 && cpu >= 0 => (Proc(pid as u32), Cpu(cpu as u32)).into(),
        (pid, _) if pid >= 0 => (Proc(pid as u32), Cpu::ALL).into(),
        (_, cpu) if cpu >= 0 => (Proc::ALL, Cpu(cpu as u32)).into(),
        _ => return Err(invalid("pid 'all' needs a specific cpu")),
    };
    open(target)
}
