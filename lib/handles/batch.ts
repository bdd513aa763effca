import type { NativeRecord } from '../../index'

/**
 * The columns of one sampler, in one ArrayBuffer that the native side fills (src/batch/):
 * 16 u32 meta slots, then the u64 columns (ip, time, addr, id, streamId, period: `rows` each, then
 * `chain` call-chain addresses), then the u32 columns (type, misc, pid, tid, cpu, chainOffset,
 * chainLength, recordOffset, recordLength: `rows` each), then the byte area holding every record as
 * the kernel wrote it. The native side checks the buffer (attached, large enough) before each use.
 */
export const META = 16
export const M = { rowsCap: 0, chainCap: 1, bytesCap: 2, maxRows: 3, rows: 4, chain: 5, bytes: 6, flags: 7, rewind: 8 } as const
export const FULL_ROWS = 1
export const FULL_CHAIN = 2
export const FULL_BYTES = 4

export class Columns {
  readonly buffer: ArrayBuffer
  readonly meta: Uint32Array
  readonly ip: BigUint64Array
  readonly time: BigUint64Array
  readonly addr: BigUint64Array
  readonly id: BigUint64Array
  readonly streamId: BigUint64Array
  readonly period: BigUint64Array
  readonly chainIps: BigUint64Array
  readonly type: Uint32Array
  readonly misc: Uint32Array
  readonly pid: Uint32Array
  readonly tid: Uint32Array
  readonly cpu: Uint32Array
  readonly chainOffset: Uint32Array
  readonly chainLength: Uint32Array
  readonly recordOffset: Uint32Array
  readonly recordLength: Uint32Array
  readonly bytes: Uint8Array

  constructor(
    readonly rows: number,
    readonly chain: number,
    readonly byteCap: number,
  ) {
    // rows even: keeps the byte area 8-byte aligned (records are parsed in place).
    const u64At = META * 4
    const u32At = u64At + 8 * (6 * rows + chain)
    const bytesAt = u32At + 4 * 9 * rows
    this.buffer = new ArrayBuffer(bytesAt + byteCap)
    this.meta = new Uint32Array(this.buffer, 0, META)
    this.meta[M.rowsCap] = rows
    this.meta[M.chainCap] = chain
    this.meta[M.bytesCap] = byteCap
    const u64 = (k: number) => new BigUint64Array(this.buffer, u64At + 8 * k * rows, rows)
    const u32 = (k: number) => new Uint32Array(this.buffer, u32At + 4 * k * rows, rows)
    this.ip = u64(0)
    this.time = u64(1)
    this.addr = u64(2)
    this.id = u64(3)
    this.streamId = u64(4)
    this.period = u64(5)
    this.chainIps = new BigUint64Array(this.buffer, u64At + 8 * 6 * rows, chain)
    this.type = u32(0)
    this.misc = u32(1)
    this.pid = u32(2)
    this.tid = u32(3)
    this.cpu = u32(4)
    this.chainOffset = u32(5)
    this.chainLength = u32(6)
    this.recordOffset = u32(7)
    this.recordLength = u32(8)
    this.bytes = new Uint8Array(this.buffer, bytesAt, byteCap)
  }

  /** A larger copy, for the parts that filled up, keeping what was filled so far. */
  grow(flags: number): Columns {
    const m = this.meta
    const next = new Columns(
      flags & FULL_ROWS ? this.rows * 2 : this.rows,
      flags & FULL_CHAIN ? Math.max(this.chain * 2, 64) : this.chain,
      flags & FULL_BYTES ? this.byteCap * 2 : this.byteCap,
    )
    const rows = m[M.rows]
    for (const k of ['ip', 'time', 'addr', 'id', 'streamId', 'period', 'type', 'misc', 'pid', 'tid', 'cpu', 'chainOffset', 'chainLength', 'recordOffset', 'recordLength'] as const) {
      ;(next[k] as Uint32Array).set((this[k] as Uint32Array).subarray(0, rows))
    }
    next.chainIps.set(this.chainIps.subarray(0, m[M.chain]))
    next.bytes.set(this.bytes.subarray(0, m[M.bytes]))
    for (const k of [M.maxRows, M.rows, M.chain, M.bytes, M.rewind]) next.meta[k] = m[k]
    return next
  }
}

