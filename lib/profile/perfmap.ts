import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { electronPerfMapFlags, isElectron } from '../loading/electron'

/** V8's perf map of a process: `/tmp/perf-<pid>.map`. */
export function perfMapPath(pid: number): string {
  return `/tmp/perf-${pid}.map`
}

/** Whether this Node writes V8's perf map (`--perf-basic-prof` on the command line or in NODE_OPTIONS). */
export function perfMapEnabled(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  return flags.some((f) => f === '--perf-basic-prof' || f === '--perf-basic-prof-only-functions' || f === '--perf-prof') || (isElectron() && electronPerfMapFlags())
}


/** What `PerfMap.open` accepts: whose file it may be, how much of it and for how long it reads. */
export interface PerfMapPolicy {
  /** Owners accepted besides root: the target's user (and the profiler's own, which may have created it). */
  uids: readonly number[]
  /** Bytes read at most (default 256 MiB); a larger file is refused. */
  maxBytes?: number
  /** Milliseconds of parsing at most (default 5000); the lines read by then are kept. */
  budgetMs?: number
}

/** The result of `PerfMap.open`: the map (absent when there is none or it was refused) and what to say about it. */
export interface PerfMapRead {
  map?: PerfMap
  /** Why the map was refused or read only in part, or how many lines were skipped: one sentence, for `profile.warnings`. */
  warning?: string
  /** Malformed lines skipped. */
  bad: number
}

export const PERF_MAP_MAX_BYTES = 256 * 1024 * 1024
export const PERF_MAP_BUDGET_MS = 5000
const CHUNK = 1 << 20
/** Addresses above this are not exact as doubles: such lines count as malformed (user space ends far below). */
const MAX_ADDR = Number.MAX_SAFE_INTEGER
const HEX = /^[0-9a-fA-F]{1,16}$/
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * V8's perf map (`/tmp/perf-<pid>.map`: `start size name` lines, hex), read with one policy for a
 * live and an exited target: a regular file only (opened with `O_NONBLOCK | O_NOFOLLOW`, then
 * `fstat`: no FIFO, device or symlink), one link, owned by root or by a user in `policy.uids`, at most
 * `maxBytes`, parsed within `budgetMs`. Malformed lines (non-hex address or size, a missing name,
 * a name that is not UTF-8) are skipped and counted. Later lines win: V8 appends, and code space is reused.
 */
export class PerfMap {
  #start = new Float64Array(1024)
  #end = new Float64Array(1024)
  readonly #name: string[] = []

  get size(): number {
    return this.#name.length
  }

