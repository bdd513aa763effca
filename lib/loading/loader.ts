import { existsSync } from 'node:fs'
import { arch, platform, env } from 'node:process'
import { release } from 'node:os'
import { join } from 'node:path'
import type * as Native from '../../index'
import { PerfEventError } from '../errors/perf-event-error'
import { LOAD_HINTS } from '../errors/hints'
import { findInNodeModules, resolverMayInstall } from './resolve'
import { detectLibc } from './libc'
import { binaryName, candidateOrder, choose, compareVersions, DEFAULT_VARIANT, packageName, parseRelease, TARGETS, type TargetInfo, type Variant } from './variants'

/** The generated native module (index.d.ts describes every variant: they export the same API). */
export type NativeBinding = typeof Native

/** What was loaded, and why. */
export interface BuildInfo {
  /** Variant name from variants.json (`'custom'` for PERF_EVENT_OPEN_BINARY). */
  variant: string
  /** The kernel release the choice was made for (`os.release()`). */
  kernel: string
  /** napi target triple of the binary, e.g. `x86_64-unknown-linux-gnu`. */
  target: string
  /** The `.node` file loaded. */
  path: string
  /**
   * Set when a variant built for this kernel exists but is not installed (only the default variant,
   * `latest`, is installed by default): the npm command that installs it. The loaded variant still
   * works; options this kernel lacks then fail in the kernel (`EINVAL`/`E2BIG`) rather than with
   * `ERR_UNSUPPORTED_BY_BUILD`.
   */
  fittingVariant?: string
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require('../../package.json') as { version: string }).version

/** `npm install <the variant's package>@<this version>`. */
export function installCommand(target: TargetInfo, variant: string): string {
  return `npm install ${packageName(target.platform, variant)}@${VERSION}`
}

export { detectLibc, type LibcDetection } from './libc'

/** The target of this process, or undefined on unsupported platforms. */
export function currentTarget(): TargetInfo | undefined {
  if (platform !== 'linux') return undefined
  const libc = detectLibc().libc
  return TARGETS.find((t) => t.cpu === arch && t.libc === libc)
}

/**
 * Where a variant's binary is for `target`: next to the package (local builds), then in its npm
 * package: on disk in a `node_modules` folder above the package, else through `resolve` unless the
 * runtime could install it from the network there (Bun's auto-install).
 */
export function locator(target: TargetInfo, root: string, resolve: (id: string) => string, tried: string[]) {
  return (v: Variant): string | undefined => {
    const local = join(root, binaryName(target.platform, v.name))
    tried.push(local)
    if (existsSync(local)) return local
    const pkg = packageName(target.platform, v.name)
    const file = binaryName(target.platform, v.name)
    const onDisk = findInNodeModules(root, pkg, file)
    if (onDisk) return onDisk
    const unsafe = resolverMayInstall()
    if (unsafe) {
      tried.push(`${pkg} (npm package: not in a node_modules folder above ${root}; ${unsafe})`)
      return undefined
    }
    tried.push(`${pkg} (npm package)`)
    try {
      return resolve(`${pkg}/${file}`)
    } catch {
      return undefined
    }
  }
}

/** The highest variant whose kernel is <= the running one, if any. */
function fittingFor(kernel: string): Variant | undefined {
  const parsed = parseRelease(kernel)
  const best = candidateOrder(kernel)[0]
  return parsed && best && compareVersions(best.kernel, parsed) <= 0 ? best : undefined
}

const SOLUTIONS = (target: TargetInfo, kernel: string) => {
  const fit = fittingFor(kernel)
  return LOAD_HINTS.solutions({
    pkg: packageName(target.platform, DEFAULT_VARIANT),
    install: installCommand(target, DEFAULT_VARIANT),
    fitInstall: fit && fit.name !== DEFAULT_VARIANT ? installCommand(target, fit.name) : undefined,
    cpu: target.cpu,
    libc: target.libc,
  })
}

/** Loads the native module for this machine: target by CPU and libc, variant by kernel. */
export function load(root = join(__dirname, '..', '..'), resolve: (id: string) => string = require.resolve): { binding: NativeBinding; info: BuildInfo } {
  const target = currentTarget()
  if (platform !== 'linux') {
    throw new PerfEventError(`perf-event-open works only on Linux: perf_event_open(2) is a Linux system call, and this is ${platform}.`, 'ERR_NATIVE_LOAD', {
      hint: LOAD_HINTS.notLinux,
    })
  }
  if (!target) {
    throw new PerfEventError(`perf-event-open has no build for linux-${arch}; builds exist for ${TARGETS.map((t) => t.platform).join(', ')}.`, 'ERR_NATIVE_LOAD', {
      hint: LOAD_HINTS.noBuild,
    })
  }
  const kernel = release()
  const requireNative = (path: string) => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(path) as NativeBinding
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
      throw new PerfEventError(`Could not load the perf-event-open binary ${path}: ${detail}`, 'ERR_NATIVE_LOAD', { cause, hint: SOLUTIONS(target, kernel) })
    }
  }
  const custom = env.PERF_EVENT_OPEN_BINARY
  if (custom) {
    return { binding: requireNative(custom), info: { variant: 'custom', kernel, target: target.triple, path: custom } }
  }
  const tried: string[] = []
  const forced = env.PERF_EVENT_OPEN_VARIANT || undefined
  const { choice, error } = choose(kernel, locator(target, root, resolve, tried), forced)
  if (!choice) {
    throw new PerfEventError(
      `Could not find a perf-event-open binary for ${target.platform} on Linux ${kernel}: ${error}. Looked at:\n${tried.map((t) => `  ${t}`).join('\n')}`,
      'ERR_NATIVE_LOAD',
      { hint: SOLUTIONS(target, kernel) },
    )
  }
  // A variant above the running kernel (the default install on most kernels) works: the crate
  // sets only the attr bits of the options in use, and the kernel accepts a larger, zero-tailed
  // perf_event_attr. Options this kernel lacks then fail in the kernel (EINVAL/E2BIG).
  // choose() tries the best fit first, so any other choice means it is not installed.
  const fit = fittingFor(kernel)
  const fittingVariant = !forced && fit && fit !== choice.variant ? installCommand(target, fit.name) : undefined
  return {
    binding: requireNative(choice.path),
    info: { variant: choice.variant.name, kernel, target: target.triple, path: choice.path, ...(fittingVariant ? { fittingVariant } : {}) },
  }
}

