/**
 * perf-event-open for mitata: per-iteration counts in mitata's `measure()` results, through the
 * counters hook that mitata's measurement loop calls around every sample (the hook
 * `@mitata/counters` implements; mitata passes it as the `$counters` option).
 *
 * ```ts
 * import { measure } from 'mitata'
 * import { mitataCounters } from 'perf-event-open/mitata'
 * const stats = await measure(() => JSON.parse('{"a":1}'), { $counters: mitataCounters(['page-faults', 'task-clock']) })
 * console.log(stats.avg, 'ns/iter', stats.counters['task-clock'].avg, 'ns of CPU/iter')
 * ```
 * @packageDocumentation
 */
import type { EventInput } from '../events/events'
import { IterationCounter } from './core'

/** Per-iteration statistics of one event over mitata's samples. */
export interface MitataCounterStats {
  /** Mean count per iteration. */
  avg: number
  /** Smallest and largest per-iteration mean of one sample (a sample is a batch of iterations). */
  min: number
  max: number
  /** Total count over every counted iteration. */
  total: bigint
  /** Iterations counted. */
  iterations: number
}

/** The hook object mitata calls: `init` once, `before`/`after` around each sample, `translate` for the results, `deinit`. */
export interface MitataCountersHook {
  init(): void
  before(): void
  after(): void
  /** mitata passes the iterations per sample and the number of samples; the result becomes `stats.counters`. */
  translate(batch: number, samples: number): Record<string, MitataCounterStats>
  deinit(): void
}

/**
 * A counters hook for mitata's `measure(fn, { $counters })`: the calling thread's counts for each
 * sample (outside mitata's timed window), reported per iteration in `stats.counters[event]`.
 * mitata's `bench()`/`run()` load only their own counters package, so use `measure()` for counts.
 * @param events event strings (default: task-clock, page-faults, context-switches, and instructions:u,
 *   cycles:u where a hardware PMU opens).
 */
export function mitataCounters(events?: readonly EventInput[]): MitataCountersHook {
  let counter: IterationCounter | undefined
  return {
    init() {
      counter?.close()
      counter = new IterationCounter(events)
    },
    before() {
      counter!.start()
    },
    after() {
      // The batch size is known only at translate(): count windows now, divide then.
      counter!.stop(1)
    },
    translate(b) {
      const batch = Math.max(1, b)
      const c = counter!.counts()
      const out: Record<string, MitataCounterStats> = {}
      const iterations = c.iterations * batch
      for (const label of Object.keys(c.total)) {
        out[label] = {
          avg: iterations === 0 ? 0 : Number(c.total[label]) / iterations,
          min: c.min[label] / batch,
          max: c.max[label] / batch,
          total: c.total[label],
          iterations,
        }
      }
      return out
    },
    deinit() {
      counter?.close()
      counter = undefined
    },
  }
}
