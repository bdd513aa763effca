import { Counter } from '../handles/counter'
import { PerfEventError, typeError } from '../errors/errors'
import { resolveEvent, unitOf, type CountUnit, type EventInput } from '../events/events'
import { CounterGroup } from '../handles/group'

/** Events counted when none are given: software events that open everywhere, plus IPC where there is a PMU. */
export function defaultEvents(): string[] {
  const events = ['task-clock', 'page-faults', 'context-switches']
  try {
    new Counter('instructions:u').close()
    events.push('instructions:u', 'cycles:u')
  } catch {}
  return events
}

/** Per-iteration counts of one task. */
export interface IterationCounts {
  /** Iterations counted (the measured phase only). */
  iterations: number
  /** Total count per event over those iterations. */
  total: Record<string, bigint>
  /** Mean count per iteration per event (task-clock in ns). */
  perIteration: Record<string, number>
  /** Smallest and largest per-iteration value seen in one counted window (a window may hold a batch of iterations). */
  min: Record<string, number>
  max: Record<string, number>
}

/**
 * Counts windows of iterations on the calling thread: `start()` before a window, `stop(n)` after it
 * (n iterations in the window). The group stays enabled and each window is the difference of two
 * group reads (one read(2) each): no enable/disable ioctls per window. (On the Linux 6.18 kernel
 * this was written on, a group's siblings did not count again after a group disable/enable cycle.)
 */
export class IterationCounter {
  readonly labels: string[]
  /** Unit of each event's count, in label order: `'ns'` for the clocks, else `'events'`. */
  readonly units: CountUnit[]
  #group: CounterGroup
  #iterations = 0
  #at: bigint[] | undefined
  #total: bigint[]
  #min: number[]
  #max: number[]

  constructor(events: readonly EventInput[] | undefined) {
    if (events !== undefined && (!Array.isArray(events) || events.length === 0)) throw typeError('a non-empty array of events', 'events', events)
    const list = events ?? defaultEvents()
    const group = new CounterGroup(list[0])
    try {
      for (const e of list.slice(1)) group.add(e)
    } catch (e) {
      group.close()
      if (e instanceof PerfEventError) e.message += "\n(perf-event-open adapters: choose events that open here; 'npx perf-event-open list' shows them)"
      throw e
    }
    group.enable()
    this.#group = group
    this.labels = this.#group.members.map((m) => m.label)
    this.units = list.map((e) => unitOf(resolveEvent(e)))
    this.#total = this.labels.map(() => 0n)
    this.#min = this.labels.map(() => Infinity)
    this.#max = this.labels.map(() => -Infinity)
  }

  #read(): bigint[] {
    return this.#group.stat().members.map((m) => m.scaled)
  }

  start(): void {
    this.#at = this.#read()
  }

  stop(iterations = 1): void {
    const now = this.#read()
    const at = this.#at
    if (at === undefined) return
    this.#at = undefined
    this.#iterations += iterations
    now.forEach((v, i) => {
      const d = v - at[i]
      this.#total[i] += d
      const per = Number(d) / iterations
      if (per < this.#min[i]) this.#min[i] = per
      if (per > this.#max[i]) this.#max[i] = per
    })
  }

  counts(): IterationCounts {
    const rec = <T>(f: (i: number) => T) => Object.fromEntries(this.labels.map((l, i) => [l, f(i)])) as Record<string, T>
    const n = this.#iterations
    return {
      iterations: n,
      total: rec((i) => this.#total[i]),
      perIteration: rec((i) => (n === 0 ? 0 : Number(this.#total[i]) / n)),
      min: rec((i) => (n === 0 ? 0 : this.#min[i])),
      max: rec((i) => (n === 0 ? 0 : this.#max[i])),
    }
  }

  close(): void {
    this.#group.close()
  }
}
