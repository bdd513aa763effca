/** Firefox Profiler processed format (JSON), written by the fxprof-processed-profile crate in the symbolizer addon. */
import type { ProfileData } from '../types'
import { symbolizerCall } from '../symbolizer'

/**
 * Firefox Profiler processed format (JSON; open at https://profiler.firefox.com), written by the
 * `fxprof-processed-profile` crate in the symbolizer addon, off the JS thread. Threads are threads;
 * JS frames carry the JS flag and category. Clock events weigh one per sample, others their period.
 */
export async function toFirefox(p: ProfileData, product = `node ${process.argv.slice(1).join(' ')}`.trim()): Promise<string> {
  const interval = p.meta.freq ? 1000 / p.meta.freq : 1
  return symbolizerCall('firefox', (s) =>
    s.firefoxProfile({
      product,
      pid: p.meta.pid,
      processName: p.threads[0]?.name ?? 'node',
      startTimeMs: p.meta.startTime,
      intervalMs: interval,
      timeBased: p.meta.unit === 'ns',
      frameLabel: p.frames.map((f) => (f.kind === 'kernel' ? `${f.label} [kernel]` : f.label)),
      frameKind: p.frames.map((f) => f.kind),
      stackParent: [...p.stacks.parent],
      stackFrame: [...p.stacks.frame],
      sampleStack: [...p.samples.stack],
      sampleThread: [...p.samples.thread],
      sampleTimeNs: [...p.samples.time],
      sampleWeight: [...p.samples.weight],
      threadTid: p.threads.map((t) => t.tid),
      threadName: p.threads.map((t) => t.name),
    }),
  )
}
