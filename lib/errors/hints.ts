/**
 * The hint texts: what to do about a failure. Each hint names the cause that
 * was found (probed on this machine where that is possible) and the fix.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { release } from 'node:os'
import type { ErrorContext } from './context'

export const PMU_ROOT = '/sys/bus/event_source/devices'

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** The hardware PMU directories that exist on machines with one. */
export function hasHardwarePmu(): boolean {
  return ['cpu', 'cpu_core', 'cpu_atom', 'armv8_pmuv3', 'armv8_pmuv3_0', 'armv8_cortex_a53', 'armv8_cortex_a72'].some((d) => existsSync(`${PMU_ROOT}/${d}`))
}

/** Why (lib/handles/userspace.ts refuses such counts) a user-space-only count of a kernel-only event means nothing, and what to do instead. */
export function kernelOnlyReason(label: string, withFix = true): string {
  const fix = withFix ? ' (sudo sysctl kernel.perf_event_paranoid=1, or sudo setcap cap_perfmon+ep "$(command -v node)")' : ''
  return `${label} fires only in kernel mode (the kernel switches and migrates tasks): counted for user space only it is always 0, so it is not opened that way. Count it with the kernel included: that needs kernel.perf_event_paranoid <= 1, CAP_PERFMON (Linux 5.8+) or root${fix}.`
}

const PARANOID: Record<string, string> = {
  '-1': 'no restrictions',
  '0': 'CPU-wide counting allowed; raw tracepoint access needs privilege',
  '1': 'user and kernel counting of your own processes only',
  '2': 'user-space counting of your own processes only',
}

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : -1)


/** The owner uid of a process, or undefined. */
function ownerOf(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid
  } catch {
    return undefined
  }
}

const FIXES =
  'Options: lower it (sudo sysctl kernel.perf_event_paranoid=N), grant CAP_PERFMON to node (sudo setcap cap_perfmon+ep "$(command -v node)"), or run as root. In a container, the default seccomp profile blocks perf_event_open: use --cap-add PERFMON or a custom seccomp profile.'

function permissionHint(ctx: ErrorContext): string {
  const raw = readProc('/proc/sys/kernel/perf_event_paranoid')
  const level = raw === undefined ? undefined : Number(raw)
  const parts: string[] = []
  // Another user's process: the kernel checks ptrace access (PTRACE_MODE_READ_REALCREDS) whatever paranoid says.
  const me = uid()
  if (ctx.pid !== undefined && me > 0) {
    const owner = ownerOf(ctx.pid)
    if (owner !== undefined && owner !== me)
      return `pid ${ctx.pid} belongs to another user (uid ${owner}): counting a process needs ptrace access to it (PTRACE_MODE_READ_REALCREDS), whatever kernel.perf_event_paranoid says. Run as that user or as root, or grant CAP_PERFMON (Linux 5.8+) or CAP_SYS_PTRACE; kernel.yama.ptrace_scope may restrict it further.`
  }
  if (level === undefined) parts.push('kernel.perf_event_paranoid could not be read.')
  else if (level >= 3) {
    const works = ctx.userCountingWorks?.()
    parts.push(
      works === false
        ? `kernel.perf_event_paranoid is ${level}: this kernel blocks unprivileged perf_event_open entirely (a Debian/Ubuntu/Android patch; probed: a user-space-only task-clock counter was refused).`
        : works === true
          ? `kernel.perf_event_paranoid is ${level}: this kernel treats it like 2 (probed: user-space-only counting of your own threads works), so exclude the kernel (add ":u" or exclude: { kernel: true }) and count your own threads only.`
          : `kernel.perf_event_paranoid is ${level}: unprivileged perf_event_open may be blocked entirely (Debian/Ubuntu/Android) or treated like 2 (mainline).`,
    )
  } else parts.push(`kernel.perf_event_paranoid is ${level}: ${PARANOID[String(level)] ?? 'a custom level'}.`)
  if (ctx.eventType === 'tracepoint' || ctx.eventType === 'kprobe' || ctx.eventType === 'uprobe')
    parts.push('Tracepoints and probes need root or CAP_PERFMON (Linux 5.8+) / CAP_SYS_ADMIN, and read access to tracefs.')
  else if (ctx.cpuWide)
    parts.push(`Counting a whole CPU (pid 'all') needs kernel.perf_event_paranoid <= 0 or CAP_PERFMON (Linux 5.8+) / CAP_SYS_ADMIN${level !== undefined && level > 0 ? ` (it is ${level})` : ''}; ":u" does not help. Without privilege, count your own threads: { pid: 0 }.`)
  else if (ctx.kernelOnly) parts.push(kernelOnlyReason(ctx.what, false))
  else if (level !== undefined && level >= 2 && level < 3 && !ctx.excludeKernel)
    parts.push(
      ctx.eventType === 'dynamic'
        ? 'At this level counting the kernel needs privilege, and PMU events often cannot exclude it (the msr PMU rejects ":u" with EINVAL): lower the level to 1 or grant CAP_PERFMON.'
        : 'At this level counting the kernel needs privilege: add ":u" to the event or pass exclude: { kernel: true } (events left to the default privilege levels do that on their own).',
    )
  parts.push(FIXES.replace('=N', `=${ctx.cpuWide ? 0 : 1}`))
  return parts.join(' ')
}

