import { release } from 'node:os'
import { binding, buildInfo } from '../loading/binding'
import { Counter } from '../handles/counter'
import { PerfEventError, typeError } from '../errors/errors'
import { exists, listDir, readText as read } from '../system/files'
import { PMU_ROOT, TRACEFS_ROOTS, corePmus, hasHardwarePmu, paranoidLevel, perfSysctl, pmuType, tracefsMounts } from '../system/kernel'
import { CAP, euid, hasCapability as hasCap, statusField } from '../system/privilege'
import { softLimit } from '../system/limits'
import { SYMBOLIZER_PACKAGE, symbolizer, symbolizerSource } from '../profile/symbolizer'
import { versionLess } from '../events/since'

/** One finding of `doctor()`. */
export interface DoctorCheck {
  /** Stable key: `kernel`, `variant`, `syscall`, `paranoid`, `capabilities`, `hardwarePmu`, `tracefs`, `tracepoints`, `kprobe`, `uprobe`, `mlock`, `sampleRate`, `environment`, `symbolizer`. */
  id: string
  /** `ok`: works; `warn`: works partly or with limits; `fail`: does not work here; `info`: a fact. */
  status: 'ok' | 'warn' | 'fail' | 'info'
  /** What was found, e.g. `2` or `6.18.44 (x86_64)`. */
  value: string
  /** What it means for this package. */
  detail: string
  /** The exact change that fixes or lifts it, when there is one. */
  fix?: string
}

/** What `doctor()` found. */
export interface DoctorReport {
  /** Effective uid of this process. */
  uid: number
  checks: DoctorCheck[]
}

function tryOpen(event: string): { ok: boolean; code?: string; hint?: string } {
  try {
    new Counter(event).close()
    return { ok: true }
  } catch (e) {
    if (e instanceof PerfEventError) return { ok: false, code: e.code, hint: e.hint ?? e.message }
    return { ok: false, code: 'ERR', hint: String(e) }
  }
}

const PARANOID_ALLOWS: Record<string, string> = {
  '-1': 'everything for everyone: CPU-wide counting, kernel counting, raw tracepoint data',
  '0': 'CPU-wide and kernel counting for everyone; raw tracepoint data needs privilege',
  '1': 'your own processes, user and kernel space; CPU-wide counting needs privilege',
  '2': 'your own processes, user space only (events left to the default privilege levels count user space only, labelled ":u"; context-switches and cpu-migrations are refused); kernel counting and CPU-wide counting need privilege',
  '3': 'nothing without privilege (Debian/Ubuntu/Android restriction)',
  '4': 'nothing without privilege',
}

function environment(): { value: string; detail: string } {
  const found: string[] = []
  if (exists('/.dockerenv')) found.push('docker (/.dockerenv)')
  if (exists('/run/.containerenv')) found.push('podman (/run/.containerenv)')
  const container = read('/proc/1/environ')?.split('\0').find((v) => v.startsWith('container='))
  if (container) found.push(container)
  if (/(^|\s)hypervisor(\s|$)/m.test(read('/proc/cpuinfo') ?? '')) found.push('virtual machine (cpuinfo: hypervisor)')
  const vendor = read('/sys/class/dmi/id/sys_vendor')
  if (vendor && /qemu|kvm|vmware|virtualbox|xen|microsoft|amazon|google/i.test(vendor)) found.push(`VM vendor ${vendor}`)
  // arm64 and other device-tree machines have no DMI: QEMU's `virt` board says so in its compatible string.
  const compatible = read('/sys/firmware/devicetree/base/compatible')?.split('\0').filter(Boolean)
  if (compatible?.includes('linux,dummy-virt')) found.push('QEMU virt machine (device tree: linux,dummy-virt)')
  const wsl = /microsoft/i.test(release())
  if (wsl) found.push('WSL2')
  const value = found.length ? found.join(', ') : 'bare metal or undetected'
  const detail = found.length
    ? 'Containers: the default seccomp profile of Docker/Podman blocks perf_event_open unless CAP_PERFMON/CAP_SYS_ADMIN is granted; kernel.perf_event_paranoid is the host\'s. VMs: hardware events need a virtual PMU.'
    : 'No container or VM markers found.'
  return { value, detail }
}

/** Generic hardware events (PERF_TYPE_HARDWARE): a PMU implements some of them; arm64 cores and VMs' virtual PMUs often lack several. */
const GENERIC_HARDWARE = ['cycles', 'instructions', 'cache-references', 'cache-misses', 'branches', 'branch-misses', 'bus-cycles', 'stalled-cycles-frontend', 'stalled-cycles-backend', 'ref-cycles']

