/**
 * Whose perf maps a profile reads, what its scope and pid are, and what it says when JS frames will
 * stay unnamed: a command (each of its processes' maps), another process (its map), or this Node
 * (its own map only when it runs with --perf-basic-prof; once a process, on stderr too).
 * @packageDocumentation
 */
import { ELECTRON_PERF_MAP_HINT, PERF_MAP_HINT, noCommandPerfMapWarning, noPerfMapWarning, targetExitedWarning } from '../errors/hints'
import { isElectron } from '../loading/electron'
import { entryExists, exists } from '../system/files'
import { perfMapEnabled, perfMapPath } from './perfmap'
import type { ProfileMeta } from './types'

/** What is profiled: a command's pid (`child`), else `pid` with `scope`; the pids samples came from. */
export interface TargetInput {
  child: number | undefined
  pid: number
  scope: 'thread' | 'process'
  samplePids: Iterable<number>
}

/** The profile's scope and pid, and which pids' perf maps to read. */
export interface ProfileTarget {
  scope: ProfileMeta['scope']
  pid: number
  perfMap: (pid: number) => boolean
}

let warnedPerfMap = false

/** The target of a profile; pushes to `warnings` what will be unnamed and why. */
export function profileTarget({ child, pid, scope, samplePids }: TargetInput, warnings: string[]): ProfileTarget {
  if (child !== undefined) {
    const noMap = [...new Set(samplePids)].filter((p) => !entryExists(perfMapPath(p)))
    if (noMap.length) warnings.push(noCommandPerfMapWarning(noMap))
    return { scope: 'command', pid: child, perfMap: () => true }
  }
  if (pid !== process.pid) {
    if (!exists(`/proc/${pid}/maps`)) warnings.push(targetExitedWarning(pid))
    if (!entryExists(perfMapPath(pid))) warnings.push(noPerfMapWarning(pid))
    return { scope, pid, perfMap: () => true }
  }
  const hasMap = perfMapEnabled() && entryExists(perfMapPath(pid))
  if (!hasMap) {
    // Electron takes V8 flags through --js-flags, not node's command line (lib/loading/electron.ts).
    const hint = isElectron() ? ELECTRON_PERF_MAP_HINT : PERF_MAP_HINT
    warnings.push(hint)
    if (!warnedPerfMap) {
      warnedPerfMap = true
      process.emitWarning(hint, { code: 'PERF_EVENT_OPEN_NO_PERF_MAP' })
    }
  }
  return { scope, pid, perfMap: () => hasMap }
}