function mmapHint(): string {
  const kb = readProc('/proc/sys/kernel/perf_event_mlock_kb')
  return `The ring buffer could not be mapped: each sampler locks (2^exp + 1) pages, limited by kernel.perf_event_mlock_kb${kb ? ` (${kb} KiB per user)` : ''} and RLIMIT_MEMLOCK (ulimit -l). Use a smaller exp, close other samplers, or raise the limits (sudo sysctl kernel.perf_event_mlock_kb=…, or CAP_IPC_LOCK).`
}

/** Mount points of hierarchies perf can count: cgroup2, or cgroup v1 with the perf_event controller. */
function perfCgroupMounts(): string[] {
  const info = readProc('/proc/self/mountinfo') ?? ''
  const out: string[] = []
  for (const line of info.split('\n')) {
    const [left, right = ''] = line.split(' - ')
    const [fstype, , superOpts = ''] = right.split(' ')
    const mountPoint = left.split(' ')[4]
    if (fstype === 'cgroup2' || (fstype === 'cgroup' && superOpts.split(',').includes('perf_event'))) out.push(mountPoint)
  }
  return out
}

function cgroupHint(cgroup: string): string {
  const mounts = perfCgroupMounts()
  return `target.cgroup (${cgroup}) is not a directory of a perf_event cgroup hierarchy: use a directory under a cgroup v2 mount or under the cgroup v1 perf_event controller, not another v1 controller such as cpu. ${mounts.length ? `Here: ${mounts.join(', ')}.` : 'None is mounted here: as root, mount -t cgroup2 none /sys/fs/cgroup (or mount -t cgroup -o perf_event none /sys/fs/cgroup/perf_event).'}`
}

/** The hint for a failure with `code` (an errno name or ERR_* code) of a call described by `ctx`. */
/** EINVAL/E2BIG from options the running kernel is too old for: names each with the Linux version it needs. */
function optionTooNew(ctx: ErrorContext): string | undefined {
  const newer = ctx.tooNewForKernel?.()
  return newer && `The kernel rejected an option it does not know: ${newer} Leave the option out on this kernel, or upgrade the kernel.`
}

