/**
 * The running kernel's perf settings and devices: sysctls under /proc/sys/kernel, the PMUs under
 * sysfs, tracefs, perf_event cgroup mounts and the CPUs online. Each read goes through ./files
 * (one answer for Deno's refusal).
 */
import { cpus } from 'node:os'
import { exists, listDir, readText } from './files'
import { PMU_ROOT, TRACEFS_ROOTS } from './paths'

export { PMU_ROOT, TRACEFS_ROOTS }
/** The core PMU directories of machines with a hardware PMU (x86 hybrid and arm64 names included). */
const HARDWARE_PMUS = ['cpu', 'cpu_core', 'cpu_atom', 'armv8_pmuv3', 'armv8_pmuv3_0', 'armv8_cortex_a53', 'armv8_cortex_a72']

/** A perf sysctl's text (`/proc/sys/kernel/<name>`), e.g. `perf_event_paranoid`; `undefined` when missing. */
export function perfSysctl(name: 'perf_event_paranoid' | 'perf_event_mlock_kb' | 'perf_event_max_sample_rate' | 'perf_cpu_time_max_percent' | 'perf_event_max_stack'): string | undefined {
  return readText(`/proc/sys/kernel/${name}`)
}

/** `kernel.perf_event_paranoid` as a number; `undefined` when it cannot be read (no CONFIG_PERF_EVENTS, no /proc). */
export function paranoidLevel(): number | undefined {
  const raw = perfSysctl('perf_event_paranoid')
  return raw === undefined || raw === '' || Number.isNaN(Number(raw)) ? undefined : Number(raw)
}

/** A dynamic PMU's type number (`<PMU_ROOT>/<pmu>/type`), or `undefined` when there is no such PMU. */
export function pmuType(pmu: string): string | undefined {
  return readText(`${PMU_ROOT}/${pmu}/type`)
}

/** The PMUs the kernel lists (`msr`, `kprobe`, `cpu`…). */
export function pmuNames(): string[] {
  return listDir(PMU_ROOT)
}

/** Whether the kernel lists a core (hardware) PMU. */
export function hasHardwarePmu(): boolean {
  return HARDWARE_PMUS.some((d) => exists(`${PMU_ROOT}/${d}`))
}

/** The core PMUs present (`cpu`, `cpu_core`, `armv8_pmuv3_0`…). */
export function corePmus(): string[] {
  return pmuNames().filter((d) => d === 'cpu' || d.startsWith('cpu_') || d.startsWith('armv8') || d.startsWith('armv7'))
}

/** Where tracefs is mounted according to /proc/mounts (known even when this user cannot enter it). */
export function tracefsMounts(): string[] {
  return (readText('/proc/mounts') ?? '')
    .split('\n')
    .filter((l) => l.split(' ')[2] === 'tracefs')
    .map((l) => l.split(' ')[1])
}

/** The tracefs root whose `events/` this process sees, or `undefined`. */
export function tracefsRoot(): string | undefined {
  return TRACEFS_ROOTS.find((r) => exists(`${r}/events`))
}

/** Mount points of hierarchies perf can count: cgroup2, or cgroup v1 with the perf_event controller. */
export function perfCgroupMounts(): string[] {
  const out: string[] = []
  for (const line of (readText('/proc/self/mountinfo') ?? '').split('\n')) {
    const [left, right = ''] = line.split(' - ')
    const [fstype, , superOpts = ''] = right.split(' ')
    const mountPoint = left.split(' ')[4]
    if (fstype === 'cgroup2' || (fstype === 'cgroup' && superOpts.split(',').includes('perf_event'))) out.push(mountPoint)
  }
  return out
}

/** CPUs online now (`/sys/devices/system/cpu/online`, e.g. `0-3,6`); all of `os.cpus()` when it cannot be read. */
export function onlineCpus(): number[] {
  const text = readText('/sys/devices/system/cpu/online')
  if (!text) return [...Array(cpus().length).keys()]
  const out: number[] = []
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number)
    for (let c = a; c <= (b ?? a); c++) out.push(c)
  }
  return out
}