  static open(path: string, policy: PerfMapPolicy): PerfMapRead {
    const maxBytes = policy.maxBytes ?? PERF_MAP_MAX_BYTES
    const budgetMs = policy.budgetMs ?? PERF_MAP_BUDGET_MS
    let fd: number
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return { bad: 0 }
      const why = code === 'ELOOP' ? 'it is a symbolic link' : `it cannot be opened (${code ?? (e as Error).message})`
      return { bad: 0, warning: refused(path, why) }
    }
    try {
      const st = fstatSync(fd)
      if (!st.isFile()) return { bad: 0, warning: refused(path, `it is not a regular file (${kindOf(st)})`) }
      if (st.nlink !== 1) return { bad: 0, warning: refused(path, `it has ${st.nlink} hard links`) }
      if (st.uid !== 0 && !policy.uids.includes(st.uid))
        return { bad: 0, warning: refused(path, `it belongs to uid ${st.uid}, not to the profiled process's user (uid ${policy.uids.join(' or ')}) or root`) }
      if (st.size > maxBytes) return { bad: 0, warning: refused(path, `it is ${st.size} bytes, more than the ${maxBytes} bytes read at most`) }
      const m = new PerfMap()
      const { bad, cut } = m.#parse(fd, maxBytes, Date.now() + budgetMs)
      const notes: string[] = []
      if (bad) notes.push(`${bad} malformed line${bad === 1 ? '' : 's'} skipped`)
      if (cut) notes.push(cut)
      return { map: m, bad, warning: notes.length ? `V8 perf map ${path}: ${notes.join('; ')} (${m.size} entries read).` : undefined }
    } finally {
      closeSync(fd)
    }
  }

  #parse(fd: number, maxBytes: number, deadline: number): { bad: number; cut?: string } {
    const buf = Buffer.allocUnsafe(CHUNK)
    let carry: Buffer | undefined
    let total = 0
    let bad = 0
    let lines = 0
    for (;;) {
      let n: number
      try {
        n = readSync(fd, buf, 0, Math.min(CHUNK, maxBytes - total + 1), null)
      } catch (e) {
        return { bad, cut: `reading stopped: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }
      }
      if (n === 0) break
      total += n
      if (total > maxBytes) return { bad, cut: `it grew past ${maxBytes} bytes while read: the rest was left` }
      let data = buf.subarray(0, n)
      if (carry) data = Buffer.concat([carry, data])
      let at = 0
      for (let nl = data.indexOf(10, at); nl >= 0; nl = data.indexOf(10, at)) {
        if (!this.#line(data, at, nl)) bad++
        at = nl + 1
        if ((++lines & 0xffff) === 0 && Date.now() > deadline) return { bad, cut: `parsing stopped after ${lines} lines (time budget)` }
      }
      carry = at < data.length ? Buffer.from(data.subarray(at)) : undefined
    }
    if (carry && !this.#line(carry, 0, carry.length)) bad++
    return { bad }
  }

  /** Parses one line `data[from, to)`; false when it is malformed (an empty line is not counted). */
  #line(data: Buffer, from: number, to: number): boolean {
    if (to > from && data[to - 1] === 13) to--
    if (to === from) return true
    const a = data.indexOf(32, from)
    if (a < 0 || a >= to) return false
    const b = data.indexOf(32, a + 1)
    if (b < 0 || b >= to || b === to - 1) return false
    const startText = data.toString('latin1', from, a)
    const sizeText = data.toString('latin1', a + 1, b)
    if (!HEX.test(startText) || !HEX.test(sizeText)) return false
    const start = parseInt(startText, 16)
    const end = start + parseInt(sizeText, 16)
    if (end > MAX_ADDR) return false
    let name: string
    try {
      name = decoder.decode(data.subarray(b + 1, to))
    } catch {
      return false
    }
    const i = this.#name.length
    if (i === this.#start.length) {
      const grow = (a: Float64Array) => {
        const n = new Float64Array(a.length * 2)
        n.set(a)
        return n
      }
      this.#start = grow(this.#start)
      this.#end = grow(this.#end)
    }
    this.#start[i] = start
    this.#end[i] = end
    this.#name.push(name)
    return true
  }

  /**
   * The names of the latest entries that cover each address (undefined where none does), for many
   * addresses at once: one sweep over the entries sorted by start, O((entries + addresses) log entries).
   */
  lookupAll(addrs: readonly bigint[]): (string | undefined)[] {
    const out: (string | undefined)[] = new Array(addrs.length).fill(undefined)
    const n = this.#name.length
    if (n === 0 || addrs.length === 0) return out
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((x, y) => this.#start[x] - this.#start[y])
    const queries = addrs.map((a, i) => ({ a: a <= BigInt(MAX_ADDR) ? Number(a) : Infinity, i })).sort((x, y) => x.a - y.a)
    // A max-heap of entry indices (later line = larger index) whose start <= the current address.
    const heap: number[] = []
    const push = (v: number) => {
      let k = heap.length
      heap.push(v)
      while (k > 0) {
        const p = (k - 1) >> 1
        if (heap[p] >= v) break
        heap[k] = heap[p]
        k = p
      }
      heap[k] = v
    }
    const pop = () => {
      const last = heap.pop()!
      if (heap.length === 0) return
      let k = 0
      for (;;) {
        const l = 2 * k + 1
        if (l >= heap.length) break
        const c = l + 1 < heap.length && heap[l + 1] > heap[l] ? l + 1 : l
        if (heap[c] <= last) break
        heap[k] = heap[c]
        k = c
      }
      heap[k] = last
    }
    let next = 0
    for (const q of queries) {
      if (q.a === Infinity) break
      while (next < n && this.#start[order[next]] <= q.a) push(order[next++])
      // Entries that end at or before this address end before every later one: drop them.
      while (heap.length && this.#end[heap[0]] <= q.a) pop()
      if (heap.length) out[q.i] = this.#name[heap[0]]
    }
    return out
  }

  /** The name of the latest entry that covers `addr`. */
  lookup(addr: bigint): string | undefined {
    return this.lookupAll([addr])[0]
  }
}

function refused(path: string, why: string): string {
  return `V8 perf map ${path} was not read: ${why}; its JIT frames are unnamed.`
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isDirectory()) return 'a directory'
  if (st.isSocket()) return 'a socket'
  return 'not a file'
}
