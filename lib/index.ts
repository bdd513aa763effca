/// <reference types="node" preserve="true" />
/**
 * perf-event-open: the Linux perf_event_open(2) interface for Node.js and Electron.
 * @packageDocumentation
 */
import { binding } from './loading/binding'
export { buildInfo, type BuildInfo } from './loading/binding'
import { typeError } from './errors/errors'
import type * as Profiling from './profile'
import type * as OffCpu from './profile/offcpu'
import type * as Listing from './discovery/list'
import type * as Doctor from './discovery/doctor'
import type * as Processes from './handles/process'
import type * as Sampling from './handles/sampler'

export { Counter } from './handles/counter'
export { CounterGroup, type GroupMember } from './handles/group'
export type { PerfRecord, RecordOf, RecordPriv, SampleRecord, RecordsOptions } from './handles/sampler'
export { PerfEventError, type PerfErrorCode } from './errors/errors'
export {
  resolveEvent as parseEvent,
  knownEventNames,
  isClockEvent,
  unitOf,
  type CountUnit,
  type EventInput,
  type KnownEventName,
  type EventSpec,
  type HardwareEventName,
  type SoftwareEventName,
  type CacheName,
  type CacheOp,
  type CacheResult,
  type U64,
  type ResolvedEvent,
} from './events/events'
export type {
  CounterOptions,
  MemberOptions,
  CommonOptions,
  Target,
  Exclude,
  StatFormat,
  SampleOn,
  SampleFormat,
  CallChainOptions,
  LbrOptions,
  ExtraRecord,
  RecordIdFormat,
  WakeUp,
} from './events/options'
export type { Stat, GroupStat, MemberStat } from './handles/stat'
/** Fixed value sets of record fields (string enums of the native layer). */
export type { BranchType, BranchSpec, BranchPriv, MemLevel2, MemHop, MemRegion, KsymbolType, KsymbolState, BpfEventType, CallChainContext } from '../index'

/**
 * The address of the first byte of a Buffer or typed array, for breakpoint events on JS memory
 * (`new Counter({ type: 'breakpoint', access: 'w', addr: addressOf(buf), len: 8 })`).
 * Keep a reference to the memory while it is watched.
 */
