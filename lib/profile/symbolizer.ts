import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { PerfEventError } from '../errors/errors'
import { symbolizerFailedHint, symbolizerMissingHint } from '../errors/hints'
import { currentTarget } from '../loading/loader'
import { findInNodeModules, resolverMayInstall } from '../loading/resolve'

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
    processPid: number[]
    processName: string[]
    startTimeMs: number
    intervalMs: number
    timeBased: boolean
    frameLabel: string[]
    frameKind: string[]
    frameFile: string[]
    frameLine: number[]
    frameColumn: number[]
    stackParent: number[]
    stackFrame: number[]
    sampleStack: number[]
    sampleThread: number[]
    sampleTimeNs: number[]
    sampleWeight: number[]
    threadTid: number[]
    threadName: string[]
    threadPid: number[]
  }): Promise<string>
  symbolizerInfo(): string
}

/** Package name of the symbolizer: an optional dependency, with one platform package per target. */
export const SYMBOLIZER_PACKAGE = 'perf-event-open-symbolize'

let cached: SymbolizerBinding | undefined

/** The package root (dist/profile/ or lib/profile/ → two levels up). */
const ROOT = join(__dirname, '..', '..')

/** The symbolizer binary a clone builds (`npm run build`) and `npm pack` carries: `symbolize/perf-event-open-symbolize.<platform>.node`. */
export function bundledSymbolizerPath(): string | undefined {
  const target = currentTarget()
  return target === undefined ? undefined : join(ROOT, 'symbolize', `${SYMBOLIZER_PACKAGE}.${target.platform}.node`)
}

/** This platform's symbolizer `.node` files present for the package in `dir`: beside its index.js, or in its platform package on disk. */
function platformBinaries(dir: string): string[] {
  const target = currentTarget()
  if (target === undefined) return []
  const bin = `${SYMBOLIZER_PACKAGE}.${target.platform}.node`
  const found = [join(dir, bin)].filter((f) => existsSync(f))
  const inPackage = findInNodeModules(dir, `${SYMBOLIZER_PACKAGE}-${target.platform}`, bin)
  return inPackage ? [...found, inPackage] : found
}

/** napi's generic "npm has a bug…" text says nothing true here: name what was missing instead. */
function loadFailure(e: unknown): string {
  const first = (e as Error).message.split('\n')[0]
  return /Cannot find native binding/.test(first) ? 'no binary for this platform beside it and no platform package installed' : first
}

/** The fixes that work in the state this copy of the package is in (the text: hints.ts). */
function missingHint(envPath: string | undefined): string {
  const platform = currentTarget()?.platform ?? '<platform>'
  const file = `${SYMBOLIZER_PACKAGE}.${platform}.node`
  return symbolizerMissingHint({ envPath, file, root: ROOT, clone: existsSync(join(ROOT, 'symbolize', 'Cargo.toml')), pkg: SYMBOLIZER_PACKAGE, platform })
}

/**
 * Loads the symbolizer addon on first use: `PERF_EVENT_OPEN_SYMBOLIZE_PATH` (a `.node` file or the
 * package's `index.js`; nothing else is tried when it is set), then the installed
 * `perf-event-open-symbolize` package (found on disk in a `node_modules` folder above this package:
 * its platform `.node` directly, else its index.js; never through Bun's resolver), then the binary beside this package
 * (`symbolize/perf-event-open-symbolize.<platform>.node`: what `npm run build` makes in a clone and
 * `npm pack` carries), then `symbolize/index.js` (a clone's napi loader).
 * @throws PerfEventError `ERR_SYMBOLIZER_MISSING` with the fixes that work in this state.
 */
export function symbolizer(): SymbolizerBinding {
  if (cached) return cached
  const tried: string[] = []
  const candidates: string[] = []
  const env = process.env.PERF_EVENT_OPEN_SYMBOLIZE_PATH
  if (env) candidates.push(env)
  else {
    // The package on disk first, this platform's .node in it loaded directly (the libc as the main
    // loader detects it: the generated index.js decides musl from /usr/bin/ldd first), else its
    // index.js; the bare name only where the runtime's resolver cannot install it (Bun's
    // auto-install would fetch it from the network).
    const onDisk = findInNodeModules(ROOT, SYMBOLIZER_PACKAGE, 'package.json')
    const unsafe = onDisk ? undefined : resolverMayInstall()
    if (onDisk) candidates.push(...platformBinaries(dirname(onDisk)), dirname(onDisk))
    else if (unsafe) tried.push(`${SYMBOLIZER_PACKAGE}: ${unsafe}`)
    else candidates.push(SYMBOLIZER_PACKAGE)
    const bundled = bundledSymbolizerPath()
    if (bundled !== undefined) candidates.push(bundled)
    const dev = join(ROOT, 'symbolize', 'index.js')
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
        symbolizerFrom = c
        return cached
      } catch (e) {
        tried.push(`${c}: ${loadFailure(e)}`)
      }
    }
  } finally {
    if (napiOverride !== undefined) process.env.NAPI_RS_NATIVE_LIBRARY_PATH = napiOverride
  }
  throw new PerfEventError(`The symbolizer addon (${SYMBOLIZER_PACKAGE}) could not be loaded; tried:\n  ${tried.join('\n  ')}`, 'ERR_SYMBOLIZER_MISSING', {
    syscall: 'load',
    hint: missingHint(env),
  })
}

let symbolizerFrom: string | undefined

/** Where the loaded symbolizer came from (a path or the package name), once `symbolizer()` succeeded. */
export function symbolizerSource(): string | undefined {
  return cached === undefined ? undefined : symbolizerFrom
}

/** What the symbolizer addon is asked to do, for `symbolizerCall`: its step (for the hint) and what the message says. */
const STEPS = {
  kernel: 'naming kernel addresses',
  flameGraph: 'drawing the flame graph',
  firefox: 'writing the Firefox Profiler JSON',
} as const

/**
 * Calls the symbolizer addon (loaded first: ERR_SYMBOLIZER_MISSING when it cannot be) for a step whose
 * failure fails the profile or the export: the addon's error, thrown or rejected, becomes a
 * PerfEventError `ERR_SYMBOLIZER_FAILED` naming the step, with the addon's error as its cause and a hint.
 */
export async function symbolizerCall<T>(step: keyof typeof STEPS, call: (s: SymbolizerBinding) => Promise<T>): Promise<T> {
  const s = symbolizer()
  try {
    return await call(s)
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e)
    throw new PerfEventError(`The symbolizer addon (${symbolizerFrom}) failed while ${STEPS[step]}: ${why}`, 'ERR_SYMBOLIZER_FAILED', { syscall: 'symbolize', hint: symbolizerFailedHint(step), cause: e })
  }
}
