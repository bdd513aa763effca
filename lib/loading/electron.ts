/**
 * What differs under Electron: V8 flags reach the main process only through `--js-flags` given at
 * start, and `process.execPath` is the Electron binary, which runs as Node only with
 * `ELECTRON_RUN_AS_NODE=1`. Nothing here loads Electron; it reads `process.versions.electron`.
 */
import { realpathSync } from 'node:fs'

/** Whether this process is Electron (main, utility or a Node-enabled renderer). */
export function isElectron(): boolean {
  return typeof process.versions.electron === 'string'
}

const PERF_MAP_FLAGS = ['--perf-basic-prof', '--perf-basic-prof-only-functions', '--perf-prof']

/** Whether Electron was started with `--js-flags` that turn on V8's perf map (`--js-flags=--perf-basic-prof`). */
export function electronPerfMapFlags(argv: readonly string[] = process.argv): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = a.startsWith('--js-flags=') ? a.slice('--js-flags='.length) : a === '--js-flags' ? (argv[i + 1] ?? '') : undefined
    if (value !== undefined && value.split(/[\s,]+/).some((f) => PERF_MAP_FLAGS.includes(f))) return true
  }
  return false
}

/** How to get JS names into profiles of an Electron app: written in lib/errors/hints.ts, re-exported for the profiler. */

/**
 * The environment for running `file` as a command: under Electron, when `file` is this process's
 * own binary (`process.execPath`, the Electron executable), `ELECTRON_RUN_AS_NODE=1` is added
 * (unless `env` sets it) so that it runs as Node, as `profileCommand(process.execPath, [...])` means.
 */
export function commandEnv(file: string, env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv | undefined {
  if (!isElectron() || !sameFile(file, process.execPath)) return env
  const base = env ?? process.env
  if (base.ELECTRON_RUN_AS_NODE !== undefined) return env
  return { ...base, ELECTRON_RUN_AS_NODE: '1' }
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true
  try {
    return realpathSync(a) === realpathSync(b)
  } catch {
    return false
  }
}