/** The hardwarePmu check where `instructions:u` opens: the core PMU's name and the generic events it does not implement. */
function hardwarePmuPresent(): DoctorCheck {
  const pmus = corePmus()
  const missing = GENERIC_HARDWARE.filter((e) => {
    const r = tryOpen(`${e}:u`)
    return !r.ok && (r.code === 'ENOENT' || r.code === 'EOPNOTSUPP' || r.code === 'EINVAL')
  })
  return {
    id: 'hardwarePmu',
    status: 'ok',
    value: `present${pmus.length ? ` (${pmus.join(', ')})` : ''}`,
    detail: missing.length
      ? `Hardware events open. This PMU does not implement ${missing.length} of the ${GENERIC_HARDWARE.length} generic hardware events: ${missing.join(', ')} (they fail with ENOENT; raw events of the CPU manual may measure the same).`
      : `Hardware events open; all ${GENERIC_HARDWARE.length} generic hardware events (${GENERIC_HARDWARE.join(', ')}) are implemented.`,
  }
}

/**
 * Answers "what works on this machine, and why not": kernel, loaded build, perf_event_paranoid and
 * what it allows, capabilities, hardware PMU, tracefs, probe PMUs, mmap limits, sample rate, and
 * container/VM/emulation — each with the exact fix. Opens (and closes) a few counters to check.
 */
