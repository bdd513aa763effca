export { OffCpuProfiler, OffCpuProfile, profileWall, type OffCpuMeta, type OffCpuThread, type OffCpuInterval, type OffCpuSummary, type OffCpuState } from './session'
export { type OffCpuOptions } from './options'
