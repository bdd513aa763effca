//! Per-thread tables of open handles, and the per-thread stat buffer.
//!
//! Hot calls (`counterStat`, `groupStat`) are plain functions that take a
//! handle number: a napi-rs class method call costs ~200 ns of unwrapping on
//! this machine, more than a third of a `read(2)`. The class instances still
//! own their handles: dropping one (close, GC, env teardown) removes its entry
//! and closes the fds. Each JS thread (main, worker) has its own tables, which
//! also keeps `!Send` values such as `CounterGroup` on the thread that made them.

use std::cell::{Cell, RefCell};

use napi::bindgen_prelude::{JsValue, Unknown};
use napi::{sys, Env};

use crate::error::{invalid, Result};

pub struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    pub const fn new() -> Self {
        Self { items: Vec::new(), free: Vec::new() }
    }

    pub fn insert(&mut self, v: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.items[i as usize] = Some(v);
            i
        } else {
            self.items.push(Some(v));
            (self.items.len() - 1) as u32
        }
    }

    pub fn remove(&mut self, i: u32) -> Option<T> {
        let v = self.items.get_mut(i as usize)?.take();
        if v.is_some() {
            self.free.push(i);
        }
        v
    }

    pub fn get(&self, i: u32) -> Option<&T> {
        self.items.get(i as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        self.items.get_mut(i as usize)?.as_mut()
    }
}

/// Where `counterStat`/`groupStat` (and the switches) write: the memory of the BigUint64Array a
/// facade registered last on this thread (see lib/handles/stat.ts), a strong reference to its
/// ArrayBuffer, and the env they belong to.
#[derive(Clone, Copy)]
struct StatReg {
    env: sys::napi_env,
    buffer: sys::napi_ref,
    ptr: *mut u64,
    len: usize,
}

const NO_STAT_REG: StatReg = StatReg { env: std::ptr::null_mut(), buffer: std::ptr::null_mut(), ptr: std::ptr::null_mut(), len: 0 };

thread_local! {
    /// The registered stat buffer. Its memory is looked up once, at registration: the ArrayBuffer
    /// is fixed-length (resizable and shared ones are refused), so its memory stays put for as long
    /// as the reference keeps it alive and it is not detached, which is checked before every write
    /// (a transferred buffer gives an error instead of a write into freed memory).
    static STAT_REG: Cell<StatReg> = const { Cell::new(NO_STAT_REG) };
}

extern "C" {
    // N-API 7 (Node 14.14+); declared here as napi-sys offers it only with its `napi7` feature.
    fn napi_is_detached_arraybuffer(env: sys::napi_env, value: sys::napi_value, result: *mut bool) -> sys::napi_status;
}

/// Whether `value` (an ArrayBuffer or SharedArrayBuffer) has a property `name` that is `true`.
unsafe fn flag(env: sys::napi_env, value: sys::napi_value, name: &std::ffi::CStr) -> bool {
    let mut v = std::ptr::null_mut();
    let mut b = false;
    unsafe {
        sys::napi_get_named_property(env, value, name.as_ptr(), &mut v) == sys::Status::napi_ok
            && sys::napi_get_value_bool(env, v, &mut b) == sys::Status::napi_ok
            && b
    }
}

