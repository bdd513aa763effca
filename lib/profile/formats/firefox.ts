/** Firefox Profiler processed format (JSON), written by the fxprof-processed-profile crate in the symbolizer addon. */
import type { ProfileData } from '../types'
import { symbolizerCall } from '../symbolizer'

/** A process's name: its main thread's (else its first thread's) name without the role `nameThreads` adds (`node (main)` → `node`). */
function processName(p: ProfileData, pid: number): string {
  const t = p.threads.find((x) => x.pid === pid && x.tid === pid) ?? p.threads.find((x) => x.pid === pid)
  return t ? t.name.replace(/ \([^()]*\)$/, '') : `pid ${pid}`
}

/**
 * Firefox Profiler processed format (JSON; open at https://profiler.firefox.com), written by the
 * `fxprof-processed-profile` crate in the symbolizer addon, off the JS thread. One process per pid,
 * named after it (its main thread is shown under that name, as the Firefox Profiler does); threads
 * are threads, named as the profile names them. Functions carry their file, line and column (JS
 * frames from V8's perf map, native frames from DWARF); JS frames the JS flag and category. Clock
 * events weigh one per sample, others their period.
 */
export async function toFirefox(p: ProfileData, product = `node ${process.argv.slice(1).join(' ')}`.trim()): Promise<string> {
  const interval = p.meta.freq ? 1000 / p.meta.freq : 1
  const pids = [...new Set(p.threads.map((t) => t.pid))]
  // Sample times are ns after the start (the profile's zero): the first sample is `firstSampleTime`.
  const offsetNs = ((p.meta.firstSampleTime ?? p.meta.startTime) - p.meta.startTime) * 1e6
  return symbolizerCall('firefox', (s) =>
    s.firefoxProfile({
      product,
      processPid: pids,
      processName: pids.map((pid) => processName(p, pid)),
      startTimeMs: p.meta.startTime,
      intervalMs: interval,
      timeBased: p.meta.unit === 'ns',
      frameLabel: p.frames.map((f) => (f.kind === 'kernel' ? `${f.label} [kernel]` : f.label)),
      frameKind: p.frames.map((f) => f.kind),
      frameFile: p.frames.map((f) => f.file ?? ''),
      frameLine: p.frames.map((f) => f.line ?? 0),
      frameColumn: p.frames.map((f) => f.column ?? 0),
      stackParent: [...p.stacks.parent],
      stackFrame: [...p.stacks.frame],
      sampleStack: [...p.samples.stack],
      sampleThread: [...p.samples.thread],
      sampleTimeNs: Array.from(p.samples.time, (t) => t + offsetNs),
      sampleWeight: [...p.samples.weight],
      threadTid: p.threads.map((t) => t.tid),
      threadName: p.threads.map((t) => t.name),
      threadPid: p.threads.map((t) => t.pid),
    }),
  )
}
