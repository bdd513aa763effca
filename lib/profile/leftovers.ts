/**
 * The files a profiled command's Node processes leave behind, removed once its profile is built:
 * V8's perf maps (`/tmp/perf-<pid>.map`, written because of `--perf-basic-prof`, 0.1–10 MB each)
 * and the `isolate-0x…-<pid>-v8.log` files that `--perf-basic-prof` also makes V8 write into the
 * working directory. Only files of processes this profile saw (pids of the command and of the
 * processes it started), owned by this user, made after the command started, and of processes that
 * have exited: never another process's.
 * @packageDocumentation
 */
import { lstatSync, readdirSync, unlinkSync } from 'node:fs'
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
  /**
   * Whether the command asked V8 for a log itself (`--prof`, `--log…`, `--logfile` in its arguments or
   * NODE_OPTIONS): then its `v8.log` files are its output and stay.
   */
  readonly keepV8Logs: boolean
}

/** V8 flags whose output is a `v8.log` the user wants. */
const V8_LOG_FLAG = /^--(prof|log|logfile|logfile-per-isolate|log-[\w-]+)(=|$)/

/** Whether `args` (a command line or NODE_OPTIONS split on spaces) ask V8 for its log. */
export function asksForV8Log(args: readonly string[]): boolean {
  return args.some((a) => V8_LOG_FLAG.test(a))
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
export function removeLeftovers({ pids, cwd, since, keepV8Logs }: Leftovers): string[] {
  const gone = [...new Set(pids)].filter((pid) => pid > 0 && !alive(pid))
  const removed = gone.map(perfMapPath).filter((p) => removeOwn(p, since))
  if (!keepV8Logs && gone.length > 0) {
    const want = new Set(gone.map(String))
    let names: string[] = []
    try {
      names = readdirSync(cwd)
    } catch {
      // unreadable directory: nothing of ours can be there
    }
    for (const name of names) {
      const m = /^isolate-0x[0-9a-f]+-(\d+)-(?:\d+-)?v8\.log$/.exec(name)
      if (m && want.has(m[1]) && removeOwn(join(cwd, name), since)) removed.push(join(cwd, name))
    }
  }
  return removed
}