export function doctor(): DoctorReport {
  const checks: DoctorCheck[] = []
  const uid = euid()
  const root = uid === 0
  const kernel = release()

  checks.push({ id: 'kernel', status: 'info', value: `${kernel} (${process.arch})`, detail: `Linux ${kernel}; Node ${process.version}.` })

  const info = buildInfo()
  const built = binding().buildLinux()
  const newer = versionLess(kernel, built)
    ? ` The build knows options newer than this kernel: those the kernel lacks fail with EINVAL/E2BIG (the error names the option).`
    : ` Options added after Linux ${built} need a newer variant (ERR_UNSUPPORTED_BY_BUILD says which).`
  checks.push({ id: 'variant', status: 'info', value: `${info.variant} (perf ABI of Linux ${built})`, detail: `Loaded ${info.path}.${newer}` })

  // Can this process call perf_event_open at all?
  const sw = tryOpen('task-clock:u')
  const seccomp = statusField('Seccomp')
  if (sw.ok) checks.push({ id: 'syscall', status: 'ok', value: 'perf_event_open works', detail: 'Software events of this process open (task-clock:u).' })
  else if (sw.code === 'ENOSYS')
    checks.push({
      id: 'syscall',
      status: 'fail',
      value: 'ENOSYS',
      detail: 'perf_event_open is not implemented here: qemu-user emulation (it has no perf_event_open), a kernel without CONFIG_PERF_EVENTS, or a seccomp filter returning ENOSYS.',
      fix: 'Run natively (not under qemu-user) on a kernel with CONFIG_PERF_EVENTS=y; in a container allow the syscall (docker run --cap-add PERFMON, or --security-opt seccomp=<profile allowing perf_event_open>).',
    })
  else
    checks.push({
      id: 'syscall',
      status: 'fail',
      value: sw.code ?? 'error',
      detail: `task-clock:u did not open: ${sw.hint}${seccomp && seccomp !== '0' ? ` (a seccomp filter is active: Seccomp ${seccomp})` : ''}`,
      fix: 'sudo sysctl kernel.perf_event_paranoid=2 (or lower); in a container: docker run --cap-add PERFMON (or a seccomp profile allowing perf_event_open).',
    })

  const paranoid = paranoidLevel()?.toString()
  const perfmon = hasCap(CAP.PERFMON)
  const sysAdmin = hasCap(CAP.SYS_ADMIN)
  const privileged = perfmon || sysAdmin
  if (paranoid === undefined)
    checks.push({ id: 'paranoid', status: 'fail', value: 'missing', detail: '/proc/sys/kernel/perf_event_paranoid is missing: the kernel has no perf events.', fix: 'Use a kernel built with CONFIG_PERF_EVENTS=y.' })
  else {
    const restricted = !privileged && Number(paranoid) >= 2
    checks.push({
      id: 'paranoid',
      status: restricted ? (Number(paranoid) >= 3 ? 'fail' : 'warn') : 'ok',
      value: paranoid,
      detail: privileged
        ? `kernel.perf_event_paranoid is ${paranoid}, but this process has ${perfmon ? 'CAP_PERFMON' : 'CAP_SYS_ADMIN'}: every event, CPU-wide counting and tracepoints are allowed.`
        : `kernel.perf_event_paranoid is ${paranoid}: unprivileged processes may count ${PARANOID_ALLOWS[paranoid] ?? 'what a custom level allows'}.`,
      fix: restricted
        ? 'sudo sysctl kernel.perf_event_paranoid=1 (kernel counting of own processes; =-1 for everything; persist in /etc/sysctl.d/99-perf.conf), or sudo setcap cap_perfmon+ep "$(command -v node)" (Linux 5.8+), or run as root.'
        : undefined,
    })
  }

  checks.push({
    id: 'capabilities',
    status: 'info',
    value: [`uid ${uid}`, `CAP_PERFMON ${perfmon ? 'yes' : 'no'}`, `CAP_SYS_ADMIN ${sysAdmin ? 'yes' : 'no'}`, `CAP_IPC_LOCK ${hasCap(CAP.IPC_LOCK) ? 'yes' : 'no'}`].join(', '),
    detail: privileged
      ? 'Privileged for perf: tracepoints, probes, kernel and CPU-wide counting are allowed whatever perf_event_paranoid says.'
      : 'Not privileged for perf: kernel.perf_event_paranoid decides; tracepoints and probes need CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN.',
    fix: privileged ? undefined : 'sudo setcap cap_perfmon+ep "$(command -v node)" (Linux 5.8+; cap_sys_admin on older kernels), or run as root.',
  })

  const hw = tryOpen('instructions:u')
  checks.push(
    hw.ok
      ? hardwarePmuPresent()
      : {
          id: 'hardwarePmu',
          status: 'warn',
          value: hasHardwarePmu() ? `present but refused (${hw.code})` : 'absent',
          detail: `instructions:u did not open: ${hw.hint} Software events still work.`,
          fix: hasHardwarePmu()
            ? 'See the error above (permission or a PMU in use by another tool, e.g. the NMI watchdog: sudo sysctl kernel.nmi_watchdog=0).'
            : 'In a VM, expose the PMU: KVM/QEMU -cpu host (libvirt <cpu mode="host-passthrough"/>), VMware "Virtualize CPU performance counters", or a cloud instance type with PMU access (e.g. AWS metal/full-socket, GCP with PMU enabled).',
        },
  )

  // /proc/mounts tells where tracefs is even when this user cannot enter it (mode 0700).
  const mounts = tracefsMounts()
  const tracefsRoot = TRACEFS_ROOTS.find((r) => exists(`${r}/events`) || mounts.includes(r)) ?? mounts[0]
  const tracefsReadable = tracefsRoot !== undefined && listDir(`${tracefsRoot}/events`).length > 0 && read(`${tracefsRoot}/events/syscalls/sys_enter_write/id`) !== undefined
  checks.push(
    !tracefsRoot
      ? {
          id: 'tracefs',
          status: 'fail',
          value: 'not mounted',
          detail: `No tracefs at ${TRACEFS_ROOTS.join(' or ')}: tracepoint names (subsystem:name) cannot be resolved.`,
          fix: 'sudo mount -t tracefs nodev /sys/kernel/tracing (persist: add "tracefs /sys/kernel/tracing tracefs defaults 0 0" to /etc/fstab).',
        }
      : tracefsReadable
        ? { id: 'tracefs', status: 'ok', value: tracefsRoot, detail: `tracefs is mounted at ${tracefsRoot} and its event ids are readable.` }
        : {
            id: 'tracefs',
            status: 'fail',
            value: `${tracefsRoot} (not readable)`,
            detail: `tracefs is mounted at ${tracefsRoot} but this user cannot read event ids (root-only, mode 0700, by default): tracepoint names cannot be resolved.`,
            fix: `sudo mount -o remount,mode=755 ${tracefsRoot} (ids readable by all; opening a tracepoint still needs CAP_PERFMON or perf_event_paranoid -1), or run as root.`,
          },
  )

  if (!tracefsReadable)
    checks.push({
      id: 'tracepoints',
      status: 'fail',
      value: 'unresolvable',
      detail: 'Tracepoint names need a readable tracefs (see tracefs); opening one also needs CAP_PERFMON, CAP_SYS_ADMIN or perf_event_paranoid -1.',
      fix: privileged ? 'Make tracefs available (see tracefs).' : 'Run as root, or sudo setcap cap_perfmon+ep "$(command -v node)" with a readable tracefs.',
    })
  else {
    const tp = tryOpen('syscalls:sys_enter_write')
    checks.push(
      tp.ok
        ? { id: 'tracepoints', status: 'ok', value: 'open', detail: 'Tracepoints open (syscalls:sys_enter_write).' }
        : {
            id: 'tracepoints',
            status: 'fail',
            value: tp.code ?? 'error',
            detail: `syscalls:sys_enter_write did not open: ${tp.hint}`,
            fix: 'sudo setcap cap_perfmon+ep "$(command -v node)" (Linux 5.8+), or sudo sysctl kernel.perf_event_paranoid=-1, or run as root.',
          },
    )
  }

  for (const [id, pmu, since] of [
    ['kprobe', 'kprobe', '4.17'],
    ['uprobe', 'uprobe', '4.17'],
  ] as const) {
    const present = pmuType(pmu) !== undefined
    checks.push(
      present
        ? { id, status: privileged ? 'ok' : 'warn', value: 'present', detail: `The ${pmu} PMU exists${privileged ? '' : '; probes need CAP_PERFMON or root'}.`, fix: privileged ? undefined : 'sudo setcap cap_perfmon+ep "$(command -v node)", or run as root.' }
        : {
            id,
            status: 'warn',
            value: 'absent',
            detail: `No ${PMU_ROOT}/${pmu}: ${id} events cannot be opened (the PMU exists since Linux ${since} with CONFIG_${id.toUpperCase()}_EVENTS).`,
            fix: `Use a kernel built with CONFIG_${id === 'kprobe' ? 'KPROBES=y and CONFIG_KPROBE_EVENTS' : 'UPROBES=y and CONFIG_UPROBE_EVENTS'}=y (Linux ${since}+).`,
          },
    )
  }

  const mlockKb = Number(perfSysctl('perf_event_mlock_kb') ?? NaN)
  const memlock = softLimit('Max locked memory')
  const unlimited = root || hasCap(CAP.IPC_LOCK)
  // Each sampler maps 2^exp data pages plus one; per user, up to perf_event_mlock_kb (+ RLIMIT_MEMLOCK beyond it).
  const pages = Math.floor(((Number.isFinite(mlockKb) ? mlockKb : 516) * 1024) / 4096) - 1
  const maxExp = pages >= 1 ? Math.floor(Math.log2(pages)) : 0
  checks.push({
    id: 'mlock',
    status: 'info',
    value: `perf_event_mlock_kb ${Number.isFinite(mlockKb) ? mlockKb : '?'} KiB, RLIMIT_MEMLOCK ${memlock === undefined ? '?' : memlock === Infinity ? 'unlimited' : `${memlock / 1024} KiB`}`,
    detail: unlimited
      ? 'This process has CAP_IPC_LOCK (or is root): ring buffers are not limited by these.'
      : `Sampler rings count against perf_event_mlock_kb per user, then RLIMIT_MEMLOCK: the largest single ring here is sampler(${maxExp}) (2^${maxExp} data pages).`,
    fix: unlimited ? undefined : 'sudo sysctl kernel.perf_event_mlock_kb=2064 (room for sampler(9)), or raise ulimit -l (/etc/security/limits.conf: "* - memlock <KiB>").',
  })

  const rate = perfSysctl('perf_event_max_sample_rate')
  const pct = perfSysctl('perf_cpu_time_max_percent')
  checks.push({
    id: 'sampleRate',
    status: 'info',
    value: `${rate ?? '?'} Hz`,
    detail: `sampleOn: { freq } above kernel.perf_event_max_sample_rate (${rate ?? '?'} Hz) is refused with EINVAL; the kernel lowers it on its own when sampling takes more than perf_cpu_time_max_percent (${pct ?? '?'} %) of CPU time.`,
    fix: `sudo sysctl kernel.perf_event_max_sample_rate=<Hz> (root); ask for a lower freq otherwise.`,
  })

  const env = environment()
  checks.push({ id: 'environment', status: 'info', value: env.value, detail: env.detail })
  checks.push(symbolizerCheck())
  return { uid, checks }
}