export function hintFor(code: string, ctx: ErrorContext, syscall = ''): string | undefined {
  if (syscall === 'mmap' && (code === 'EPERM' || code === 'ENOMEM' || code === 'EACCES')) return mmapHint()
  if (syscall === 'mmap' && code === 'EINVAL' && ctx.inheritAllCpus)
    return 'The kernel does not map inherited counters that follow a task on every CPU (all children would write into one ring). Open one counter per CPU ({ pid, cpu: N }, with the same inherit option) and sample each.'
  if (ctx.operation === 'setFilter' && (code === 'EINVAL' || code === 'ENOENT' || code === 'EPERM'))
    return ctx.eventType !== 'tracepoint'
      ? `setFilter works on tracepoint counters only (this one is a ${ctx.eventType ?? 'non-tracepoint'} event).`
      : 'The kernel rejected the filter: use the fields of the tracepoint (listed in /sys/kernel/tracing/events/<subsystem>/<name>/format) with ftrace filter syntax, e.g. \'common_pid != 0 && bytes > 100\'.'
  if (ctx.cgroup !== undefined && (code === 'EBADF' || code === 'ENOENT' || code === 'EINVAL')) return cgroupHint(ctx.cgroup)
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return permissionHint(ctx)
    case 'ENOENT':
      if (ctx.eventType === 'hardware' || ctx.eventType === 'hwCache' || ctx.eventType === 'raw') {
        return hasHardwarePmu()
          ? "This CPU's PMU does not implement this generic event; try a raw event or another generic one."
          : "No hardware PMU on this machine (VM or container?): hardware events such as 'cycles' and 'instructions' are unavailable. Use software events such as 'task-clock' or 'cpu-clock'."
      }
      if (ctx.eventType === 'kprobe' || ctx.eventType === 'uprobe') {
        if (!existsSync(`${PMU_ROOT}/${ctx.eventType}`))
          return `The ${ctx.eventType} PMU is missing (${PMU_ROOT}/${ctx.eventType}); the kernel needs CONFIG_${ctx.eventType.toUpperCase()}_EVENTS.`
        if (ctx.eventType === 'uprobe' && ctx.probePath !== undefined && !existsSync(ctx.probePath))
          return `The file to probe does not exist: ${ctx.probePath}. Give the path of an existing ELF file (an executable or shared library).`
        return ctx.eventType === 'kprobe'
          ? 'The kernel could not place the kprobe: the symbol does not exist or cannot be probed (see /proc/kallsyms and /sys/kernel/tracing/available_filter_functions).'
          : 'The kernel could not place the uprobe: the path must name an ELF file this user can read, and the offset must lie inside it.'
      }
      return 'The kernel does not know this event on this machine.'
    case 'ENOTDIR':
      return ctx.cgroup !== undefined ? `${cgroupHint(ctx.cgroup)} (It is not a directory at all.)` : undefined
    case 'ENOSPC':
      return ctx.eventType === 'breakpoint'
        ? 'All hardware breakpoint slots are in use (x86-64 has 4 debug registers; each watchpoint counter on a thread or CPU takes one): close other breakpoint counters, or watch fewer addresses at once.'
        : 'The kernel has no room for this event (a PMU resource is exhausted): close other counters that use it.'
    case 'EINVAL': {
      const newer = optionTooNew(ctx)
      if (newer) return newer
      const max = readProc('/proc/sys/kernel/perf_event_max_sample_rate')
      if (ctx.freq !== undefined && max !== undefined && ctx.freq > BigInt(max))
        return `sampleOn.freq ${ctx.freq} is above kernel.perf_event_max_sample_rate (${max}): lower it, or raise the limit (sudo sysctl kernel.perf_event_max_sample_rate=${ctx.freq}).`
      if (ctx.eventType === 'dynamic' && ctx.excludeAny)
        return 'This PMU rejects privilege filters (modifiers such as :u or :k, or options.exclude): the msr PMU, for one, accepts none. Open the event without them, e.g. msr/tsc/.'
      if (ctx.eventType === 'dynamic' && ctx.pid !== undefined)
        return "This PMU may count per CPU only: open it with { pid: 'all', cpu: N } (needs privilege)."
      return `The kernel (${release()}) rejected the attributes: an invalid combination of options for this event, or an option this kernel does not know.`
    }
    case 'E2BIG': {
      const newer = optionTooNew(ctx)
      if (newer) return newer
      return `The running kernel (${release()}) is older than the perf_event_attr this build uses; use a build variant for an older kernel.`
    }
    case 'EOPNOTSUPP':
      return 'The PMU cannot do this: e.g. sampling on a PMU without an overflow interrupt, branch stacks, or an exclusion it does not support.'
    case 'EMFILE':
    case 'ENFILE':
      return 'Too many open files: close counters you no longer use (counter.close() or `using`; finalizers run only when the event loop turns), or raise the limit (ulimit -n).'
    case 'EBUSY':
      return 'The PMU resource is taken: all hardware breakpoint slots are in use, or another exclusive/pinned event holds the PMU.'
    case 'ENOSYS':
      return 'perf_event_open is not implemented here: a kernel without CONFIG_PERF_EVENTS, emulation (qemu-user), or a seccomp filter that blocks the syscall.'
    case 'ESRCH':
      return ctx.pid !== undefined ? `No process or thread with id ${ctx.pid}.` : 'No such process.'
    case 'EBADF':
      return undefined
    case 'ENODEV':
      return 'The PMU does not support this event or mode (for example, sampling or a per-task event on a per-CPU PMU).'
    case 'EOVERFLOW':
      return 'The requested size (user stack or call chain depth) is above the kernel limit (kernel.perf_event_max_stack).'
    case 'ERR_UNSUPPORTED_BY_BUILD':
      return ctx.unsupported?.()
    case 'ERR_COUNTER_ERROR_STATE':
      return 'The counter is pinned but could not be scheduled on the PMU (it is in error state); unpin it or free PMU counters.'
    case 'ERR_SAMPLER_EXISTS':
      return 'A counter has at most one sampler; reuse the existing one.'
    case 'ERR_FD_REPLACED':
      if (syscall === 'group')
        return "A CounterGroup owns its file descriptors (the leader's and each member's) and closes them. Other code closed one (e.g. a loop closing every fd, or fs.closeSync on a number it did not open), so the number now names another file, which this package leaves alone. Open a new CounterGroup; never close its descriptors yourself."
      return '`counter.fd` is borrowed: the counter owns it and closes it. Other code closed the counter\'s file descriptor (e.g. fs.closeSync, or a stream that took ownership), so the number now names another file, which this package leaves alone. Open a new counter; never close counter.fd yourself.'
    default:
      return undefined
  }
}