export function addressOf(view: ArrayBufferView): bigint {
  if (!ArrayBuffer.isView(view)) throw typeError('a Buffer or typed array', 'view', view)
  if (view.byteLength === 0) throw new RangeError('Expected a non-empty Buffer or typed array for view but received an empty one')
  return binding().addressOf(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
}
export { currentTid, threadIds, threadName } from './system/threads'

// Loaded on first use: counting needs none of these (profiles, off-CPU profiles, the event list, the
// doctor, whole-process counters), and loading them costs more than the rest of the package. Each is
// a getter of `exports` in the form Node's CommonJS lexer reads, so `import { profile } from
// 'perf-event-open'` works from ESM too; the module loads when the name is first read.
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, on purpose */
const onDemand = {
  get profiling(): typeof Profiling {
    return require('./profile') as typeof Profiling
  },
  get offCpu(): typeof OffCpu {
    return require('./profile/offcpu') as typeof OffCpu
  },
  get listing(): typeof Listing {
    return require('./discovery/list') as typeof Listing
  },
  get doctor(): typeof Doctor {
    return require('./discovery/doctor') as typeof Doctor
  },
  get sampling(): typeof Sampling {
    return require('./handles/sampler') as typeof Sampling
  },
  get processes(): typeof Processes {
    return require('./handles/process') as typeof Processes
  },
}
/* eslint-enable @typescript-eslint/no-require-imports */
const loaded = {
  get profile() { return onDemand.profiling.profile },
  get profileCommand() { return onDemand.profiling.profileCommand },
  get Profiler() { return onDemand.profiling.Profiler },
  get Profile() { return onDemand.profiling.Profile },
  get perfMapEnabled() { return onDemand.profiling.perfMapEnabled },
  get OffCpuProfiler() { return onDemand.offCpu.OffCpuProfiler },
  get OffCpuProfile() { return onDemand.offCpu.OffCpuProfile },
  get profileWall() { return onDemand.offCpu.profileWall },
  get listEvents() { return onDemand.listing.listEvents },
  get doctor() { return onDemand.doctor.doctor },
  get formatDoctor() { return onDemand.doctor.formatDoctor },
  get ProcessCounter() { return onDemand.processes.ProcessCounter },
  get Sampler() { return onDemand.sampling.Sampler },
  get SampleBatch() { return onDemand.sampling.SampleBatch },
}
// `get: function () { return loaded.x }` is the form Node's CommonJS lexer reads as a named export.
Object.defineProperty(exports, 'profile', { enumerable: true, get: function () { return loaded.profile } })
Object.defineProperty(exports, 'profileCommand', { enumerable: true, get: function () { return loaded.profileCommand } })
Object.defineProperty(exports, 'Profiler', { enumerable: true, get: function () { return loaded.Profiler } })
Object.defineProperty(exports, 'Profile', { enumerable: true, get: function () { return loaded.Profile } })
Object.defineProperty(exports, 'perfMapEnabled', { enumerable: true, get: function () { return loaded.perfMapEnabled } })
Object.defineProperty(exports, 'OffCpuProfiler', { enumerable: true, get: function () { return loaded.OffCpuProfiler } })
Object.defineProperty(exports, 'OffCpuProfile', { enumerable: true, get: function () { return loaded.OffCpuProfile } })
Object.defineProperty(exports, 'profileWall', { enumerable: true, get: function () { return loaded.profileWall } })
Object.defineProperty(exports, 'listEvents', { enumerable: true, get: function () { return loaded.listEvents } })
Object.defineProperty(exports, 'doctor', { enumerable: true, get: function () { return loaded.doctor } })
Object.defineProperty(exports, 'formatDoctor', { enumerable: true, get: function () { return loaded.formatDoctor } })
Object.defineProperty(exports, 'ProcessCounter', { enumerable: true, get: function () { return loaded.ProcessCounter } })
Object.defineProperty(exports, 'Sampler', { enumerable: true, get: function () { return loaded.Sampler } })
Object.defineProperty(exports, 'SampleBatch', { enumerable: true, get: function () { return loaded.SampleBatch } })

export declare const profile: typeof Profiling.profile
export declare const profileCommand: typeof Profiling.profileCommand
export declare const Profiler: typeof Profiling.Profiler
export type Profiler = Profiling.Profiler
export declare const Profile: typeof Profiling.Profile
export type Profile = Profiling.Profile
export declare const perfMapEnabled: typeof Profiling.perfMapEnabled
export type { ProfileOptions, CpuProfileOptions, WaitProfileOptions, CommandOptions, Frame, FrameKind, ProfileThread, LostSamples, TopRow, TopResult, ProfileMeta, CpuProfile, FoldedOptions } from './profile'
export declare const OffCpuProfiler: typeof OffCpu.OffCpuProfiler
export type OffCpuProfiler = OffCpu.OffCpuProfiler
export declare const OffCpuProfile: typeof OffCpu.OffCpuProfile
export type OffCpuProfile = OffCpu.OffCpuProfile
export declare const profileWall: typeof OffCpu.profileWall
export type { OffCpuOptions, OffCpuMeta, OffCpuThread, OffCpuInterval, OffCpuSummary, OffCpuState } from './profile/offcpu'
export declare const listEvents: typeof Listing.listEvents
export type { EventInfo, EventKind, ListOptions } from './discovery/list'
export declare const doctor: typeof Doctor.doctor
export declare const formatDoctor: typeof Doctor.formatDoctor
export type { DoctorCheck, DoctorReport } from './discovery/doctor'
export declare const ProcessCounter: typeof Processes.ProcessCounter
export type ProcessCounter = Processes.ProcessCounter
export declare const Sampler: typeof Sampling.Sampler
export type Sampler = Sampling.Sampler
export declare const SampleBatch: typeof Sampling.SampleBatch
export type SampleBatch = Sampling.SampleBatch
export type { ProcessCounterOptions, ProcessStat, ProcessEventStat, ThreadStat } from './handles/process'