/// Registers the thread's stat buffer and keeps a strong reference to its ArrayBuffer.
/// The previous one (if any) is released. Env teardown forgets it.
pub fn set_stat_buffer(env: &Env, buf: Unknown<'_>) -> Result<()> {
    let raw_env = env.raw();
    // SAFETY: `buf` is a live value of this env; the checks below reject anything but a
    // BigUint64Array over a fixed-length, non-shared ArrayBuffer.
    unsafe {
        let value = buf.raw();
        let (ptr, len, ab) = typed_u64s(raw_env, value).ok_or_else(|| invalid("Expected a BigUint64Array for the stat buffer"))?;
        let mut is_ab = false;
        if sys::napi_is_arraybuffer(raw_env, ab, &mut is_ab) != sys::Status::napi_ok || !is_ab || flag(raw_env, ab, c"resizable") {
            return Err(invalid("Expected a BigUint64Array over a fixed-length ArrayBuffer for the stat buffer"));
        }
        let mut r = std::ptr::null_mut();
        if sys::napi_create_reference(raw_env, ab, 1, &mut r) != sys::Status::napi_ok {
            return Err(invalid("could not reference the stat buffer"));
        }
        let old = STAT_REG.with(|c| c.replace(StatReg { env: raw_env, buffer: r, ptr, len }));
        if !old.buffer.is_null() && old.env == raw_env {
            sys::napi_delete_reference(raw_env, old.buffer);
        }
        if old.env != raw_env {
            env.add_env_cleanup_hook((), |_| STAT_REG.with(|c| c.set(NO_STAT_REG))).map_err(|e| invalid(e.reason))?;
        }
    }
    Ok(())
}

/// The memory and ArrayBuffer of a BigUint64Array, or None for anything else or a detached one.
unsafe fn typed_u64s(env: sys::napi_env, value: sys::napi_value) -> Option<(*mut u64, usize, sys::napi_value)> {
    let mut is = false;
    if unsafe { sys::napi_is_typedarray(env, value, &mut is) } != sys::Status::napi_ok || !is {
        return None;
    }
    let mut ty = 0;
    let mut len = 0usize;
    let mut data = std::ptr::null_mut();
    let mut ab = std::ptr::null_mut();
    let mut off = 0usize;
    let st = unsafe { sys::napi_get_typedarray_info(env, value, &mut ty, &mut len, &mut data, &mut ab, &mut off) };
    if st != sys::Status::napi_ok || ty != sys::TypedarrayType::biguint64_array || data.is_null() || len == 0 || ab.is_null() {
        return None;
    }
    Some((data.cast(), len, ab))
}

/// Runs `f` on the registered stat buffer, after checking that its ArrayBuffer is still
/// attached: user code may have transferred it since registration.
/// Uses the env the buffer was registered in: this thread's only live env (a torn-down
/// env's cleanup hook forgets its buffer), which saves napi-rs's per-call `Env` argument.
pub fn with_stat_buffer<R>(f: impl FnOnce(&mut [u64]) -> Result<R>) -> Result<R> {
    let reg = STAT_REG.with(Cell::get);
    if reg.buffer.is_null() {
        return Err(invalid("no stat buffer registered"));
    }
    // SAFETY: the reference belongs to `reg.env`, this thread's live env, and is strong.
    unsafe {
        let mut value = std::ptr::null_mut();
        let mut detached = true;
        if sys::napi_get_reference_value(reg.env, reg.buffer, &mut value) != sys::Status::napi_ok
            || value.is_null()
            || napi_is_detached_arraybuffer(reg.env, value, &mut detached) != sys::Status::napi_ok
        {
            return Err(invalid("the stat buffer is gone"));
        }
        if detached {
            return Err(invalid("the stat buffer was detached (its ArrayBuffer transferred)"));
        }
    }
    // SAFETY: a fixed-length ArrayBuffer that is attached still has the memory it had at
    // registration (kept alive by the strong reference); JS is blocked in this call, so the
    // memory cannot be detached or freed while `f` runs.
    f(unsafe { std::slice::from_raw_parts_mut(reg.ptr, reg.len) })
}

