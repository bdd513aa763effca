/**
 * Opening samplers on every thread of a process and mapping their rings: shared by the CPU
 * profiler (profiler.ts) and the off-CPU profiler (offcpu/session.ts).
 * @packageDocumentation
 */
import { binding } from '../loading/binding'
import type { Counter } from '../handles/counter'
import type { Sampler } from '../handles/sampler'
import { PerfEventError } from '../errors/errors'
import { noProcessHint } from '../errors/hints'
import { onlineCpus } from '../system/kernel'
import { threadIds } from '../system/threads'

/** Opens one event for a thread on a CPU; `inherit` says to which new tasks it is inherited. */
export type OpenOn = (target: { pid: number; cpu: number }, inherit: 'newThread' | 'newChild') => Counter

/**
 * One event per thread per CPU (the process's main thread first), inherited by later threads; per
 * CPU, one ring: the first event of a CPU gets `ring(c)`, the others write into it. Threads that end
 * meanwhile are skipped. Returns every event opened.
 */
export function openOnProcess(pid: number, open: OpenOn, ring: (c: Counter) => void): Counter[] {
  const tids = threadIds(pid).sort((a, b) => (a === pid ? -1 : b === pid ? 1 : a - b))
  if (tids.length === 0) throw new PerfEventError(`No process ${pid}`, 'ESRCH', { syscall: 'open', hint: noProcessHint() })
  const opened: Counter[] = []
  try {
    openAll(tids, open, ring, opened)
  } catch (e) {
    // All or nothing: the caller never saw these, so nobody else would close them.
    for (const c of opened) c.close()
    throw e
  }
  return opened
}

function openAll(tids: number[], open: OpenOn, ring: (c: Counter) => void, opened: Counter[]): void {
  let inherit: 'newThread' | 'newChild' = 'newThread'
  for (const cpu of onlineCpus()) {
    let first: Counter | undefined
    for (const tid of tids) {
      let c: Counter
      try {
        c = open({ pid: tid, cpu }, inherit)
      } catch (e) {
        // inherit_thread needs Linux 5.13: inherit to every child instead.
        if (e instanceof PerfEventError && inherit === 'newThread' && ['EINVAL', 'ERR_UNSUPPORTED_BY_BUILD'].includes(e.code)) {
          inherit = 'newChild'
          c = open({ pid: tid, cpu }, inherit)
        } else if (e instanceof PerfEventError && e.code === 'ESRCH') continue // the thread ended meanwhile
        else throw e
      }
      opened.push(c)
      if (first) binding().setOutput(c.fd, first.fd)
      else ring((first = c))
    }
  }
}

/** The ring size in use across the rings of one run (reduced where the memlock limit refuses the wanted one). */
export interface RingSize {
  /** 2^exp pages wanted. */
  readonly want: number
  /** Whether the user chose `want` (then a refusal is an error, not a smaller ring). */
  readonly chosen: boolean
  /** The size in use, 0 until the first ring is mapped. */
  exp: number
}

/**
 * Maps the ring of `c`: 2^exp pages, halved while the memlock limit (perf_event_mlock_kb,
 * RLIMIT_MEMLOCK) refuses it, unless the user chose the size; a reduction is said in `warnings`.
 */
export function mapRing(c: Counter, size: RingSize, warnings: string[]): Sampler {
  let exp = size.exp || size.want
  for (;;) {
    try {
      const s = c.sampler(exp)
      if (exp < size.want && size.exp !== exp)
        warnings.push(`The ring was reduced from 2^${size.want} to 2^${exp} pages by the memlock limit (kernel.perf_event_mlock_kb, ulimit -l): raise it, or await between chunks of work, to lose fewer samples.`)
      size.exp = exp
      return s
    } catch (e) {
      if (size.chosen || exp <= 2 || !(e instanceof PerfEventError) || !['EPERM', 'ENOMEM'].includes(e.code)) throw e
      exp--
    }
  }
}
