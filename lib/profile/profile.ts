/**
 * `profile(fn)`: one call that profiles a function, by CPU samples (a `Profiler`) or by where its
 * thread waits (an `OffCpuProfiler`, lib/profile/offcpu).
 * @packageDocumentation
 */
import { typeError } from '../errors/errors'
import type { Profile } from './model'
import type { ProfileOptions } from './options'
import { Profiler } from './profiler'
import { profileWall, type OffCpuOptions, type OffCpuProfile } from './offcpu'

/** `profile()`'s options in `'cpu'` mode (the default): a `Profiler`'s. */
export type CpuProfileOptions = ProfileOptions & { mode?: 'cpu' }
/** `profile()`'s options in `'wall'` / `'off-cpu'` mode: an `OffCpuProfiler`'s (lib/profile/offcpu). */
export type WaitProfileOptions = OffCpuOptions & { mode: 'wall' | 'off-cpu' }

/**
 * Profiles `fn` (sync or async) on this thread and returns the symbolized profile.
 * `options.mode`: `'cpu'` (default) samples `options.event` with a `Profiler`; `'wall'` (on-CPU
 * samples plus every off-CPU interval) and `'off-cpu'` (the off-CPU intervals only) profile where
 * the thread waits, weighted in ns, with an `OffCpuProfiler` (the same as `profileWall`).
 * With `options.signal` aborted meanwhile (`'cpu'` mode), it rejects with `ERR_CLOSED` once `fn` has returned.
 *
 * ```ts
 * const p = await profile(() => work(), { event: 'page-faults' })
 * console.log(p.top(10).table)
 * await p.write('work.pb.gz')
 * const w = await profile(() => work(), { mode: 'wall' })
 * console.log(w.offCpu.threads)
 * ```
 */
export async function profile(fn: () => unknown, options: WaitProfileOptions): Promise<OffCpuProfile>
export async function profile(fn: () => unknown, options?: CpuProfileOptions): Promise<Profile>
export async function profile(fn: () => unknown, options?: CpuProfileOptions | WaitProfileOptions): Promise<Profile> {
  if (typeof fn !== 'function') throw typeError('a function', 'fn', fn)
  const mode: unknown = options !== null && typeof options === 'object' ? options.mode : undefined
  if (mode !== undefined && mode !== 'cpu' && mode !== 'wall' && mode !== 'off-cpu') throw typeError("'cpu', 'wall' or 'off-cpu'", 'options.mode', mode)
  if (mode === 'wall' || mode === 'off-cpu') return profileWall(fn, options as WaitProfileOptions)
  let cpuOptions = options as ProfileOptions | undefined
  if (mode === 'cpu') {
    const { mode: _, ...rest } = options as CpuProfileOptions
    cpuOptions = rest as ProfileOptions
  }
  using p = new Profiler(cpuOptions)
  p.start()
  await fn()
  // Awaited inside the scope: disposal (abort) comes after stop() is done, and only matters when fn throws.
  return await p.stop()
}
