/**
 * The one path from raw samples to a `Profile`: unique addresses symbolized once per process
 * (kernel and user space, off the JS thread), frames and stacks interned, threads named.
 */
import { Profile, ProfileBuilder } from './model'
import type { LostSamples, ProfileMeta } from './types'
import type { SampleStore } from './samples'
import type { UserSymbolizer } from './usersyms'
import { symbolizer, symbolizerCall } from './symbolizer'
import { perfMapPath } from './perfmap'
import { threadLabel } from '../system/threads'
import { nameThreads, toFrame } from './frames'

/** What `buildStacks` symbolizes and interns. */
export interface StackInput {
  samples: SampleStore
  /** Names the user-space addresses of a process (live or exited: `userSymbolizer` in usersyms.ts). */
  symbolizeUser: UserSymbolizer
  /** Thread names from comm records, by tid (else `/proc`). */
  comms: ReadonlyMap<number, string>
}

/** What `buildProfile` turns into a profile. */
export interface RawProfile extends StackInput {
  meta: ProfileMeta
  lost: LostSamples
  /** Warnings so far; symbolization adds its own. */
  warnings: string[]
}

/** Symbolizes raw samples (unique addresses once per process), interns frames and stacks, names threads. */
export async function buildStacks(raw: StackInput): Promise<ProfileBuilder> {
  const { samples, symbolizeUser, comms } = raw
  const { userIdx, kernIdx } = samples
  const pids = [...userIdx.keys()]
  symbolizer() // a clear error when the addon is missing, even for an empty profile
  const [kernSyms, ...userSyms] = await Promise.all([
    symbolizerCall('kernel', async (s) => (kernIdx.size ? s.symbolizeKernel(BigUint64Array.from(kernIdx.keys())) : [])),
    ...pids.map((pid) => symbolizeUser(pid, [...userIdx.get(pid)!.keys()])),
  ])
  const b = new ProfileBuilder()
  const userFrames = new Map<number, Int32Array>()
  pids.forEach((pid, k) => {
    const m = userIdx.get(pid)!
    const frames = new Int32Array(m.size)
    for (const [, i] of m) frames[i] = b.frame(toFrame(userSyms[k][i], false, perfMapPath(pid)))
    userFrames.set(pid, frames)
  })
  const kernFrames = new Int32Array(kernIdx.size)
  for (const [, i] of kernIdx) kernFrames[i] = b.frame(toFrame(kernSyms[i], true, ''))
  for (let k = 0; k < samples.length; k++) {
    const out = samples.ids[k]
    const nu = samples.nUser[k]
    const pid = samples.pid[k]
    const tid = samples.tid[k]
    let stack = -1
    if (nu) {
      const frames = userFrames.get(pid)!
      for (let i = nu - 1; i >= 0; i--) stack = b.stack(stack, frames[out[i]])
    }
    for (let i = out.length - 1; i >= nu; i--) stack = b.stack(stack, kernFrames[out[i]])
    const thread = b.thread(tid, pid, () => comms.get(tid) ?? threadLabel(pid, tid, comms.get(pid)))
    b.sample(stack, thread, samples.time[k], samples.period[k])
  }
  nameThreads(b)
  return b
}

/** A `Profile` of raw samples: `buildStacks`, then the profile's meta, losses and warnings. */
export async function buildProfile(raw: RawProfile): Promise<Profile> {
  return new Profile(await buildStacks(raw), raw.meta, raw.lost, raw.warnings)
}
