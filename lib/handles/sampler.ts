import type { NativeRecord, NativeSampler } from '../../index'
import { fromNative, rangeError, typeError, type ErrorContext } from '../errors/errors'
import { Resource } from './handle'
import { toU64, type U64 } from '../events/check'
import { Columns, M, SampleBatch, type BatchSource } from './batch'

export { SampleBatch } from './batch'

/** Privilege level the kernel marked a record with (a string enum of the native layer). */
export type { RecordPriv } from '../../index'

/**
 * A record from a sampler's ring: a discriminated union on `type` (`'sample'`, `'mmap'`, `'read'`,
 * `'cgroup'`, `'ksymbol'`, `'textPoke'`, `'bpfEvent'`, `'ctxSwitch'`, `'namespaces'`,
 * `'itraceStart'`, `'callChainDeferred'`, `'aux'`, `'auxOutputHwId'`, `'comm'`, `'exit'`, `'fork'`,
 * `'throttle'`, `'unthrottle'`, `'lostRecords'`, `'lostSamples'`, `'unknown'`). u64 fields are
 * bigints; byte payloads are Buffers copied out of the ring.
 */
export type PerfRecord = NativeRecord
/** The record of one `type`, e.g. `RecordOf<'sample'>`. */
export type RecordOf<T extends PerfRecord['type']> = Extract<PerfRecord, { type: T }>
export type SampleRecord = RecordOf<'sample'>

/** Options of `sampler.records()`. */
export interface RecordsOptions {
  /** Ends the iteration (cleanly, without throwing) when aborted. */
  signal?: AbortSignal
}

const ALL = 0xffffffff

/** Only code of this package holds this token (not exported from the package). */
export const SAMPLER_TOKEN: unique symbol = Symbol('perf-event-open sampler')

/**
 * The ring buffer of a counter (`counter.sampler(exp)`). Records are copied out of the
 * ring in batches: `drain()`, `for (const r of sampler)`, or `for await (const r of sampler.records())`.
 */
