//! PERF_EVENT_IOC_SET_OUTPUT: send an event's records into another event's ring (the crate has no
//! wrapper). Profiling a whole process opens one event per thread per CPU and redirects them all into
//! one ring per CPU, as `perf record -p` does, so rings (and mmaps) stay one per CPU.

use napi_derive::napi;

use crate::error::{io_to_napi, Result};

/// `_IO('$', 5)`
const PERF_EVENT_IOC_SET_OUTPUT: libc::c_ulong = 0x2405;

/// Redirects the records of the event on `fd` into the ring of the event on `target_fd`
/// (PERF_EVENT_IOC_SET_OUTPUT; both on the same CPU, or both per-thread). Since Linux 2.6.32.
#[napi]
pub fn set_output(fd: i32, target_fd: i32) -> Result<()> {
    // SAFETY: the ioctl takes two fds by value and touches no memory of ours; a bad fd is EBADF.
    let rc = unsafe { libc::ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT as _, target_fd) };
    if rc < 0 {
        return Err(io_to_napi("ioctl", std::io::Error::last_os_error()));
    }
    Ok(())
}
