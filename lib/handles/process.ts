import { Counter } from './counter'
import { closedError, PerfEventError, rangeError, typeError } from '../errors/errors'
import { PROCESS_HINTS } from '../errors/hints'
import { resolveEvent, type EventInput } from '../events/events'
import { measureAsync, measureSync } from './handle'
import { release } from 'node:os'
import { binding } from '../loading/binding'
import type { CounterOptions, Exclude } from '../events/options'
import { versionLess } from '../events/since'
import { scale, type Stat } from './stat'
import { threadIds, threadName } from '../system/threads'
import { fdRoom } from '../system/limits'

/** Options of a `ProcessCounter`. */
export interface ProcessCounterOptions {
  /**
   * Count this addon's own threads too (the `tokio-rt-worker` threads that serve `records()`).
   * Default `false` for `'self'`: they are left out so that the counts are those of your program.
   * Ignored for another pid (every thread of it is counted).
   */
  includeAddonThreads?: boolean
  /**
   * Also count child processes started after the counter was opened (and their threads).
   * Default `false`: only threads of the process. Without `children`, Linux 5.13+ and a build with
   * its ABI are needed to leave new child processes out (`inherit_thread`); on older ones child
   * processes are counted anyway (`inheritsChildren` says which applies).
   */
  children?: boolean
  /** Privilege levels not to count (event-string modifiers such as `:u` fill it too). */
  exclude?: Exclude
}

/** Totals of one event over every counted thread. */
export interface ProcessEventStat {
  /** The event as given. */
  label: string
  /** Sum of the raw counts of every thread (threads that exited included). */
  count: bigint
  /** Sum of each thread's count scaled to its enabled time (equals `count` without multiplexing). */
  scaled: bigint
  /** ns enabled, summed over threads. */
  timeEnabled: bigint
  /** ns on the PMU, summed over threads; below `timeEnabled` when multiplexed. */
  timeRunning: bigint
  /** Some thread's counter ran for less time than it was enabled: `scaled` is an estimate. */
  multiplexed: boolean
  /** Percentage of the enabled time the event was on the PMU (100 without multiplexing). */
  runningPercent: number
  /** Present (`true`) when the event counts user space only: the kernel refused kernel-mode counting (`label` ends in `:u`). */
  userSpaceOnly?: true
}

/** Counts of one thread. */
export interface ThreadStat {
  /** Kernel thread id. */
  tid: number
  /** Thread name (`/proc/<pid>/task/<tid>/comm`) when the counter was opened. */
  name: string
  /** The thread has exited; its counts are kept. */
  exited: boolean
  /**
   * Scaled counts, one per event in the order given. They include the threads this thread started
   * after the counter was opened (inherited counters fold a child's counts into its creator's).
   */
  counts: bigint[]
  /** The same scaled counts keyed by event label, like `ProcessStat.total` (`byEvent['task-clock']`; `'task-clock:u'` where it counts user space only). */
  byEvent: Record<string, bigint>
}

/** One read of a `ProcessCounter`. */
export interface ProcessStat {
  pid: number
  /** One entry per event, in the order given. */
  events: ProcessEventStat[]
  /** Scaled totals by event label. */
  total: Record<string, bigint>
  /** Per thread present when the counter was opened, in tid order. */
  threads: ThreadStat[]
  /**
   * Threads alive now that started after the counter was opened (the addon's own left out unless
   * included): their counts are in `threads`, in the row of the thread that started them.
   */
  laterThreads: { tid: number; name: string }[]
}

/** Thread names of this addon's runtime threads. */
const ADDON_THREAD = /^tokio-/

let addonThreadsStarted = false

/**
 * Starts the addon's runtime threads (napi-rs's tokio runtime, otherwise created on the first
 * `records()`), so that a `ProcessCounter` of `'self'` can leave them out rather than inherit
 * them when they start later.
 */
function startAddonThreads(): void {
  if (addonThreadsStarted) return
  addonThreadsStarted = true
  let c: Counter
  try {
    c = new Counter('dummy', undefined, { sampleOn: { count: 1n }, exclude: { kernel: true, hv: true } })
  } catch {
    return // Nothing to start where counters cannot be opened; the ProcessCounter reports why.
  }
  try {
    const s = c.sampler(0)
    const ac = new AbortController()
    const it = s.records({ signal: ac.signal })
    // The generator runs synchronously up to its first wait, which spawns the runtime.
    it.next().then(
      () => s.close(),
      () => s.close(),
    )
    ac.abort()
  } catch {
    // No ring buffer (mlock limits): the runtime starts later, on the first records(), and its
    // threads are then counted in the thread that starts them.
  } finally {
    c.close()
  }
}

