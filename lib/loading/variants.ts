/**
 * The kernel variants and targets of `variants.json`, and the pure logic that
 * picks a build for a running kernel. I/O lives in `loader.ts`.
 */

import { VARIANTS, type Variant } from './naming.js'

export { VARIANTS, TARGETS, DEFAULT_VARIANT, binaryName, packageName, type Variant, type TargetInfo } from './naming.js'

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
  if (forced !== undefined) {
    const v = VARIANTS.find((x) => x.name === forced)
    if (!v) return { tried, error: `PERF_EVENT_OPEN_VARIANT=${forced} is not a variant; variants: ${VARIANTS.map((x) => x.name).join(', ')}` }
    const path = locate(v)
    tried.push(v.name)
    if (!path) return { tried, error: `PERF_EVENT_OPEN_VARIANT=${forced}: that variant is not installed` }
    return { choice: { variant: v, path }, tried }
  }
  for (const v of candidateOrder(release)) {
    tried.push(v.name)
    const path = locate(v)
    if (path) return { choice: { variant: v, path }, tried }
  }
  return { tried, error: 'no build of any variant is installed' }
}