/** PERF_SAMPLE_* bits whose fields all live in the columns. */
const S_IP = 1 << 0
const S_TID = 1 << 1
const S_TIME = 1 << 2
const S_ADDR = 1 << 3
const S_ID = 1 << 6
const S_CPU = 1 << 7
const S_PERIOD = 1 << 8
const S_STREAM_ID = 1 << 9
const S_IDENTIFIER = 1 << 16
const S_CALLCHAIN = 1 << 5
const FIXED = S_IP | S_TID | S_TIME | S_ADDR | S_ID | S_CPU | S_PERIOD | S_STREAM_ID | S_IDENTIFIER | S_CALLCHAIN
/** PERF_CONTEXT_* markers (as u64) and the segment context each starts. */
const CONTEXTS = new Map<bigint, string>([
  [2n ** 64n - 512n, 'user'],
  [2n ** 64n - 128n, 'kernel'],
  [2n ** 64n - 32n, 'hv'],
  [2n ** 64n - 2048n, 'guest'],
  [2n ** 64n - 2560n, 'guestUser'],
  [2n ** 64n - 2176n, 'guestKernel'],
])
const USER_DEFERRED = 2n ** 64n - 640n
const MARKER_MIN = 2n ** 64n - 4095n
/** PERF_RECORD_MISC_CPUMODE values (misc & 7) as the native layer names them. */
const PRIV = ['unknown', 'kernel', 'user', 'hv', 'guestKernel', 'guestUser', 'unknown', 'unknown'] as const
const EXACT_IP = 1 << 14

/** Whether samples of this `sample_type` can be built from the columns alone (no variable-size field but the call chain). */
export function columnsOnly(sampleType: number): boolean {
  return sampleType >= 0 && sampleType <= 0xffffffff && ((sampleType >>> 0) & ~FIXED) === 0
}

/**
 * Builds row `i` (a PERF_RECORD_SAMPLE of a columns-only `sampleType`) in JS: the same object the
 * native conversion builds (fields absent when not sampled), without one N-API call per property.
 */
function sampleFromColumns(c: Columns, i: number, st: number): NativeRecord {
  const misc = c.misc[i]
  const recordId: { id?: bigint; streamId?: bigint; cpu?: number; task?: { pid: number; tid: number }; time?: bigint } = {}
  if (st & S_ID) recordId.id = c.id[i]
  if (st & S_STREAM_ID) recordId.streamId = c.streamId[i]
  if (st & S_CPU) recordId.cpu = c.cpu[i]
  if (st & S_TID) recordId.task = { pid: c.pid[i], tid: c.tid[i] }
  if (st & S_TIME) recordId.time = c.time[i]
  const r: Record<string, unknown> = { type: 'sample', priv: PRIV[misc & 7], recordId }
  if (st & S_PERIOD) r.period = c.period[i]
  if (st & S_ADDR) r.dataAddr = c.addr[i]
  if (st & S_IP) {
    r.codeAddr = c.ip[i]
    r.codeAddrExact = (misc & EXACT_IP) !== 0
  }
  if (st & S_CALLCHAIN) {
    const chain = callChainSegments(c, i)
    if (chain === undefined) return undefined as unknown as NativeRecord
    r.callChain = chain
  }
  return r as NativeRecord
}

/**
 * The call chain of row `i` as the native conversion splits it: each marker starts a segment of
 * the addresses up to the next marker (an unknown marker gives `'unknown'`). `undefined` when the
 * chain holds a deferred-user marker (left to the native conversion).
 */
function callChainSegments(c: Columns, i: number): { context: string; ips: bigint[] }[] | undefined {
  const off = c.chainOffset[i]
  const end = off + c.chainLength[i]
  const ips = c.chainIps
  const out: { context: string; ips: bigint[] }[] = []
  let k = off
  while (k < end) {
    const marker = ips[k++]
    if (marker === USER_DEFERRED) return undefined
    const seg: bigint[] = []
    while (k < end && ips[k] < MARKER_MIN) seg.push(ips[k++])
    out.push({ context: CONTEXTS.get(marker) ?? 'unknown', ips: seg })
  }
  return out
}

/** The native calls a batch needs. */
export interface BatchSource {
  /** The counter's PERF_SAMPLE_* bits. */
  readonly sampleType: number
  decode(from: number, to: number): NativeRecord[]
  /** Whether this batch is still the sampler's latest (its columns not yet refilled). */
  current(generation: number): boolean
}

