/**
 * The files a profiled command's Node processes leave behind, removed once its profile is built:
 * V8's perf maps (`/tmp/perf-<pid>.map`, written because of `--perf-basic-prof`, 0.1–10 MB each)
 * and the `isolate-0x…-<pid>-v8.log` files that `--perf-basic-prof` also makes V8 write into the
 * working directory. Only files of processes this profile saw (pids of the command and of the
 * processes it started), owned by this user, made after the command started, and of processes that
 * have exited: never another process's. A V8 log is removed only when it holds nothing but what
 * `--perf-basic-prof` alone makes V8 write (its version and memory-chunk events): a log with code
 * events or ticks was asked for (`--prof`, `--log-code`…) and stays.
 * @packageDocumentation
 */
import { closeSync, constants, lstatSync, openSync, readdirSync, readSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { perfMapPath } from './perfmap'

/** What `removeLeftovers` looks at. */
export interface Leftovers {
  /** Processes of the profiled command (the command itself and those it started). */
  readonly pids: Iterable<number>
  /** The command's working directory, where V8 writes its `isolate-…-v8.log`. */
  readonly cwd: string
  /** When the command started (ms since the epoch): older files are not its. */
  readonly since: number
}

/** The records V8 writes to its log because of `--perf-basic-prof` alone (nothing the user asked for). */
const PERF_MAP_ONLY_RECORDS = new Set(['v8-version', 'v8-platform', 'new', 'delete', 'heap-capacity', 'heap-available'])

/** Whether a V8 log holds only what `--perf-basic-prof` makes V8 write (small: read whole, up to 1 MiB). */
function onlyPerfMapLog(path: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    const buf = Buffer.alloc(1 << 20)
    const n = readSync(fd, buf, 0, buf.length, 0)
    if (n === buf.length) return false // larger than such a log gets: the user's
    for (const line of buf.toString('latin1', 0, n).split('\n')) if (line && !PERF_MAP_ONLY_RECORDS.has(line.slice(0, line.indexOf(',')))) return false
    return true
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes `path` if it is a regular file of this user, with one link, modified since `since`. */
function removeOwn(path: string, since: number): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false })
  const uid = process.geteuid?.() ?? st?.uid
  if (!st || !st.isFile() || st.uid !== uid || st.nlink !== 1 || st.mtimeMs < since - 1000) return false
  try {
    unlinkSync(path)
    return true
  } catch {
    return false
  }
}

/** Removes the command's leftover perf maps and V8 logs; returns the paths removed. */
export function removeLeftovers({ pids, cwd, since }: Leftovers): string[] {
  const gone = [...new Set(pids)].filter((pid) => pid > 0 && !alive(pid))
  const removed = gone.map(perfMapPath).filter((p) => removeOwn(p, since))
  if (gone.length > 0) {
    const want = new Set(gone.map(String))
    let names: string[] = []
    try {
      names = readdirSync(cwd)
    } catch {
      // unreadable directory: nothing of ours can be there
    }
    for (const name of names) {
      const m = /^isolate-0x[0-9a-f]+-(\d+)-(?:\d+-)?v8\.log$/.exec(name)
      if (m && want.has(m[1]) && onlyPerfMapLog(join(cwd, name)) && removeOwn(join(cwd, name), since)) removed.push(join(cwd, name))
    }
  }
  return removed
}
