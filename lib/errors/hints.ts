/**
 * The hint texts: what to do about a failure. Each hint names the cause that was found (probed on
 * this machine where that is possible) and the fix. This module only writes text: the facts it
 * names come from lib/system/ through `HintFacts` (lib/errors/errors.ts passes them), so it reads
 * no file itself.
 */
import { release } from 'node:os'
import type { ErrorContext } from './context'
import { PMU_ROOT, TRACEFS_ROOTS } from '../system/paths'

/** The facts of this machine a hint may name, read on demand (lib/system/). */
export interface HintFacts {
  /** This process's real uid. */
  uid(): number
  paranoidLevel(): number | undefined
  /** The owner uid of process `pid`, or undefined when it is gone. */
  processOwner(pid: number): number | undefined
  perfSysctl(name: 'perf_event_mlock_kb' | 'perf_event_max_sample_rate'): string | undefined
  perfCgroupMounts(): string[]
  hasHardwarePmu(): boolean
  /** A dynamic PMU's type number, or undefined when the PMU is missing. */
  pmuType(pmu: string): string | undefined
  exists(path: string): boolean
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


const FIXES =
  'Options: lower it (sudo sysctl kernel.perf_event_paranoid=N), grant CAP_PERFMON to node (sudo setcap cap_perfmon+ep "$(command -v node)"), or run as root. In a container, the default seccomp profile blocks perf_event_open: use --cap-add PERFMON or a custom seccomp profile.'

function permissionHint(ctx: ErrorContext, facts: HintFacts): string {
  const level = facts.paranoidLevel()
  const parts: string[] = []
  // Another user's process: the kernel checks ptrace access (PTRACE_MODE_READ_REALCREDS) whatever paranoid says.
  const me = facts.uid()
  if (ctx.pid !== undefined && me > 0) {
    const owner = facts.processOwner(ctx.pid)
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

function mmapHint(facts: HintFacts): string {
  const kb = facts.perfSysctl('perf_event_mlock_kb')
  return `The ring buffer could not be mapped: each sampler locks (2^exp + 1) pages, limited by kernel.perf_event_mlock_kb${kb ? ` (${kb} KiB per user)` : ''} and RLIMIT_MEMLOCK (ulimit -l). Use a smaller exp, close other samplers, or raise the limits (sudo sysctl kernel.perf_event_mlock_kb=…, or CAP_IPC_LOCK).`
}

function cgroupHint(cgroup: string, facts: HintFacts): string {
  const mounts = facts.perfCgroupMounts()
  return `target.cgroup (${cgroup}) is not a directory of a perf_event cgroup hierarchy: use a directory under a cgroup v2 mount or under the cgroup v1 perf_event controller, not another v1 controller such as cpu. ${mounts.length ? `Here: ${mounts.join(', ')}.` : 'None is mounted here: as root, mount -t cgroup2 none /sys/fs/cgroup (or mount -t cgroup -o perf_event none /sys/fs/cgroup/perf_event).'}`
}

/** EINVAL/E2BIG from options the running kernel is too old for: names each with the Linux version it needs. */
function optionTooNew(ctx: ErrorContext): string | undefined {
  const newer = ctx.tooNewForKernel?.()
  return newer && `The kernel rejected an option it does not know: ${newer} Leave the option out on this kernel, or upgrade the kernel.`
}

/** The hint for a failure with `code` (an errno name or ERR_* code) of a call described by `ctx`. */
export function hintFor(code: string, ctx: ErrorContext, syscall: string, facts: HintFacts): string | undefined {
  if (syscall === 'mmap' && (code === 'EPERM' || code === 'ENOMEM' || code === 'EACCES')) return mmapHint(facts)
  if (syscall === 'mmap' && code === 'EINVAL' && ctx.inheritAllCpus)
    return 'The kernel does not map inherited counters that follow a task on every CPU (all children would write into one ring). Open one counter per CPU ({ pid, cpu: N }, with the same inherit option) and sample each.'
  if (ctx.operation === 'setFilter' && (code === 'EINVAL' || code === 'ENOENT' || code === 'EPERM'))
    return ctx.eventType !== 'tracepoint'
      ? `setFilter works on tracepoint counters only (this one is a ${ctx.eventType ?? 'non-tracepoint'} event).`
      : 'The kernel rejected the filter: use the fields of the tracepoint (listed in /sys/kernel/tracing/events/<subsystem>/<name>/format) with ftrace filter syntax, e.g. \'common_pid != 0 && bytes > 100\'.'
  if (ctx.cgroup !== undefined && (code === 'EBADF' || code === 'ENOENT' || code === 'EINVAL')) return cgroupHint(ctx.cgroup, facts)
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return permissionHint(ctx, facts)
    case 'ENOENT':
      if (ctx.eventType === 'hardware' || ctx.eventType === 'hwCache' || ctx.eventType === 'raw') {
        return facts.hasHardwarePmu()
          ? "This CPU's PMU does not implement this generic event; try a raw event or another generic one."
          : "No hardware PMU on this machine (VM or container?): hardware events such as 'cycles' and 'instructions' are unavailable. Use software events such as 'task-clock' or 'cpu-clock'."
      }
      if (ctx.eventType === 'kprobe' || ctx.eventType === 'uprobe') {
        if (facts.pmuType(ctx.eventType) === undefined) return pmuMissingHint(ctx.eventType)
        if (ctx.eventType === 'uprobe' && ctx.probePath !== undefined && !facts.exists(ctx.probePath))
          return `The file to probe does not exist: ${ctx.probePath}. Give the path of an existing ELF file (an executable or shared library).`
        return ctx.eventType === 'kprobe'
          ? 'The kernel could not place the kprobe: the symbol does not exist or cannot be probed (see /proc/kallsyms and /sys/kernel/tracing/available_filter_functions).'
          : 'The kernel could not place the uprobe: the path must name an ELF file this user can read, and the offset must lie inside it.'
      }
      return 'The kernel does not know this event on this machine.'
    case 'ENOTDIR':
      return ctx.cgroup !== undefined ? `${cgroupHint(ctx.cgroup, facts)} (It is not a directory at all.)` : undefined
    case 'ENOSPC':
      return ctx.eventType === 'breakpoint'
        ? 'All hardware breakpoint slots are in use (x86-64 has 4 debug registers; each watchpoint counter on a thread or CPU takes one): close other breakpoint counters, or watch fewer addresses at once.'
        : 'The kernel has no room for this event (a PMU resource is exhausted): close other counters that use it.'
    case 'EINVAL': {
      const newer = optionTooNew(ctx)
      if (newer) return newer
      const max = facts.perfSysctl('perf_event_max_sample_rate')
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

/** A probe or dynamic PMU that the kernel does not list. */
export function pmuMissingHint(pmu: string): string {
  return `The ${pmu} PMU is missing (${PMU_ROOT}/${pmu}); the kernel needs CONFIG_${pmu.toUpperCase()}_EVENTS.`
}

/** procfs facts that could not be read: the thread-self link (`thread-self`) or a link that is not procfs's (`not-procfs`). */
export function procfsHint(problem: 'thread-self' | 'not-procfs', link: string): string {
  return problem === 'thread-self'
    ? `${link} needs /proc mounted and Linux 3.17 or later. In a worker without it, take the tid from the main thread (threadIds(process.pid)) instead.`
    : `${link} is not procfs's thread-self link here: check that /proc is a procfs mount (mount -t proc proc /proc).`
}

/** Event lookup that failed: what to do instead (`near` is a "did you mean" prefix, possibly empty). */
export const LOOKUP_HINTS = {
  tracefsDenied: (root: string) =>
    `tracefs is mounted but only root may read it (mode 700 is the default). Tracepoints need root or CAP_PERFMON anyway; as root you may also open it up: mount -o remount,mode=755 ${root} (or chmod), or pass the tracepoint's id: { type: 'tracepoint', id }.`,
  tracefsNotMounted: () => `tracefs is not mounted: as root, mount -t tracefs nodev ${TRACEFS_ROOTS[0]}`,
  tracepoints: (near: string, sys: string, root: string) => `${near}List tracepoints with: perf-event-open list ${sys} (or ls ${root}/events/${sys}/, or listEvents('${sys}')).`,
  pmus: (near: string) => `${near}PMUs and their events: perf-event-open list pmu, or listEvents('pmu').`,
  pmuEvents: (near: string, pmu: string) => `${near}Events of this PMU: perf-event-open list ${pmu}, or listEvents('${pmu}').`,
}

/** A handle used after close(). */
export function closedHint(what: string): string {
  return `Create a new ${what}; close() released its file descriptor.`
}

/** A ProcessCounter's failures: fds beyond RLIMIT_NOFILE, a process without threads to count. */
/** A profile of another process (`options.pid`) whose process is not there. */
export function noProcessHint(): string {
  return 'Give the pid of a running process (options.pid).'
}

export const PROCESS_HINTS = {
  fdRoom: 'Raise the limit (ulimit -n 65536, or LimitNOFILE= in a systemd unit) or count fewer events.',
  noThreads: (pid: number) => `The process has exited or /proc/${pid}/task is not readable.`,
}

/** The one-time warning when events count user space only (lib/handles/userspace.ts). */
export function userSpaceOnlyNotice(level: number | undefined, label: string): string {
  return (
    `kernel.perf_event_paranoid is ${level ?? 'unknown'} and this process lacks CAP_PERFMON: the kernel refuses kernel-mode counting, so events count user space only, ` +
    `like perf (their labels end in ':u', e.g. ${label}, and each Stat has userSpaceOnly: true). context-switches and cpu-migrations happen in the kernel and are refused. ` +
    'To count the kernel too: sudo sysctl kernel.perf_event_paranoid=1, or sudo setcap cap_perfmon+ep "$(command -v node)". README: "Permissions".'
  )
}

/** Loading the native module failed: not Linux, no build for this CPU, or the binary is missing or broken. */
export const LOAD_HINTS = {
  notLinux: 'Run it on Linux (a VM, WSL2 or a container works; hardware counters may be missing there).',
  noBuild:
    'Build from source (Rust stable from rustup.rs; the first build takes about 2.5 min): in a clone of perf-event-open run `npm ci && npm run build && npm pack` and install the tarball, or set PERF_EVENT_OPEN_BINARY to a .node you built.',
  /** `pkg`: the default platform package; `install`: the command installing it; `fitInstall`: the one for this kernel's variant, if another. */
  solutions: (o: { pkg: string; install: string; fitInstall?: string; cpu: string; libc: string }) =>
    [
      'Possible solutions:',
      `- Install optional dependencies: npm install --include=optional perf-event-open (npm skips platform packages such as ${o.pkg} with --omit=optional, --no-optional, or when their "engines" do not match).`,
      `- Install the platform package yourself: ${o.install}${o.fitInstall ? ` (or the variant built for this kernel: ${o.fitInstall})` : ''}.`,
      '- Delete node_modules and package-lock.json and install again (npm bug with optional dependencies: npm/cli#4828).',
      '- Bun: install with `bun add perf-event-open` or `bun install` (a node_modules folder); the loader looks for binary packages on disk and never lets Bun auto-install one from the network at load time.',
      `- Installing for another machine (Docker, Electron): npm install --os=linux --cpu=${o.cpu} --libc=${o.libc} perf-event-open.`,
      '- For Electron, unpack *.node from asar (asarUnpack: ["**/*.node"]).',
      '- Bundled (esbuild, webpack, Vite, Electron Forge)? Mark perf-event-open external so it loads from node_modules: README "Bundlers" (https://github.com/perf-event-open/perf-event-open-node#bundlers).',
      '- Build from source (Rust stable; the first build takes about 2.5 min): in a clone of perf-event-open run `npm ci && npm run build && npm pack`, then install the tarball it writes (it contains the binary).',
      '- Point PERF_EVENT_OPEN_BINARY at a .node file you built, or choose an installed variant with PERF_EVENT_OPEN_VARIANT.',
    ].join('\n'),
}

/** How to get JS names into profiles of an Electron app (the runtime hint and the README say the same). */
export const ELECTRON_PERF_MAP_HINT =
  'JS functions are unnamed: V8 writes /tmp/perf-<pid>.map only when started with --perf-basic-prof. In Electron, start the app with ' +
  '--js-flags=--perf-basic-prof (electron --js-flags=--perf-basic-prof ., or the packaged binary with that argument): V8 flags of the main process must be given at start. ' +
  "app.commandLine.appendSwitch('js-flags', '--perf-basic-prof') before app is ready passes them to renderers; a utility process takes them in " +
  "utilityProcess.fork(modulePath, args, { execArgv: ['--perf-basic-prof'] }). V8 cannot turn the map on at run time."

/** Options or operations newer than the loaded build or the running kernel (lib/events/since.ts finds which). */
export const BUILD_HINTS = {
  /** ` (the linux-5.15 variant has it: PERF_EVENT_OPEN_VARIANT=linux-5.15, package …; it needs Linux 5.15+)`; `pkg` is `, package <name>` or empty. */
  variantHasIt: (name: string, pkg: string, kernel: string) => ` (the ${name} variant has it: PERF_EVENT_OPEN_VARIANT=${name}${pkg}; it needs Linux ${kernel}+)`,
  /** ERR_UNSUPPORTED_BY_BUILD: each `needs` is `<option> needs Linux X.Y<variantHasIt>`. */
  unsupportedByBuild: (variant: string, built: string, needs: string[]) =>
    `The loaded build (${variant}) has the perf ABI of Linux ${built}. ${needs.length ? `${needs.join('; ')}.` : 'Use a variant for a newer kernel.'}`,
  /** EINVAL/E2BIG from options the running kernel lacks: each `needs` is `<option> needs Linux X.Y`. */
  tooNewForKernel: (needs: string[], kernel: string) => `${needs.join('; ')}, and this kernel is ${kernel}.`,
  /** An operation (attachBpf, switchTo…) newer than the loaded build: `needs` is `<op> needs Linux X.Y<variantHasIt>`. */
  operationNeeds: (needs: string, variant: string, built: string) => `${needs}; the loaded build (${variant}) has the perf ABI of Linux ${built}.`,
}

/** `profileCommand`/`record -- cmd`: the command could not be started. */
export const COMMAND_HINTS = {
  notFound: 'Give the path of an executable (or a name on PATH).',
  notExecutable: 'Give an executable file: a binary, or a script with a #! line and the execute bit (chmod +x).',
}

/** Something already sits at V8's perf map path of a command about to start (lib/profile/mapguard.ts). */
export function perfMapUnsafeHint(path: string): string {
  return (
    `Someone may have planted it for this pid: look at it (ls -l ${path}), remove it (rm ${path}) and run again. ` +
    'sysctl fs.protected_symlinks=1, fs.protected_fifos=2 and fs.protected_regular=2 make the kernel refuse such writes in /tmp.'
  )
}

/** What to do when this Node writes no perf map (Electron has its own: `ELECTRON_PERF_MAP_HINT`). */
export const PERF_MAP_HINT =
  'JS functions are unnamed: start Node with --perf-basic-prof (node --perf-basic-prof app.js, or NODE_OPTIONS=--perf-basic-prof) so V8 writes /tmp/perf-<pid>.map; ' +
  'add --interpreted-frames-native-stack to name interpreted frames too. V8 cannot turn the map on at run time.'

/** Where this copy of the package stands, for the missing-symbolizer hint (lib/profile/symbolizer.ts). */
export interface SymbolizerPlace {
  /** PERF_EVENT_OPEN_SYMBOLIZE_PATH, when set. */
  envPath: string | undefined
  /** The binary's file name for this platform. */
  file: string
  /** The package's root directory, and whether it is a clone of the repository (it has symbolize/Cargo.toml). */
  root: string
  clone: boolean
  /** The symbolizer package's name and this platform's suffix. */
  pkg: string
  platform: string
}

/** The fixes for a missing symbolizer addon that work in the state this copy of the package is in. */
export function symbolizerMissingHint({ envPath, file, root, clone, pkg, platform }: SymbolizerPlace): string {
  if (envPath) return `PERF_EVENT_OPEN_SYMBOLIZE_PATH is set (${envPath}) and nothing else is tried: point it at an existing ${file} (or the package's index.js), or unset it.`
  if (clone)
    return `This is a clone of the repository without a built symbolizer: run npm run build (it builds the symbolizer too; or just npm run build:symbolize). npm pack then carries it (symbolize/${file}), so a tarball installed elsewhere profiles too.`
  return (
    `This copy of perf-event-open (${root}) has no symbolizer beside it (symbolize/${file}) and ${pkg} is not installed. ` +
    `Installed from the npm registry: npm install ${pkg} (it brings ${pkg}-${platform} as an optional dependency: do not use --omit=optional). ` +
    `Installed from a tarball packed in a clone: run npm run build in the clone (it builds the symbolizer), npm pack again and reinstall. ` +
    `Either way, PERF_EVENT_OPEN_SYMBOLIZE_PATH=/path/to/${file} works without reinstalling.`
  )
}

/** Why `list [filter]` found nothing, and what to try; `tracefs` is where tracefs is mounted and whether this user may read its events. */
export function emptyListReason(filter: string | undefined, tracefs: { root: string; readable: boolean } | undefined, firstRoot: string): string {
  const what = filter === undefined ? 'No events were found' : `No events match ${JSON.stringify(filter)}`
  let tracepoints: string
  if (tracefs === undefined) tracepoints = `tracefs is not mounted, so no tracepoints are listed (as root: mount -t tracefs nodev ${firstRoot})`
  else if (!tracefs.readable) tracepoints = `tracepoints are not listed: ${tracefs.root} is not readable by this user (tracefs is mode 700 by default; tracepoints need root or CAP_PERFMON anyway)`
  else tracepoints = `tracepoints are listed from ${tracefs.root}/events`
  return `${what}: the filter is a kind (hardware, software, cache, tracepoint, pmu), a substring of names or categories (syscalls), or a glob (*fault*); ${tracepoints}. 'perf-event-open list' shows every event.`
}

/** A profile without kernel frames: how much of its threads' CPU time (task-clock, ns) its samples (`seenNs`) do not cover. */
export function unseenKernelTimeWarning(seenNs: number, cpuNs: number): string {
  const ms = (ns: number) => `${(ns / 1e6).toFixed(1)} ms`
  const unseen = cpuNs - seenNs
  return `Kernel time is not in this profile: its samples cover ${ms(seenNs)} of the ${ms(cpuNs)} of CPU time its threads used (task-clock, user + kernel); ${ms(unseen)} (${((100 * unseen) / cpuNs).toFixed(1)} %) ran in the kernel (system calls, page faults) unseen. Kernel frames need kernel.perf_event_paranoid <= 1, root or CAP_PERFMON.`
}

/** A command's processes without a V8 perf map (lib/profile/target.ts). */
export function noCommandPerfMapWarning(pids: number[]): string {
  return `No V8 perf map for pid ${pids.join(', ')}: JIT frames of a Node command are unnamed unless it runs with --perf-basic-prof (e.g. profileCommand(process.execPath, ['--perf-basic-prof', 'app.js'])).`
}

/** Another process profiled without a V8 perf map. */
export function noPerfMapWarning(pid: number): string {
  return `No V8 perf map for pid ${pid}: if it is a Node program, JS frames get names when it runs with --perf-basic-prof.`
}

/** Another process that exited before stop(). */
export function targetExitedWarning(pid: number): string {
  return `Process ${pid} exited before stop(): symbolized from its mappings and its perf map file, as profileCommand does.`
}