/// One `read(2)` straight into the registered stat buffer, in the kernel's `read_format` layout
/// (decoded by lib/handles/stat.ts), of the handle named in the low half of the buffer's last slot (so
/// the hot call takes no argument). The last slot then gets the bytes read in its low half and 1
/// in its high half: the facade clears that before the call, so it sees whether its own buffer
/// was the one registered (another copy of the facade may have registered its own since).
///
/// `fd_of` gives the fd and the identity of its perf event recorded at open: a failed read of an fd
/// that is not that event any more (other code closed it; the number may belong to another file)
/// gives ERR_FD_REPLACED naming `what`. A read that succeeds on a foreign file is caught by the
/// facade, which checks the byte count and ids and then asks `checkFds`.
pub fn read_into_stat_buffer(what: &str, fd_of: impl FnOnce(u32) -> Result<(i32, Option<FdIdentity>, Option<[u64; 4]>)>) -> Result<()> {
    with_stat_buffer(|out| {
        let last = out.len() - 1;
        let (fd, identity, now) = fd_of(out[last] as u32)?;
        // Read in user space (user_read.rs): count, time enabled, time running, id, as read(2) lays them out.
        if let Some(values) = now.filter(|_| last >= 4) {
            out[..4].copy_from_slice(&values);
            out[last] = 32 | (1 << 32);
            return Ok(());
        }
        let room = last * 8;
        // SAFETY: `out` is live, writable memory of `room` + 8 bytes (checked by with_stat_buffer).
        let n = unsafe { libc::read(fd, out.as_mut_ptr().cast(), room) };
        if n <= 0 {
            let err = std::io::Error::last_os_error();
            if identity.is_some_and(|id| !id.matches(fd)) {
                return Err(crate::error::fd_replaced(what, fd));
            }
            if n < 0 {
                return Err(crate::error::io_to_napi("read", err));
            }
            // A pinned counter that could not be scheduled is in error state: read(2) returns 0.
            return Err(crate::error::io_to_napi("read", std::io::ErrorKind::UnexpectedEof.into()));
        }
        out[last] = n as u64 | (1 << 32);
        Ok(())
    })
}

/// The handle of a switch (`counterEnable`, `groupDisable`, ...; no arguments): the facade puts
/// the handle in the low half of the stat buffer's last slot and 2 ("armed") in its high half.
/// Taking it sets the slot to 1 in the high half ("done"), before the operation runs, so that a
/// handle is acted on once. `None` when the slot is not armed: the registered buffer is another
/// copy of the facade's (whose last slot holds a finished call), so nothing is done and the facade,
/// seeing no "done" mark in its own buffer, registers its buffer and calls again.
pub fn take_armed_handle() -> Result<Option<u32>> {
    with_stat_buffer(|out| {
        let last = out.len() - 1;
        let v = out[last];
        if v >> 32 != 2 {
            return Ok(None);
        }
        out[last] = 1 << 32;
        Ok(Some(v as u32))
    })
}

/// A per-thread table of `T`.
pub struct Table<T: 'static>(&'static std::thread::LocalKey<RefCell<Slab<T>>>);

impl<T> Table<T> {
    pub const fn new(key: &'static std::thread::LocalKey<RefCell<Slab<T>>>) -> Self {
        Self(key)
    }

    pub fn insert(&self, v: T) -> u32 {
        self.0.with(|s| s.borrow_mut().insert(v))
    }

    pub fn remove(&self, h: u32) -> Option<T> {
        // try_with: during thread teardown the table may already be gone (its own drop closed the fds).
        self.0.try_with(|s| s.borrow_mut().remove(h)).ok().flatten()
    }

    pub fn with<R>(&self, h: u32, what: &str, f: impl FnOnce(&T) -> Result<R>) -> Result<R> {
        self.0.with(|s| {
            let s = s.borrow();
            let v = s.get(h).ok_or_else(|| crate::error::closed(what))?;
            f(v)
        })
    }

    pub fn with_mut<R>(&self, h: u32, what: &str, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        self.0.with(|s| {
            let mut s = s.borrow_mut();
            let v = s.get_mut(h).ok_or_else(|| crate::error::closed(what))?;
            f(v)
        })
    }
}

/// A class instance's ownership of one table entry. Closing (or dropping,
/// when the instance is collected or its env torn down) removes the entry,
/// which closes its fds. A closed owner never touches the slot again, even
/// after the table reuses the slot number for a new entry.
pub struct Owned<T: 'static> {
    table: &'static Table<T>,
    what: &'static str,
    handle: Option<u32>,
}

