export { Profile, type Frame, type FrameKind, type ProfileThread, type LostSamples, type TopRow, type TopResult, type ProfileMeta } from './model'
export { Profiler, profile, perfMapEnabled, type ProfileOptions } from './profiler'
export { type CpuProfile, type FoldedOptions } from './export'
export { profileCommand, type CommandOptions } from './command'
