import { closeSync, constants, fstatSync, lstatSync, openSync, unlinkSync } from 'node:fs'
import { PerfEventError } from '../errors/errors'
import { perfMapUnsafeHint } from '../errors/hints'
import { perfMapPath } from './perfmap'

/** The perf map path of a child, held for it from before its exec until its profile is done. */
export interface PerfMapClaim {
  readonly path: string
  /** Whether the file was created here (then `release()` removes it if the command wrote nothing). */
  readonly created: boolean
  release(): void
}

function kind(st: import('node:fs').Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  if (st.isDirectory()) return 'a directory'
  if (st.isSocket()) return 'a socket'
  return 'a file'
}

/**
 * Makes V8's perf map path of `pid` (a child that has not exec'd yet) safe for it to write:
 * `/tmp/perf-<pid>.map` is in a world-writable directory, and V8 (`--perf-basic-prof`) opens it with
 * `fopen(path, "w")`, which follows a symlink and truncates what it finds. The path is created here
 * (`O_CREAT | O_EXCL | O_NOFOLLOW`, owned by this process's user, so that nobody else can replace it
 * in the sticky directory); a file already there is accepted only if it is a regular file with one
 * link, owned by this process's user (a stale map of a reused pid: V8 truncates it).
 * @throws PerfEventError `ERR_PERF_MAP_UNSAFE` for anything else (a symlink, a FIFO, a device, another user's file).
 */
export function claimPerfMap(pid: number): PerfMapClaim {
  const path = perfMapPath(pid)
  const uid = process.geteuid?.() ?? 0
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644)
    const { ino, dev } = fstatSync(fd)
    return {
      path,
      created: true,
      release() {
        try {
          const now = lstatSync(path, { throwIfNoEntry: false })
          if (fstatSync(fd).size === 0 && now && now.ino === ino && now.dev === dev) unlinkSync(path)
        } catch {
          // already gone
        } finally {
          closeSync(fd)
        }
      },
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return { path, created: false, release() {} } // /tmp not writable: V8 cannot write there either
  }
  const st = lstatSync(path, { throwIfNoEntry: false })
  if (!st) return claimPerfMap(pid) // removed meanwhile
  let why: string | undefined
  if (!st.isFile()) why = `is ${kind(st)}`
  else if (st.uid !== uid) why = `belongs to uid ${st.uid}, not to this user (uid ${uid})`
  else if (st.nlink !== 1) why = `has ${st.nlink} hard links`
  if (why === undefined) return { path, created: false, release() {} }
  throw new PerfEventError(`V8's perf map path ${path} of the command (pid ${pid}) already exists and ${why}: a Node command run with --perf-basic-prof would write through it, so it was not started`, 'ERR_PERF_MAP_UNSAFE', {
    syscall: 'open',
    hint: perfMapUnsafeHint(path),
  })
}