impl<T> Owned<T> {
    pub fn new(table: &'static Table<T>, what: &'static str, value: T) -> Self {
        Self { table, what, handle: Some(table.insert(value)) }
    }

    /// The slot number (stays readable after close; hot paths check `closed` in JS first).
    pub fn handle(&self) -> u32 {
        self.handle.unwrap_or(u32::MAX)
    }

    pub fn is_closed(&self) -> bool {
        self.handle.is_none()
    }

    pub fn with<R>(&self, f: impl FnOnce(&T) -> Result<R>) -> Result<R> {
        let h = self.handle.ok_or_else(|| crate::error::closed(self.what))?;
        self.table.with(h, self.what, f)
    }

    pub fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let h = self.handle.ok_or_else(|| crate::error::closed(self.what))?;
        self.table.with_mut(h, self.what, f)
    }

    /// Takes the value out of the table without dropping it (the caller decides
    /// whether its fds may be closed). Later calls see a closed handle.
    pub fn take(&mut self) -> Option<T> {
        let h = self.handle.take()?;
        self.table.remove(h)
    }

    /// Idempotent.
    pub fn close(&mut self) {
        if let Some(h) = self.handle.take() {
            self.table.remove(h);
        }
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        self.close();
    }
}

/// What identifies one perf event's open file: the inode of the file (perf
/// events share the `[perf_event]` anonymous inode) and the event's kernel id.
/// Checked before this package closes an fd it handed out (or owns), so that it
/// never closes or ioctls a file that took over the number after user code
/// closed it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FdIdentity {
    dev: u64,
    ino: u64,
    id: u64,
}

const PERF_EVENT_IOC_ID: libc::c_ulong = 0x8008_2407;

impl FdIdentity {
    /// The identity of `fd` if it is a perf event fd; `None` for any other file
    /// (a perf ioctl is only sent once `fstat` shows the perf anonymous inode of `like`).
    pub fn of(fd: i32, like: Option<&FdIdentity>) -> Option<FdIdentity> {
        // SAFETY: fstat writes into a zeroed stat of the right type; a bad fd gives -1.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return None;
        }
        let (dev, ino) = (st.st_dev as u64, st.st_ino as u64);
        if let Some(l) = like {
            if (l.dev, l.ino) != (dev, ino) {
                return None;
            }
        }
        let mut id: u64 = 0;
        // SAFETY: PERF_EVENT_IOC_ID writes one u64.
        if unsafe { libc::ioctl(fd, PERF_EVENT_IOC_ID as _, &mut id as *mut u64) } != 0 {
            return None;
        }
        Some(FdIdentity { dev, ino, id })
    }

    /// Whether `fd` still refers to this perf event.
    pub fn matches(&self, fd: i32) -> bool {
        FdIdentity::of(fd, Some(self)).as_ref() == Some(self)
    }
}

/// An fd handed out to JavaScript (`counter.fd`): a dup of the handle's own fd,
/// so user code that closes it cannot make this package act on a foreign file.
/// Closed only if it is still the same perf event.
pub struct LentFd {
    fd: i32,
    identity: FdIdentity,
}

impl LentFd {
    /// Dups `fd` (close-on-exec).
    pub fn lend(fd: i32, identity: FdIdentity) -> std::io::Result<LentFd> {
        // SAFETY: F_DUPFD_CLOEXEC on an fd this handle owns.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(LentFd { fd: dup, identity })
    }

    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// Whether the lent number still refers to our event (user code may have closed it).
    pub fn intact(&self) -> bool {
        self.identity.matches(self.fd)
    }
}

impl Drop for LentFd {
    fn drop(&mut self) {
        if self.intact() {
            // SAFETY: the number still refers to the dup this value made.
            unsafe { libc::close(self.fd) };
        }
    }
}