/** Fails early, with the numbers, when one fd per event per thread would not fit RLIMIT_NOFILE. */
function checkFdRoom(needed: number, events: number): void {
  const room = fdRoom()
  if (needed <= room) return
  throw new PerfEventError(`A ProcessCounter needs ${needed} file descriptors (${events} event(s) × ${needed / events} threads) but only ${room} more may be opened (RLIMIT_NOFILE)`, 'EMFILE', {
    syscall: 'perf_event_open',
    hint: PROCESS_HINTS.fdRoom,
  })
}

interface Opened {
  tid: number
  name: string
  counters: Counter[]
}

/**
 * Counts every thread of a process: the threads it has when opened and, through inherited counters,
 * every thread they start later (workers, the libuv pool, V8 platform threads). A thread that exits
 * keeps its counts: the kernel folds an inherited child's counts into its creator's counter, and the
 * counter of a thread that was present at open stays readable after that thread exits.
 *
 * ```ts
 * using p = new ProcessCounter(['task-clock', 'page-faults'])  // 'self': this process
 * const { stat } = await p.measureAsync(() => pbkdf2Jobs())
 * console.log(stat.total['task-clock'], stat.threads.map((t) => [t.tid, t.name, t.counts[0]]))
 * ```
 *
 * Uses one file descriptor per event per thread present at open (`RLIMIT_NOFILE` bounds it; an
 * `EMFILE` error says so). Counting another process needs ptrace permission over it (same user with
 * `perf_event_paranoid` ≤ 2, or CAP_PERFMON / root). Starts disabled; `enable()` or `measure*()`.
 */
export class ProcessCounter implements Disposable {
  /** The process counted. */
  readonly pid: number
  /** Event labels, in the order given; `:u` appended where an event counts user space only because the kernel refused kernel-mode counting (README "Permissions"). */
  readonly labels: readonly string[]
  /** Whether child processes started after open are counted too (`children`, or a kernel/build before 5.13). */
  readonly inheritsChildren: boolean
  #threads: Opened[] = []
  #closed = false
  #skipAddon = false
  /** Per event: counts user space only (the kernel refused kernel-mode counting). */
  #userOnly: boolean[] = []

  /**
   * @param events one event or a list (strings or typed objects, as `Counter` takes).
   * @param pid `'self'` (default) or a process id.
   * @param options `includeAddonThreads`, `children`, `exclude`.
   * @throws TypeError/RangeError for bad arguments; PerfEventError (`ESRCH` when the process is gone, `EACCES`…).
   */
  constructor(events: EventInput | readonly EventInput[], pid: 'self' | number = 'self', options: ProcessCounterOptions = {}) {
    const list = Array.isArray(events) ? (events as readonly EventInput[]) : [events as EventInput]
    if (list.length === 0) throw rangeError('at least one event', 'events', events)
    if (pid !== 'self' && (!Number.isInteger(pid) || (pid as number) <= 0)) throw typeError("'self' or a process id (positive integer)", 'pid', pid)
    if (typeof options !== 'object' || options === null) throw typeError('an options object', 'options', options)
    if (options.includeAddonThreads !== undefined && typeof options.includeAddonThreads !== 'boolean')
      throw typeError('a boolean', 'options.includeAddonThreads', options.includeAddonThreads)
    if (options.children !== undefined && typeof options.children !== 'boolean') throw typeError('a boolean', 'options.children', options.children)
    const resolved = list.map((e) => resolveEvent(e))
    const threadOnly = options.children !== true && !versionLess(release(), '5.13') && !versionLess(binding().buildLinux(), '5.13')
    this.inheritsChildren = !threadOnly
    const counterOpts: CounterOptions = { inherit: threadOnly ? 'newThread' : 'newChild' }
    if (options.exclude !== undefined) counterOpts.exclude = options.exclude
    this.labels = resolved.map((e) => e.label)
    const self = pid === 'self'
    this.pid = self ? process.pid : (pid as number)
    const skipAddon = self && options.includeAddonThreads !== true
    this.#skipAddon = skipAddon
    if (skipAddon) startAddonThreads()
    const seen = new Set<number>()
    checkFdRoom(threadIds(this.pid).length * list.length, list.length)
    try {
      // Rescan until no new thread appears: a thread started between the scan and the opening of its
      // creator's counter would otherwise be missed.
      for (let round = 0; round < 100; round++) {
        const fresh = threadIds(this.pid).filter((t) => !seen.has(t))
        if (fresh.length === 0) break
        for (const tid of fresh) {
          seen.add(tid)
          const name = threadName(this.pid, tid)
          if (name === undefined) continue // exited meanwhile
          if (skipAddon && ADDON_THREAD.test(name)) continue
          const opened = this.#open(tid, name, list, counterOpts)
          if (opened) this.#threads.push(opened)
        }
      }
      if (this.#threads.length === 0) {
        throw new PerfEventError(`Process ${this.pid} has no threads to count`, 'ESRCH', {
          syscall: 'open',
          hint: PROCESS_HINTS.noThreads(this.pid),
        })
      }
    } catch (e) {
      this.close()
      throw e
    }
    this.#threads.sort((a, b) => a.tid - b.tid)
    // Where the kernel refused kernel-mode counting, the counters count user space only: their labels say so (`task-clock:u`).
    const first = this.#threads[0].counters
    this.labels = first.map((c) => c.label)
    this.#userOnly = first.map((c) => c.userSpaceOnly)
  }

