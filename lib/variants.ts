/**
 * The kernel variants and targets of `variants.json`, and the pure logic that
 * picks a build for a running kernel. I/O lives in `loader.ts`.
 */

export interface Variant {
  /** Name used in package names and PERF_EVENT_OPEN_VARIANT. */
  name: string
  /** Oldest kernel (major.minor) this variant is for. */
  kernel: string
  /** Cargo feature it is built with (`linux-X.Y` or `latest`). */
  feature: string
  distros: string
}

export interface TargetInfo {
  triple: string
  /** napi platform string, e.g. `linux-x64-gnu`. */
  platform: string
  cpu: string
  libc: 'glibc' | 'musl'
  buildHere: boolean
}

interface VariantsFile {
  default: string
  variants: Variant[]
  targets: TargetInfo[]
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const file = require('../variants.json') as VariantsFile

export const VARIANTS: readonly Variant[] = file.variants
export const TARGETS: readonly TargetInfo[] = file.targets
export const DEFAULT_VARIANT: string = file.default

/** `[major, minor]` of a kernel release such as `6.18.44-fc-v669` or `5.15.153.1-microsoft-standard-WSL2`. */
export function parseRelease(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim())
  return m ? [Number(m[1]), Number(m[2])] : undefined
}

export function compareVersions(a: string | [number, number], b: string | [number, number]): number {
  const pa = typeof a === 'string' ? parseRelease(a)! : a
  const pb = typeof b === 'string' ? parseRelease(b)! : b
  return pa[0] - pb[0] || pa[1] - pb[1]
}

/** The Linux version of a variant's crate feature (`linux-5.13` → `5.13`, `latest` → its kernel). */
function featureLinux(v: Variant): string {
  return v.feature.startsWith('linux-') ? v.feature.slice('linux-'.length) : v.kernel
}

/** File name of a variant's `.node` (in a package or next to the package root). */
export function binaryName(platform: string, variant: string): string {
  return variant === DEFAULT_VARIANT ? `perf-event-open.${platform}.node` : `perf-event-open.${platform}-${variant}.node`
}

/** npm package of a (platform, variant). The default variant is the plain napi platform package. */
export function packageName(platform: string, variant: string): string {
  return variant === DEFAULT_VARIANT ? `perf-event-open-${platform}` : `perf-event-open-${platform}-${variant}`
}

/** The variants to try for a kernel, best first: the highest whose kernel <= release, then lower ones, then higher ones. */
export function candidateOrder(release: string): Variant[] {
  const kernel = parseRelease(release)
  const sorted = [...VARIANTS].sort((a, b) => compareVersions(b.kernel, a.kernel))
  if (!kernel) return sorted
  const fit = sorted.filter((v) => compareVersions(v.kernel, kernel) <= 0)
  const above = sorted.filter((v) => compareVersions(v.kernel, kernel) > 0).reverse()
  return [...fit, ...above]
}

/** The oldest variant whose build has the options of Linux `since` (for error hints). */
export function variantWith(since: string): Variant | undefined {
  return [...VARIANTS].sort((a, b) => compareVersions(a.kernel, b.kernel)).find((v) => compareVersions(featureLinux(v), since) >= 0)
}

export interface Choice {
  variant: Variant
  path: string
  /** The variant's kernel is above the running one (no fitting build was installed). */
  aboveKernel: boolean
}

/**
 * Picks the build to load. `locate` returns where a variant's binary is, or undefined
 * (after recording what it looked at into `tried`).
 */
export function choose(
  release: string,
  locate: (v: Variant) => string | undefined,
  forced?: string,
): { choice?: Choice; tried: string[]; error?: string } {
  const tried: string[] = []
  const kernel = parseRelease(release)
  if (forced !== undefined) {
    const v = VARIANTS.find((x) => x.name === forced)
    if (!v) return { tried, error: `PERF_EVENT_OPEN_VARIANT=${forced} is not a variant; variants: ${VARIANTS.map((x) => x.name).join(', ')}` }
    const path = locate(v)
    tried.push(v.name)
    if (!path) return { tried, error: `PERF_EVENT_OPEN_VARIANT=${forced}: that variant is not installed` }
    return { choice: { variant: v, path, aboveKernel: !!kernel && compareVersions(v.kernel, kernel) > 0 }, tried }
  }
  for (const v of candidateOrder(release)) {
    tried.push(v.name)
    const path = locate(v)
    if (path) return { choice: { variant: v, path, aboveKernel: !!kernel && compareVersions(v.kernel, kernel) > 0 }, tried }
  }
  return { tried, error: 'no build of any variant is installed' }
}
