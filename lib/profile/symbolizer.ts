import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PerfEventError } from '../errors'

/** One symbolized address, as the symbolizer addon returns it. */
export interface SymbolizedAddr {
  name?: string
  module?: string
  file?: string
  line?: number
  column?: number
  reason?: string
}

/**
 * The symbolizer addon (`perf-event-open-symbolize`): blazesym + inferno, one build per platform.
 * Written out here so the published typings need nothing from symbolize/; `__test__/types/symbolizer.ts`
 * checks it against the generated symbolize/index.d.ts in both directions.
 */
export interface SymbolizerBinding {
  symbolizeProcess(pid: number, addrs: BigUint64Array, options?: { perfMap?: boolean; debugSyms?: boolean; mapFiles?: boolean } | null): Promise<SymbolizedAddr[]>
  symbolizeKernel(addrs: BigUint64Array, kallsyms?: string | null): Promise<SymbolizedAddr[]>
  symbolizeElf(path: string, offsets: BigUint64Array, debugSyms?: boolean | null): Promise<SymbolizedAddr[]>
  flameGraph(folded: string, options?: { title?: string; subtitle?: string; countName?: string; width?: number } | null): Promise<string>
  firefoxProfile(input: {
    product: string
    event: string
    pid: number
    processName: string
    startTimeMs: number
    intervalMs: number
    timeBased: boolean
    frameLabel: string[]
    frameKind: string[]
    stackParent: number[]
    stackFrame: number[]
    sampleStack: number[]
    sampleThread: number[]
    sampleTimeNs: number[]
    sampleWeight: number[]
    threadTid: number[]
    threadName: string[]
  }): Promise<string>
  symbolizerInfo(): string
}

/** Package name of the symbolizer: an optional dependency, with one platform package per target. */
export const SYMBOLIZER_PACKAGE = 'perf-event-open-symbolize'

let cached: SymbolizerBinding | undefined

/**
 * Loads the symbolizer addon on first use: `PERF_EVENT_OPEN_SYMBOLIZE_PATH` (a `.node` file or the
 * package's `index.js`; nothing else is tried when it is set), then the installed `perf-event-open-symbolize` package, then the
 * repository's `symbolize/` build (development).
 * @throws PerfEventError `ERR_SYMBOLIZER_MISSING` with how to install it.
 */
export function symbolizer(): SymbolizerBinding {
  if (cached) return cached
  const tried: string[] = []
  const candidates: string[] = []
  const env = process.env.PERF_EVENT_OPEN_SYMBOLIZE_PATH
  if (env) candidates.push(env)
  else {
    candidates.push(SYMBOLIZER_PACKAGE)
    const dev = join(__dirname, '..', '..', 'symbolize', 'index.js')
    if (existsSync(dev)) candidates.push(dev)
  }
  // The symbolizer's napi-generated loader honours NAPI_RS_NATIVE_LIBRARY_PATH, which a user may
  // have set for another napi-rs addon: hide it while loading (PERF_EVENT_OPEN_SYMBOLIZE_PATH is ours).
  const napiOverride = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  try {
    for (const c of candidates) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        cached = require(c) as SymbolizerBinding
        return cached
      } catch (e) {
        tried.push(`${c}: ${(e as Error).message.split('\n')[0]}`)
      }
    }
  } finally {
    if (napiOverride !== undefined) process.env.NAPI_RS_NATIVE_LIBRARY_PATH = napiOverride
  }
  throw new PerfEventError(`The symbolizer addon (${SYMBOLIZER_PACKAGE}) could not be loaded; tried:\n  ${tried.join('\n  ')}`, 'ERR_SYMBOLIZER_MISSING', {
    syscall: 'load',
    hint:
      `Install it beside perf-event-open: npm install ${SYMBOLIZER_PACKAGE} (it brings its platform package, ` +
      `e.g. ${SYMBOLIZER_PACKAGE}-linux-x64-gnu, as an optional dependency: do not use --omit=optional). In a clone of the repository run npm run build:symbolize. ` +
      'Or set PERF_EVENT_OPEN_SYMBOLIZE_PATH to its .node file.',
  })
}

/** Tests only: forget the loaded addon. */
export function resetSymbolizer(): void {
  cached = undefined
}