/** Deno's permission errors (`NotCapable`, `PermissionDenied`) while doing `what`: the flag to add. */
export function denoPermissionHint(what: string, denoMessage = ''): string {
  const flag = /--allow-[a-z]+/.exec(denoMessage)?.[0] ?? '--allow-all'
  const sysPath = /\/(sys|proc)\b/.test(what)
  const add = flag === '--allow-all' || (flag === '--allow-read' && sysPath) ? '-A (Deno 2 reads /sys and /proc files only with --allow-all)' : flag
  return `Deno denied ${what}: add ${add}. Software events need --allow-ffi --allow-env --allow-sys --allow-read=<your app>; tracepoints, PMU events, probes and the full hints read /sys and /proc, which need -A.`
}

/** A stat read whose bytes do not have the layout asked for, while the fds are still the handle's perf events. */
export const READ_LAYOUT_HINT =
  'The read(2) did not return the layout this handle asked for (count, times and the ids of its events), yet its file descriptors are still its perf events. Other code may have swapped a descriptor with dup2(); otherwise this is a bug in perf-event-open: please report it with `uname -r` and the events. (Descriptors closed behind its back give ERR_FD_REPLACED instead.)'

/** After `profiler.abort()`, its disposal or its signal's abort: the samples are gone. */
export const PROFILER_CLOSED_HINT = 'abort() (or disposing of the profiler, or aborting its signal) stopped sampling, closed its fds and dropped its samples without symbolizing them: create a new Profiler to profile again.'

/** Where the symbolizer addon failed, and what works without that step. */
export function symbolizerFailedHint(step: 'kernel' | 'flameGraph' | 'firefox'): string {
  const instead = {
    kernel: 'profile with kernel: false (or --no-kernel) to leave kernel frames out',
    flameGraph: 'write another format (.pb.gz, .folded, .cpuprofile: none of them needs the addon) and draw the flame graph from the .folded file',
    firefox: 'write another format (.pb.gz, .cpuprofile, .folded: none of them needs the addon)',
  }[step]
  return `The samples are intact: ${instead}. If it happens again, run perf-event-open doctor (it checks the symbolizer) and report the message with its output.`
}
