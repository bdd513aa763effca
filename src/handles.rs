//! Per-thread tables of open handles, and the per-thread stat buffer.
//!
//! Hot calls (`counterStat`, `groupStat`) are plain functions that take a
//! handle number: a napi-rs class method call costs ~200 ns of unwrapping on
//! this machine, more than a third of a `read(2)`. The class instances still
//! own their handles: dropping one (close, GC, env teardown) removes its entry
//! and closes the fds. Each JS thread (main, worker) has its own tables, which
//! also keeps `!Send` values such as `CounterGroup` on the thread that made them.

use std::cell::{Cell, RefCell};

use napi::bindgen_prelude::BigUint64Array;

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

thread_local! {
    /// Where `counterStat`/`groupStat` write: a BigUint64Array of the facade
    /// module of this thread, registered once (see lib/stat.ts).
    static STAT_BUF: Cell<(*mut u64, usize)> = const { Cell::new((std::ptr::null_mut(), 0)) };
    /// The strong reference that keeps that array alive while registered.
    /// napi-rs turns its release into a no-op once the env is gone.
    static STAT_REF: RefCell<Option<BigUint64Array>> = const { RefCell::new(None) };
}

/// Registers the thread's stat buffer and keeps a reference to it. It is
/// larger than V8's on-heap typed array limit (checked by the caller), so its
/// memory is off the V8 heap and does not move; the facade never transfers it.
pub fn set_stat_buffer(mut buf: BigUint64Array) {
    // SAFETY: the reference stored below keeps the memory alive until replaced.
    let s = unsafe { buf.as_mut() };
    STAT_BUF.with(|b| b.set((s.as_mut_ptr(), s.len())));
    STAT_REF.with(|r| *r.borrow_mut() = Some(buf));
}

/// Runs `f` on the registered stat buffer.
pub fn with_stat_buffer<R>(f: impl FnOnce(&mut [u64]) -> Result<R>) -> Result<R> {
    let (ptr, len) = STAT_BUF.with(Cell::get);
    if ptr.is_null() {
        return Err(invalid("no stat buffer registered"));
    }
    // SAFETY: registered by `set_stat_buffer` on this thread; JS is blocked in this call.
    f(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
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