export class Sampler extends Resource<NativeSampler> {
  readonly #context: ErrorContext
  readonly #clockFreq: boolean
  #iterating = false
  #cols: Columns | undefined
  #ringBytes = 0
  #generation = 0
  #sampleType = -1
  readonly #source: BatchSource = ((self: Sampler): BatchSource => ({
    get sampleType(): number {
      return self.#sampleType
    },
    decode: (from, to) => self.call((n) => n.decode(from, to)),
    current: (g) => g === self.#generation && !self.closed,
  }))(this)

  /** @internal use `counter.sampler(exp)`: the constructor refuses anything else. */
  constructor(native: NativeSampler, context: ErrorContext, token?: symbol, clockFreq = false) {
    if (token !== SAMPLER_TOKEN) throw new TypeError('Expected a sampler made by counter.sampler(exp): the Sampler constructor is not public')
    super('Sampler')
    this.#context = context
    this.#clockFreq = clockFreq
    this.attach(native, context)
  }

  /**
   * Copies pending records (at most `max`, and at most about one ring's worth per call) into this
   * sampler's columns and returns how many rows they hold. `rewind` leaves the ring's tail where
   * it was (tests and benchmarks: only on a disabled counter).
   */
  #fill(max: number, rewind = false): number {
    return this.call((n) => {
      if (this.#cols?.buffer.byteLength === 0) this.#cols = undefined // user code transferred a column's buffer
      if (this.#cols === undefined) {
        this.#ringBytes = n.ringBytes
        this.#sampleType = n.sampleType
        const rows = Math.min(1024, Math.max(2, this.#ringBytes / 8))
        this.#cols = new Columns(rows, 1024, Math.min(this.#ringBytes, 64 * 1024))
        n.setBatchBuffer(this.#cols.buffer)
      }
      this.#generation++
      let cols = this.#cols
      const m = cols.meta
      m[M.maxRows] = max
      m[M.rows] = 0
      m[M.chain] = 0
      m[M.bytes] = 0
      m[M.rewind] = rewind ? 1 : 0
      let rows = n.fill()
      // Grow what filled up and go on, up to about one ring per call.
      while (cols.meta[M.flags] !== 0 && rows < max && cols.meta[M.bytes] < this.#ringBytes) {
        cols = this.#cols = cols.grow(cols.meta[M.flags])
        if (rewind) {
          // The ring's tail did not move: fill the larger columns from the start again.
          cols.meta[M.rows] = 0
          cols.meta[M.chain] = 0
          cols.meta[M.bytes] = 0
        }
        n.setBatchBuffer(cols.buffer)
        rows = n.fill()
      }
      return rows
    })
  }

  /**
   * The pending samples as columns (`SampleBatch`), at most `max` rows: one native call fills
   * typed arrays straight from the ring. Valid until the next drain of this sampler.
   */
  batch(max: number = ALL): SampleBatch {
    if (!Number.isInteger(max) || max < 0 || max > ALL) throw rangeError('an integer from 0 to 2^32-1', 'max', max)
    const rows = this.#fill(max)
    return new SampleBatch(this.#cols!, rows, this.#source, this.#generation)
  }

  /** @internal tests and `npm run bench`: a batch that leaves the ring as it was (disabled counter only). */
  peekBatch(max: number = ALL): SampleBatch {
    const rows = this.#fill(max, true)
    return new SampleBatch(this.#cols!, rows, this.#source, this.#generation)
  }

  /** @internal `npm run bench`: the crate's parser parses the pending records natively, over this ring (no JS values). */
  parseCrate(rewind = false): number {
    return this.call((n) => n.parseCrate(rewind))
  }

  /** @internal tests and `npm run bench`: the crate's own parser over the ring's records, optionally put back. */
  drainCrate(max: number = ALL, rewind = false): PerfRecord[] {
    return this.call((n) => n.drainCrate(max, rewind)) as PerfRecord[]
  }

  /**
   * Every pending record (or at most `max`), copied out of the ring (at most about one ring's
   * worth per call, so a call ends even while the kernel keeps writing). Built on `batch()`.
   */
  drain(max: number = ALL): PerfRecord[] {
    return this.batch(max).records() as PerfRecord[]
  }

  /** Iterates over the records pending now (one `drain()`). */
  [Symbol.iterator](): Iterator<PerfRecord> {
    return this.drain()[Symbol.iterator]()
  }

  /**
   * Yields records as the kernel produces them, waiting (without blocking JS) for the wake-ups
   * that `options.wakeUp` asks for. Ends when the target process exits (after the last records),
   * when `signal` aborts, when the sampler is closed, or when the fd reports an error (EPOLLERR)
   * with nothing left to read. One iteration at a time per sampler.
   */
  async *records(options: RecordsOptions = {}): AsyncGenerator<PerfRecord, void, undefined> {
    for await (const b of this.#iterate(options, false)) yield* b as PerfRecord[]
  }

  /** The wait/drain loop of `records()` and `batches()`: yields each drain (objects or a batch). */
  async *#iterate(options: RecordsOptions, batches: boolean): AsyncGenerator<PerfRecord[] | SampleBatch, void, undefined> {
    const signal = options.signal
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError('an AbortSignal', 'options.signal', signal)
    if (this.#iterating) throw new TypeError('Expected one records() or batches() iteration at a time per sampler')
    this.#iterating = true
    const onAbort = () => {
      if (!this.closed) this.call((n) => n.cancelWait())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const next = () => (batches ? this.batch() : this.drain())
    try {
      let lastWasError = false
      while (!this.closed && !signal?.aborted) {
        const batch = next()
        if (batch.length > 0) yield batch
        // EPOLLERR twice in a row with nothing to read: the fd will not produce more; end rather than spin.
        if (lastWasError && batch.length === 0) return
        if (this.closed || signal?.aborted) return
        const state = await this.call((n) => n.wait()).catch((e: unknown) => {
          throw fromNative(e, this.#context)
        })
        if (state === 'hup') {
          if (!this.closed) {
            // Everything left (a drain copies at most about one ring per call).
            for (let b = next(); b.length > 0 && !this.closed; b = next()) yield b
          }
          return
        }
        lastWasError = state === 'error'
        // 'readable' and 'error' (EPOLLERR) loop back to drain; 'cancelled' ends via the checks above
        // when closed or aborted, and otherwise drains again.
      }
    } finally {
      this.#iterating = false
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Like `records()`, but yields a `SampleBatch` per wake-up (non-empty ones only). Each batch
   * is valid until the iteration resumes: use it (or copy from it) before the next step.
   */
  async *batches(options: RecordsOptions = {}): AsyncGenerator<SampleBatch, void, undefined> {
    for await (const b of this.#iterate(options, true)) yield b as SampleBatch
  }

  /** Stops writing records (they become `lostRecords`). PERF_EVENT_IOC_PAUSE_OUTPUT, since Linux 4.7. */
  pause(): void {
    this.call((n) => n.pause())
  }

  /** Resumes writing records. Since Linux 4.7. */
  resume(): void {
    this.call((n) => n.resume())
  }

  /** Enables the counter for `overflows` more samples, then disables it (PERF_EVENT_IOC_REFRESH). */
  refresh(overflows: number): void {
    if (!Number.isInteger(overflows) || overflows < 1 || overflows > ALL) throw rangeError('an integer from 1 to 2^32-1', 'overflows', overflows)
    this.call((n) => n.refresh(overflows))
  }

  /**
   * New period (`sampleOn: { count }`) or frequency in Hz (`sampleOn: { freq }`) of the counter
   * (PERF_EVENT_IOC_PERIOD, at most `/proc/sys/kernel/perf_event_max_sample_rate` Hz). For cpu-clock and
   * task-clock the kernel keeps a period in ns instead of a frequency: the facade converts
   * (`1e9 / value`), so `value` is a frequency for every `sampleOn: { freq }` counter.
   */
  setSampleOn(value: U64): void {
    let v = toU64(value, 'value')
    if (this.#clockFreq) {
      if (v === 0n) throw rangeError('a frequency above 0 Hz', 'value', value)
      v = 1_000_000_000n / v || 1n
    }
    this.call((n) => n.setSampleOn(v))
  }

  /** The counter's enabled and running times (ns), read from the mmap'd page without a syscall. */
  counterTime(): { timeEnabled: bigint; timeRunning: bigint } {
    const [timeEnabled, timeRunning] = this.call((n) => n.counterTime())
    return { timeEnabled, timeRunning }
  }
}
