/**
 * Raw samples as the profiler drains them: thread, time, period and call chain, each distinct chain
 * split and its addresses interned once. `buildProfile` (build.ts) symbolizes and names them.
 */

/** PERF_CONTEXT_* markers as the high and low 32-bit words of the u64 (all start with 0xffffffff). */
const CTX_KERNEL = 0xffffff80 // PERF_CONTEXT_KERNEL (-128)
const CTX_USER = 0xfffffe00 // PERF_CONTEXT_USER (-512)
const CTX_USER_DEFERRED = 0xfffffd80 // PERF_CONTEXT_USER_DEFERRED (-640): left to the native conversion
/** Words at or above this low word (with a high word of 0xffffffff) are markers (>= -4095). */
const MARKER_MIN_LO = 0xfffff001
export const TWO32 = 2 ** 32

/** One distinct call chain of one process: its raw words (markers included) and its interned address ids. */
interface ChainEntry {
  pid: number
  words: Uint32Array
  ids: Int32Array
  nUser: number
  /** Holds a deferred-user marker: such samples go through `at(i)` (the native conversion). */
  deferred: boolean
  next: ChainEntry | undefined
  /** Aggregating store: the entry index of this chain's samples per thread. */
  byTid?: Map<number, number>
}

/**
 * Samples as they are drained, with their call chains interned at once: each distinct chain (per
 * process) is split and its addresses interned once (ids per process, return addresses looked up
 * at ip - 1); a sample keeps its thread, time, period and a reference to its chain's shared ids.
 *
 * Aggregating (`new SampleStore(true)`, continuous profiling): one entry per (thread, chain) with
 * its sample count, summed period and first and last time, so that memory grows with distinct
 * stacks, not with samples; `expand()` turns it into one sample per sample for `buildProfile`.
 */
export class SampleStore {
  readonly userIdx = new Map<number, Map<bigint, number>>()
  readonly kernIdx = new Map<bigint, number>()
  readonly tid: number[] = []
  readonly pid: number[] = []
  /** ns since the first sample. */
  readonly time: number[] = []
  readonly period: number[] = []
  /** Address ids, user part (leaf first) then kernel part (leaf first); `nUser[i]` user ids. Shared by the samples of one chain. */
  readonly ids: Int32Array[] = []
  readonly nUser: number[] = []
  /** Aggregating: samples per entry and the entry's last time (`time` holds its first). */
  readonly count: number[] = []
  readonly lastTime: number[] = []
  readonly aggregate: boolean
  /** Aggregating: entries of samples added by `add()` (no chain entry), by thread and ids. */
  readonly #byKey = new Map<string, number>()
  /** The first sample's time as two 32-bit words (exact differences without bigints). */
  #t0hi = -1
  #t0lo = 0
  /** Distinct chains by hash (a linked list per hash). */
  readonly #chains = new Map<number, ChainEntry>()

  /** The first sample's kernel time (ns on the events' clock), undefined before any sample. */
  get firstTime(): bigint | undefined {
    return this.#t0hi < 0 ? undefined : (BigInt(this.#t0hi) << 32n) | BigInt(this.#t0lo)
  }

  constructor(aggregate = false) {
    this.aggregate = aggregate
  }

  /** Samples held (aggregating: (thread, stack) entries). */
  get length(): number {
    return this.tid.length
  }

  /** Samples added (aggregating: the sum of the entries' counts). */
  get samples(): number {
    if (!this.aggregate) return this.tid.length
    let n = 0
    for (const c of this.count) n += c
    return n
  }

  /** The samples' summed weight (period). */
  get weight(): number {
    let w = 0
    for (const x of this.period) w += x
    return w
  }

  /** Distinct chains interned. */
  get chains(): number {
    return this.#chains.size
  }

