//! The one place where `std::io::Error` from the crate (or the kernel) becomes
//! error data for JavaScript. Rust never builds user-facing hints: it returns
//! a stable `code` (the errno name, or an `ERR_*` code for crate-level
//! conditions) and a short reason; the TypeScript facade turns that into a
//! `PerfEventError` with `errno`, `syscall` and a `hint`.

use std::io::{self, ErrorKind};

/// Result type of every fallible native call: `err.code` is set in JS.
pub type Result<T> = napi::Result<T, String>;

/// Errno names for the errors perf_event_open(2), ioctl(2), read(2) and mmap(2) return.
fn errno_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => return None,
    })
}

/// Converts an error of the crate into error data for JS.
///
/// `op` names the operation (`perf_event_open`, `ioctl`, `read`, `mmap`…);
/// it becomes the reason's prefix so the facade can fill `syscall`.
pub fn io_to_napi(op: &str, err: io::Error) -> napi::Error<String> {
    if let Some(errno) = err.raw_os_error() {
        let code = errno_name(errno).map(str::to_owned).unwrap_or_else(|| format!("ERRNO_{errno}"));
        let text = io::Error::from_raw_os_error(errno).to_string();
        return napi::Error::new(code, format!("{op}|{errno}|{text}"));
    }
    let code = match err.kind() {
        // An option the compiled kernel variant does not have.
        ErrorKind::Unsupported => "ERR_UNSUPPORTED_BY_BUILD",
        // read(2) returned 0 bytes: a pinned counter that could not be scheduled.
        ErrorKind::UnexpectedEof => "ERR_COUNTER_ERROR_STATE",
        ErrorKind::AlreadyExists => "ERR_SAMPLER_EXISTS",
        ErrorKind::InvalidInput => "EINVAL",
        ErrorKind::NotFound => "ENOENT",
        ErrorKind::PermissionDenied => "EACCES",
        _ => "ERR_PERF",
    };
    napi::Error::new(code.to_owned(), format!("{op}|0|{err}"))
}

/// Error data for invalid arguments that reach native code (the facade
/// validates first, so these are defensive).
pub fn invalid(what: impl std::fmt::Display) -> napi::Error<String> {
    napi::Error::new("ERR_INVALID_ARG".to_owned(), format!("argument|0|{what}"))
}

/// Error data for a handle used after `close()`.
pub fn closed(what: &str) -> napi::Error<String> {
    napi::Error::new("ERR_CLOSED".to_owned(), format!("{what}|0|{what} is closed"))
}

/// Extension to attach the operation name while converting.
pub trait IoContext<T> {
    fn op(self, op: &str) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn op(self, op: &str) -> Result<T> {
        self.map_err(|e| io_to_napi(op, e))
    }
}

/// Error data for a handle whose fd number now refers to another file (user
/// code closed it and the number was reused): the package left that file alone.
pub fn fd_replaced(what: &str, fd: i32) -> napi::Error<String> {
    napi::Error::new(
        "ERR_FD_REPLACED".to_owned(),
        format!("{what}|0|the {what}'s file descriptor {fd} no longer refers to its perf event (it was closed by other code and the number reused); that file was left untouched"),
    )
}
