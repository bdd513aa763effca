/**
 * perf-event-open for OpenTelemetry: observable counters on an `@opentelemetry/api` Meter for chosen
 * events of the whole process, so counts ship through whatever exporter the app runs (Prometheus, OTLP…).
 *
 * ```ts
 * import { metrics } from '@opentelemetry/api'
 * import { observeProcessCounters } from 'perf-event-open/opentelemetry'
 * const perf = observeProcessCounters(metrics.getMeter('app'), { events: ['task-clock', 'page-faults'] })
 * // … perf.close() on shutdown
 * ```
 * @packageDocumentation
 */
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api'
import { typeError } from '../errors/errors'
import { resolveEvent, unitOf, type EventInput, type ResolvedEvent } from '../events/events'
import { ProcessCounter } from '../handles/process'
import { defaultEvents } from './core'

/** Options of `observeProcessCounters`. */
export interface OpenTelemetryOptions {
  /** Events (default: task-clock, page-faults, context-switches, cpu-migrations, and instructions:u, cycles:u where a hardware PMU opens). */
  events?: readonly EventInput[]
  /** `'self'` (default) or another process id. */
  pid?: 'self' | number
  /** Also observe each thread (attributes `thread.id`, `thread.name`) rather than the process total only. */
  perThread?: boolean
  /** Count the addon's own runtime threads too (see `ProcessCounter`). */
  includeAddonThreads?: boolean
  /** Instrument name prefix (default `perf.`): `perf.task_clock`, `perf.page_faults`… */
  prefix?: string
  /** Attributes added to every observation (`process.pid` is always set). */
  attributes?: Attributes
}

/** What `observeProcessCounters` returns. */
export interface ObservedCounters {
  /** Instrument names, in event order. */
  readonly names: readonly string[]
  /** The underlying counter (read it directly with `stat()` if needed). */
  readonly counter: ProcessCounter
  /** Removes the callback and closes the counters. Idempotent. */
  close(): void
}

/** `perf.` + perf's name of the event without modifiers, e.g. `perf.task_clock` for `'task-clock:u'` and `{ type: 'software', name: 'taskClock' }`. */
function instrumentName(prefix: string, ev: ResolvedEvent): string {
  return prefix + ev.name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toLowerCase()
}

/**
 * Opens a `ProcessCounter` on every thread of the process (enabled from now on) and exposes one
 * monotonic ObservableCounter per event; one read per collection feeds all of them
 * (`addBatchObservableCallback`). Clocks (`task-clock`, `cpu-clock`, in any spelling: see `isClockEvent`) are in `ns`; other events are
 * counts (`{event}`). Values are cumulative since this call, scaled when multiplexed.
 */
export function observeProcessCounters(meter: Meter, options: OpenTelemetryOptions = {}): ObservedCounters {
  if (meter === null || typeof meter !== 'object' || typeof meter.createObservableCounter !== 'function' || typeof meter.addBatchObservableCallback !== 'function')
    throw typeError('an @opentelemetry/api Meter (1.3+)', 'meter', meter)
  if (typeof options !== 'object' || options === null) throw typeError('an options object', 'options', options)
  const prefix = options.prefix ?? 'perf.'
  if (typeof prefix !== 'string') throw typeError('a string', 'options.prefix', prefix)
  const events = options.events ?? [...defaultEvents(), 'cpu-migrations']
  const counter = new ProcessCounter(events, options.pid ?? 'self', { includeAddonThreads: options.includeAddonThreads })
  // Resolved again (cheap) for names and units; the counter validated and opened them, in this order.
  const resolved = (Array.isArray(events) ? events : [events]).map((e) => resolveEvent(e as EventInput))
  const names = resolved.map((ev) => instrumentName(prefix, ev))
  const instruments: Observable[] = counter.labels.map((label, i) =>
    meter.createObservableCounter(names[i], {
      unit: unitOf(resolved[i]) === 'ns' ? 'ns' : '{event}',
      description: `perf_event_open count of ${label} over every thread of process ${counter.pid}`,
      valueType: 1, // ValueType.INT
    }),
  )
  const base: Attributes = { ...options.attributes, 'process.pid': counter.pid }
  const callback = (result: BatchObservableResult) => {
    if (counter.closed) return
    const s = counter.stat()
    if (options.perThread) {
      for (const t of s.threads) {
        const attrs = { ...base, 'thread.id': t.tid, 'thread.name': t.name }
        t.counts.forEach((v, i) => result.observe(instruments[i], Number(v), attrs))
      }
    } else s.events.forEach((e, i) => result.observe(instruments[i], Number(e.scaled), base))
  }
  counter.enable()
  meter.addBatchObservableCallback(callback, instruments)
  let closed = false
  return {
    names,
    counter,
    close() {
      if (closed) return
      closed = true
      meter.removeBatchObservableCallback(callback, instruments)
      counter.close()
    },
  }
}