  static #intern(m: Map<bigint, number>, ips: bigint[], out: Int32Array, at: number): void {
    for (let i = 0; i < ips.length; i++) {
      // Return addresses point after the call: look up ip - 1 for every frame but the leaf.
      const a = i === 0 ? ips[i] : ips[i] - 1n
      let id = m.get(a)
      if (id === undefined) m.set(a, (id = m.size))
      out[at + i] = id
    }
  }

  #push(tid: number, pid: number, time: number, period: number, ids: Int32Array, nUser: number): void {
    if (this.aggregate) {
      this.count.push(1)
      this.lastTime.push(time)
    }
    this.tid.push(tid)
    this.pid.push(pid)
    this.time.push(time)
    this.period.push(period)
    this.ids.push(ids)
    this.nUser.push(nUser)
  }

  /** Adds a sample from its split call chain (the last user and last kernel segment, leaf first). */
  add(tid: number, pid: number, time: bigint, period: number, user: bigint[] | undefined, kernel: bigint[] | undefined): void {
    const t = this.#since(Number(time >> 32n) >>> 0, Number(time & 0xffffffffn) >>> 0)
    const [ids, nUser] = this.#split(pid, user, kernel)
    if (this.aggregate) {
      const key = `${tid},${pid},${nUser},${ids.join(',')}`
      const at = this.#byKey.get(key)
      if (at !== undefined) return this.#addTo(at, t, period)
      this.#byKey.set(key, this.tid.length)
    }
    this.#push(tid, pid, t, period, ids, nUser)
  }

  /** Aggregating: one more sample of entry `at`. */
  #addTo(at: number, time: number, period: number): void {
    this.count[at]++
    this.period[at] += period
    if (time < this.time[at]) this.time[at] = time
    if (time > this.lastTime[at]) this.lastTime[at] = time
  }

  /**
   * A non-aggregating store with one sample per sample of this aggregating one (the same interned
   * addresses): an entry's samples each weigh its mean period and are spread evenly over its first to
   * last time, so per-sample times and weights inside a window are approximate (totals are exact).
   */
  expand(): SampleStore {
    if (!this.aggregate) return this
    const out = new SampleStore()
    for (const [pid, m] of this.userIdx) out.userIdx.set(pid, m)
    for (const [a, id] of this.kernIdx) out.kernIdx.set(a, id)
    for (let e = 0; e < this.tid.length; e++) {
      const n = this.count[e]
      const w = this.period[e] / n
      const t0 = this.time[e]
      const step = n > 1 ? (this.lastTime[e] - t0) / (n - 1) : 0
      for (let j = 0; j < n; j++) out.#push(this.tid[e], this.pid[e], t0 + j * step, w, this.ids[e], this.nUser[e])
    }
    return out
  }

  #split(pid: number, user: bigint[] | undefined, kernel: bigint[] | undefined): [Int32Array, number] {
    const nu = user?.length ?? 0
    const out = new Int32Array(nu + (kernel?.length ?? 0))
    if (user) {
      let m = this.userIdx.get(pid)
      if (!m) this.userIdx.set(pid, (m = new Map()))
      SampleStore.#intern(m, user, out, 0)
    }
    if (kernel) SampleStore.#intern(this.kernIdx, kernel, out, nu)
    return [out, nu]
  }

  /** ns since the first sample, from a time's high and low words. */
  #since(hi: number, lo: number): number {
    if (this.#t0hi < 0) {
      this.#t0hi = hi
      this.#t0lo = lo
    }
    return (hi - this.#t0hi) * TWO32 + (lo - this.#t0lo)
  }

  /**
   * Adds a sample from the raw chain words `w[at .. at + 2 * n)` (little-endian u64 pairs, as in a
   * batch's `callChain(i)`), without a bigint per address unless the chain is new.
   * `time` as (high, low) words. False (nothing added) for a chain with a deferred-user marker.
   */
  addRaw(tid: number, pid: number, timeHi: number, timeLo: number, period: number, w: Uint32Array, at: number, n: number): boolean {
    const end = at + 2 * n
    let h = pid | 0
    for (let k = at; k < end; k++) h = Math.imul(h ^ w[k], 0x01000193)
    h = (h ^ n) >>> 0
    let e = this.#chains.get(h)
    for (; e !== undefined; e = e.next) {
      if (e.pid !== pid || e.words.length !== end - at) continue
      const ew = e.words
      let k = 0
      while (k < ew.length && ew[k] === w[at + k]) k++
      if (k === ew.length) break
    }
    if (e === undefined) {
      e = this.#newChain(pid, w.slice(at, end))
      e.next = this.#chains.get(h)
      this.#chains.set(h, e)
    }
    if (e.deferred) return false
    const t = this.#since(timeHi, timeLo)
    if (this.aggregate) {
      const m = (e.byTid ??= new Map())
      const at = m.get(tid)
      if (at !== undefined) {
        this.#addTo(at, t, period)
        return true
      }
      m.set(tid, this.tid.length)
    }
    this.#push(tid, pid, t, period, e.ids, e.nUser)
    return true
  }

  /** Splits a new chain as `drain()` does: each marker starts a segment; the last user and kernel segments count. */
  #newChain(pid: number, words: Uint32Array): ChainEntry {
    let user: bigint[] | undefined
    let kernel: bigint[] | undefined
    let seg: bigint[] | undefined
    for (let k = 0; k < words.length; k += 2) {
      const lo = words[k]
      const hi = words[k + 1]
      if (hi === 0xffffffff && lo >= MARKER_MIN_LO) {
        if (lo === CTX_USER_DEFERRED) return { pid, words, ids: new Int32Array(0), nUser: 0, deferred: true, next: undefined }
        seg = []
        if (lo === CTX_USER) user = seg
        else if (lo === CTX_KERNEL) kernel = seg
      } else if (seg) seg.push((BigInt(hi) << 32n) | BigInt(lo))
    }
    const [ids, nUser] = this.#split(pid, user, kernel)
    return { pid, words, ids, nUser, deferred: false, next: undefined }
  }
}
