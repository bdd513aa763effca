/// <reference types="node" preserve="true" />
/**
 * perf-event-open: the Linux perf_event_open(2) interface for Node.js and Electron.
 * @packageDocumentation
 */
import { binding } from './loading/binding'
export { buildInfo, type BuildInfo } from './loading/binding'
import { typeError } from './errors/errors'

export { Counter } from './handles/counter'
export { CounterGroup, type GroupMember } from './handles/group'
export { Sampler, SampleBatch, type PerfRecord, type RecordOf, type RecordPriv, type SampleRecord, type RecordsOptions } from './handles/sampler'
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
export { ProcessCounter, type ProcessCounterOptions, type ProcessStat, type ProcessEventStat, type ThreadStat } from './handles/process'
export { currentTid, threadIds, threadName } from './system/threads'
export { listEvents, type EventInfo, type EventKind, type ListOptions } from './discovery/list'
export { doctor, formatDoctor, type DoctorCheck, type DoctorReport } from './discovery/doctor'
export { profile, profileCommand, Profiler, Profile, perfMapEnabled, type ProfileOptions, type CommandOptions, type Frame, type FrameKind, type ProfileThread, type LostSamples, type TopRow, type TopResult, type ProfileMeta, type CpuProfile, type FoldedOptions } from './profile'
export { OffCpuProfiler, OffCpuProfile, profileWall, type OffCpuOptions, type OffCpuMeta, type OffCpuThread, type OffCpuInterval, type OffCpuSummary, type OffCpuState } from './profile/offcpu'