  #open(tid: number, name: string, events: readonly EventInput[], opts: CounterOptions): Opened | undefined {
    const counters: Counter[] = []
    try {
      for (const ev of events) counters.push(new Counter(ev, { pid: tid, cpu: 'all' }, opts))
      return { tid, name, counters }
    } catch (e) {
      for (const c of counters) c.close()
      // The thread exited between the scan and the open: nothing to count.
      if (e instanceof PerfEventError && e.code === 'ESRCH') return undefined
      throw e
    }
  }

  #each(f: (c: Counter) => void): void {
    if (this.#closed) throw closedError('ProcessCounter')
    for (const t of this.#threads) for (const c of t.counters) f(c)
  }

  /** Starts counting on every thread. */
  enable(): void {
    this.#each((c) => c.enable())
  }

  /** Stops counting on every thread; values are kept. */
  disable(): void {
    this.#each((c) => c.disable())
  }

  /** Sets every count to zero. */
  reset(): void {
    this.#each((c) => c.reset())
  }

  /** The thread ids counted directly (present at open), in order. */
  get tids(): number[] {
    return this.#threads.map((t) => t.tid)
  }

  /** Number of perf file descriptors held. */
  get fdCount(): number {
    return this.#threads.reduce((n, t) => n + t.counters.length, 0)
  }

  /** Reads every counter: totals per event and a per-thread breakdown. */
  stat(): ProcessStat {
    if (this.#closed) throw closedError('ProcessCounter')
    const n = this.labels.length
    const count = new Array<bigint>(n).fill(0n)
    const scaled = new Array<bigint>(n).fill(0n)
    const enabled = new Array<bigint>(n).fill(0n)
    const running = new Array<bigint>(n).fill(0n)
    const multiplexed = new Array<boolean>(n).fill(false)
    const alive = threadIds(this.pid)
    const live = new Set(alive)
    const known = new Set(this.#threads.map((t) => t.tid))
    const laterThreads: { tid: number; name: string }[] = []
    for (const tid of alive) {
      if (known.has(tid)) continue
      const name = threadName(this.pid, tid)
      if (name === undefined || (this.#skipAddon && ADDON_THREAD.test(name))) continue
      laterThreads.push({ tid, name })
    }
    const threads: ThreadStat[] = this.#threads.map((t) => {
      const counts = t.counters.map((c, i) => {
        const s: Stat = c.stat()
        const sc = scale(s.count, s.timeEnabled, s.timeRunning)
        count[i] += s.count
        scaled[i] += sc
        enabled[i] += s.timeEnabled ?? 0n
        running[i] += s.timeRunning ?? 0n
        multiplexed[i] ||= s.multiplexed
        return sc
      })
      const byEvent: Record<string, bigint> = {}
      for (let i = 0; i < n; i++) byEvent[this.labels[i]] = counts[i]
      return { tid: t.tid, name: t.name, exited: !live.has(t.tid), counts, byEvent }
    })
    const events = this.labels.map((label, i) => ({
      label,
      count: count[i],
      scaled: scaled[i],
      timeEnabled: enabled[i],
      timeRunning: running[i],
      multiplexed: multiplexed[i],
      runningPercent: enabled[i] === 0n ? 100 : Number((running[i] * 10000n) / enabled[i]) / 100,
      ...(this.#userOnly[i] ? { userSpaceOnly: true as const } : {}),
    }))
    const total: Record<string, bigint> = {}
    for (const e of events) total[e.label] = e.scaled
    return { pid: this.pid, events, total, threads, laterThreads }
  }

  /** Reset, enable, run `fn`, disable, read. A promise-returning `fn` is refused: use `measureAsync`. */
  measure<T>(fn: () => T): { result: T; stat: ProcessStat } {
    return measureSync(this, fn)
  }

  /** Reset, enable, await `fn()`, disable, read: counts every thread's work until the promise settles. */
  measureAsync<T>(fn: () => T | PromiseLike<T>): Promise<{ result: Awaited<T>; stat: ProcessStat }> {
    return measureAsync(this, fn)
  }

  /** Closes every file descriptor. Idempotent. */
  close(): void {
    for (const t of this.#threads) for (const c of t.counters) c.close()
    this.#threads = []
    this.#closed = true
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
