/**
 * The CPU time a profile without kernel frames could not see. With kernel mode excluded (the only
 * choice at perf_event_paranoid 2) the kernel does not sample kernel mode, so system calls and page
 * faults are missing from the profile; a task-clock counter still counts the time a thread runs,
 * user and kernel, even with kernel mode excluded, so its count against the samples' weight says how
 * much the profile does not show.
 * @packageDocumentation
 */
import { Counter } from '../handles/counter'
import type { CounterOptions } from '../events/options'
import { unseenKernelTimeWarning } from '../errors/hints'
import { threadIds } from '../system/threads'

/** Task-clock counters on the profiled threads of this process. */
export class UnseenKernelTime {
  readonly #clocks: Counter[]

  private constructor(clocks: Counter[]) {
    this.#clocks = clocks
  }

  /**
   * Opens and enables task-clocks on the calling thread (`'thread'`) or on every thread of this
   * process and those it starts (`'process'`); undefined where they cannot be opened (the profile then
   * only says that kernel frames are off).
   */
  static open(scope: 'thread' | 'process'): UnseenKernelTime | undefined {
    const opts: CounterOptions = { exclude: { kernel: true, hv: true } }
    const clocks: Counter[] = []
    try {
      if (scope === 'thread') clocks.push(new Counter('task-clock', undefined, opts))
      else for (const tid of threadIds(process.pid)) clocks.push(new Counter('task-clock', { pid: tid, cpu: 'all' }, { ...opts, inherit: 'newThread' }))
    } catch {
      for (const c of clocks) c.close()
      return undefined
    }
    for (const c of clocks) c.enable()
    return new UnseenKernelTime(clocks)
  }

  /** The warning for a profile whose samples weigh `seenNs` (ns), or '' when the clocks saw no more. Stops the clocks. */
  statement(seenNs: number): string {
    let cpu = 0
    for (const c of this.#clocks) {
      c.disable()
      cpu += Number(c.stat().count)
    }
    const unseen = cpu - seenNs
    return cpu > 0 && unseen > 0 ? unseenKernelTimeWarning(seenNs, cpu) : ''
  }

  close(): void {
    for (const c of this.#clocks) c.close()
  }
}