/** Whether profiles can be symbolized here: the addon `profile()`, `Profiler` and `record` load after sampling. */
function symbolizerCheck(): DoctorCheck {
  try {
    symbolizer()
    return { id: 'symbolizer', status: 'ok', value: 'loads', detail: `Profiles are symbolized (loaded from ${symbolizerSource() ?? SYMBOLIZER_PACKAGE}).` }
  } catch (e) {
    const err = e as PerfEventError
    return {
      id: 'symbolizer',
      status: 'warn',
      value: 'missing',
      detail: `${err.message.split('\n')[0]} Counting and sampling work; profile(), Profiler and record fail with ERR_SYMBOLIZER_MISSING.`,
      fix: err.hint,
    }
  }
}

const MARK: Record<DoctorCheck['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', info: 'info' }

/** `doctor()` as text, one block per check, with the fix indented under it. */
export function formatDoctor(report: DoctorReport): string {
  if (report === null || typeof report !== 'object' || !Array.isArray(report.checks)) throw typeError('a report from doctor() (an object with checks[])', 'report', report)
  const lines: string[] = []
  for (const c of report.checks) {
    lines.push(`[${MARK[c.status]}] ${c.id}: ${c.value}`)
    lines.push(`       ${c.detail}`)
    if (c.fix) lines.push(`       fix: ${c.fix}`)
  }
  return lines.join('\n')
}
