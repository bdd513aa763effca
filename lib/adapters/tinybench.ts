/**
 * perf-event-open for tinybench: per-iteration counts of each task, next to tinybench's timings.
 *
 * ```ts
 * import { Bench } from 'tinybench'
 * import { tinybenchCounters } from 'perf-event-open/tinybench'
 * const bench = new Bench()
 * const perf = tinybenchCounters(['page-faults', 'context-switches'])
 * bench.add('alloc', () => Buffer.alloc(1 << 20).fill(1), perf.hooks('alloc'))
 * await bench.run()
 * console.table(perf.table(bench))
 * ```
 * @packageDocumentation
 */
import { typeError } from '../errors/errors'
import type { EventInput } from '../events/events'
import { IterationCounter, type IterationCounts } from './core'

export type { IterationCounts } from './core'

/** tinybench's hook signature (`this` is the task; `mode` is `'warmup'` or `'run'`). */
type Hook = (this: unknown, mode?: 'warmup' | 'run') => unknown

/** The task options `hooks()` returns (tinybench's `FnOptions`), with the caller's own hooks chained. */
export interface CountingHooks {
  beforeEach: Hook
  afterEach: Hook
  afterAll?: Hook
  [option: string]: unknown
}

/** What `tinybenchCounters()` returns. */
export interface TinybenchCounters {
  /**
   * Task options for `bench.add(name, fn, perf.hooks(name, options?))`: `beforeEach`/`afterEach`
   * enable and disable the task's counters around each iteration of the run phase (warm-up is not
   * counted), outside tinybench's timed window. Your own `beforeEach`/`afterEach` in `options` run too.
   */
  hooks(name: string, options?: Record<string, unknown>): CountingHooks
  /** Counts of a task so far (after `bench.run()`), or undefined for an unknown name. */
  counts(name: string): IterationCounts | undefined
  /** `bench.table()` rows with a `<event>/iter` column per event added (`<event>/iter (ns)` for the clocks: task-clock, cpu-clock). */
  table(bench: { table(): unknown[]; tasks: readonly { name: string }[] }): Record<string, unknown>[]
  /** Closes every task's counters. */
  close(): void
}

/**
 * Counters for tinybench tasks. Counted on the thread that runs the bench (the JS thread): use
 * tinybench's default sequential mode (no `concurrency`), otherwise iterations of different tasks
 * overlap in one window. Each window also holds tinybench's own per-iteration work between the hooks
 * (two timer reads and a sample push): compare against a no-op task for a baseline.
 * @param events event strings (default: task-clock, page-faults, context-switches, and
 *   instructions:u, cycles:u where a hardware PMU opens).
 */
export function tinybenchCounters(events?: readonly EventInput[]): TinybenchCounters {
  const tasks = new Map<string, IterationCounter>()
  return {
    hooks(name, options = {}) {
      if (typeof name !== 'string') throw typeError('a task name', 'name', name)
      if (typeof options !== 'object' || options === null) throw typeError('a task options object', 'options', options)
      tasks.get(name)?.close()
      const counter = new IterationCounter(events)
      tasks.set(name, counter)
      const before = options.beforeEach as Hook | undefined
      const after = options.afterEach as Hook | undefined
      return {
        ...options,
        async: options.async,
        beforeEach(this: unknown, mode) {
          const r = before?.call(this, mode)
          const go = () => {
            if (mode !== 'warmup') counter.start()
          }
          return r instanceof Promise ? r.then(go) : go()
        },
        afterEach(this: unknown, mode) {
          if (mode !== 'warmup') counter.stop(1)
          return after?.call(this, mode)
        },
      }
    },
    counts(name) {
      return tasks.get(name)?.counts()
    },
    table(bench) {
      const rows = bench.table() as (Record<string, unknown> | null)[]
      return bench.tasks.map((task, i) => {
        const row: Record<string, unknown> = { ...(rows[i] ?? { 'Task name': task.name }) }
        const counter = tasks.get(task.name)
        const c = counter?.counts()
        if (c) counter!.labels.forEach((label, j) => (row[`${label}/iter${counter!.units[j] === 'ns' ? ' (ns)' : ''}`] = Number(c.perIteration[label].toPrecision(6))))
        return row
      })
    },
    close() {
      for (const c of tasks.values()) c.close()
      tasks.clear()
    },
  }
}