/**
 * Samples as columns, straight from the ring (`sampler.batch()`, `sampler.batches()`).
 *
 * Row `i` is the `i`-th record of the batch. The columns are typed arrays: `ip`, `time`, `addr`,
 * `id` (from `recordIdFormat.id` or the identifier), `streamId`, `period` as BigUint64Array; `pid`,
 * `tid`, `cpu` as Uint32Array. They hold the sample's value for rows whose `type[i]` is 9
 * (PERF_RECORD_SAMPLE) and whose field the counter's `sampleFormat`/`recordIdFormat` asks for, and 0
 * otherwise; every other record (and every variable-size field: raw, registers, user stack, branch
 * stack, read values, AUX) is kept as the kernel wrote it and decoded on demand by `at(i)` or the
 * iterator, which build the same objects `drain()` returns. `misc[i]` is the record header's misc
 * (privilege bits in `misc & 7`).
 *
 * **Validity**: the columns are reused by the sampler: a batch stays valid until the next
 * `batch()`, `drain()`, `for…of` or `records()`/`batches()` step of the same sampler. Afterwards its
 * arrays may hold newer rows, and `at()`/iteration throw. Copy (`.slice()`) what you keep.
 */
export class SampleBatch implements Iterable<NativeRecord> {
  /** Number of records (rows). */
  readonly length: number
  readonly type: Uint32Array
  readonly misc: Uint32Array
  readonly ip: BigUint64Array
  readonly time: BigUint64Array
  readonly addr: BigUint64Array
  readonly id: BigUint64Array
  readonly streamId: BigUint64Array
  readonly period: BigUint64Array
  readonly pid: Uint32Array
  readonly tid: Uint32Array
  readonly cpu: Uint32Array
  readonly #cols: Columns
  readonly #source: BatchSource
  readonly #generation: number

  /** @internal built by the sampler */
  constructor(cols: Columns, length: number, source: BatchSource, generation: number) {
    this.length = length
    this.#cols = cols
    this.#source = source
    this.#generation = generation
    this.type = cols.type.subarray(0, length)
    this.misc = cols.misc.subarray(0, length)
    this.ip = cols.ip.subarray(0, length)
    this.time = cols.time.subarray(0, length)
    this.addr = cols.addr.subarray(0, length)
    this.id = cols.id.subarray(0, length)
    this.streamId = cols.streamId.subarray(0, length)
    this.period = cols.period.subarray(0, length)
    this.pid = cols.pid.subarray(0, length)
    this.tid = cols.tid.subarray(0, length)
    this.cpu = cols.cpu.subarray(0, length)
  }

  /** Whether the columns still hold this batch (no later drain of the sampler). */
  get valid(): boolean {
    return this.#source.current(this.#generation)
  }

  #check(): void {
    if (!this.valid) throw new TypeError('Expected a batch from the latest drain of its sampler (batches are valid until the next one)')
  }

  /**
   * The call chain of row `i` (with `sampleFormat.callChain`): a BigUint64Array view of the
   * kernel's addresses, context markers (`PERF_CONTEXT_*`, ≥ 0xffff_ffff_ffff_f000) included.
   */
  callChain(i: number): BigUint64Array {
    this.#index(i)
    this.#check()
    const off = this.#cols.chainOffset[i]
    return this.#cols.chainIps.subarray(off, off + this.#cols.chainLength[i])
  }

  /** The record object of row `i`: the same object `drain()` would have returned. */
  at(i: number): NativeRecord {
    this.#index(i)
    this.#check()
    const st = this.#source.sampleType
    if (this.#cols.type[i] === 9 && columnsOnly(st)) {
      const r = sampleFromColumns(this.#cols, i, st)
      if (r !== undefined) return r
    }
    return this.#source.decode(i, i + 1)[0]
  }

  /**
   * Every row as record objects: samples whose fields all live in the columns are built in JS,
   * every other run of rows with one native call.
   */
  records(): NativeRecord[] {
    this.#check()
    const st = this.#source.sampleType
    if (!columnsOnly(st)) return this.#source.decode(0, this.length)
    const out: NativeRecord[] = new Array(this.length)
    const type = this.#cols.type
    for (let i = 0; i < this.length; ) {
      if (type[i] === 9) {
        const r = sampleFromColumns(this.#cols, i, st)
        if (r !== undefined) {
          out[i] = r
          i++
          continue
        }
      }
      let j = i + 1
      while (j < this.length && type[j] !== 9) j++
      const rs = this.#source.decode(i, j)
      for (let k = 0; k < rs.length; k++) out[i + k] = rs[k]
      i = j
    }
    return out
  }

  [Symbol.iterator](): Iterator<NativeRecord> {
    return this.records()[Symbol.iterator]()
  }

  #index(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`Expected an integer from 0 to ${this.length - 1} for index but received ${String(i)}`)
  }
}
