import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { doctor, formatDoctor, isClockEvent, knownEventNames, listEvents, parseEvent, unitOf, type DoctorReport, type EventInfo } from '../dist/index.js'
import { hardwareAvailable, notRoot, testUnless, userDist, withSystemLock } from './helpers.ts'
import { perfTool } from './perftool.ts'

const USER = 'perf-doctor-test'

/** uid/gid of an unprivileged user, created when missing (needs root). */
function unprivileged(): { uid: number; gid: number } {
  const id = () => spawnSync('id', ['-u', USER], { encoding: 'utf8' })
  if (id().status !== 0) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER])
  return { uid: Number(id().stdout), gid: Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' })) }
}

/** Runs `expr` (using `p`, the package) in a node child as the unprivileged user; returns its JSON. */
function asUser<T>(who: { uid: number; gid: number }, expr: string): T {
  // The user may not read this checkout (a clone under a 0700 directory): it loads a readable copy.
  const script = `const p = require(${JSON.stringify(userDist())}); process.stdout.write(JSON.stringify(${expr}))`
  const r = spawnSync(process.execPath, ['-e', script], { uid: who.uid, gid: who.gid, encoding: 'utf8', cwd: '/' })
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

const check = (r: DoctorReport, id: string) => {
  const c = r.checks.find((x) => x.id === id)
  if (!c) throw new Error(`no check ${id}`)
  return c
}

test('knownEventNames: perf spellings that the event grammar takes', (t) => {
  const k = knownEventNames()
  t.true(k.hardware.includes('cycles') && k.hardware.includes('cpu-cycles'))
  t.true(k.software.includes('task-clock') && k.software.includes('cs'))
  t.true(k.cache.includes('L1-dcache-load-misses') && k.cache.includes('LLC-prefetches'))
  t.is(k.cache.length, 7 * 3 * 2)
  for (const n of [...k.hardware, ...k.software, ...k.cache]) t.notThrows(() => parseEvent(n), n)
})

test('one answer to "is this a clock?": isClockEvent/unitOf and the perf name of every spelling', (t) => {
  const clocks = ['task-clock', 'cpu-clock:u', 'TASK-CLOCK:k', 'software/config=1/', 'software/config=0/u', { type: 'software', name: 'taskClock' }, { type: 'dynamic', pmu: 'software', config: 1n }] as const
  for (const c of clocks) {
    const ev = parseEvent(c as never)
    t.true(isClockEvent(ev.native), JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))
    t.is(unitOf(ev), 'ns')
    t.is(unitOf(ev.native), 'ns')
    t.regex(ev.name, /^(task|cpu)-clock$/)
  }
  t.is(parseEvent({ type: 'software', name: 'taskClock' }).name, 'task-clock')
  t.is(parseEvent('software/config=1/').name, 'task-clock')
  t.is(parseEvent('software/config=2/').name, 'page-faults')
  for (const c of ['page-faults', 'cs', 'software/config=2/', 'software/config=99/', 'syscalls:sys_enter_write:u', 'cycles', 'L1-dcache-load-misses', 'msr/tsc/', 'mem:0x1000/8:w']) {
    const ev = parseEvent(c)
    t.false(isClockEvent(ev.native), c)
    t.is(unitOf(ev), 'events', c)
  }
  t.is(parseEvent('cs:u').name, 'context-switches')
  t.is(parseEvent('cpu-cycles:u').name, 'cycles')
  t.is(parseEvent({ type: 'hwCache', cache: 'l1d', op: 'read', result: 'miss' }).name, 'L1-dcache-load-misses')
  t.is(parseEvent('L1-dcache-loads:u').name, 'L1-dcache-loads')
  t.is(parseEvent('LLC-prefetch').name, 'LLC-prefetches')
  t.is(parseEvent('syscalls:sys_enter_write:u').name, 'syscalls:sys_enter_write')
  t.is(parseEvent('msr/tsc/u').name, 'msr/tsc/')
})

test('listEvents: every kind, the same grammar, and whether it opens here', (t) => {
  const all = listEvents()
  const byName = new Map(all.map((e) => [e.name, e]))
  const hw = hardwareAvailable()
  for (const e of all.filter((x) => x.kind === 'hardware' || x.kind === 'cache')) {
    t.is(e.opens, hw.ok, e.name)
    if (!hw.ok) t.regex(e.reason!, /^ENOENT: /)
  }
  for (const e of all.filter((x) => x.kind === 'software')) t.true(e.opens, `${e.name}: ${e.reason}`)
  t.deepEqual(byName.get('page-faults')!.aliases, ['faults'])
  t.is(byName.get('task-clock')!.description, 'CPU time of the task (ns)')
  for (const e of all.filter((x) => x.kind !== 'raw' && x.kind !== 'breakpoint' && x.kind !== 'tracepoint')) t.notThrows(() => parseEvent(e.name), e.name)

  // Tracepoints: exactly the ids under tracefs, by subsystem.
  const root = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].find((r) => existsSync(`${r}/events`))!
  let expected = 0
  for (const sys of readdirSync(`${root}/events`, { withFileTypes: true })) {
    if (!sys.isDirectory()) continue
    for (const ev of readdirSync(`${root}/events/${sys.name}`)) if (existsSync(`${root}/events/${sys.name}/${ev}/id`)) expected++
  }
  const tps = all.filter((e) => e.kind === 'tracepoint')
  t.is(tps.length, expected)
  const w = byName.get('syscalls:sys_enter_write')!
  t.is(w.category, 'syscalls')
  t.regex(w.description, /fields: __syscall_nr, fd, buf, count/)
  t.true(w.opens) // root
  t.notThrows(() => parseEvent(w.name))

  // Dynamic PMU events from sysfs events/ with their format/ terms.
  for (const pmu of readdirSync('/sys/bus/event_source/devices')) {
    const dir = `/sys/bus/event_source/devices/${pmu}/events`
    if (!existsSync(dir)) continue
    for (const ev of readdirSync(dir).filter((x) => !x.includes('.'))) {
      const e = byName.get(`${pmu}/${ev}/`)
      t.truthy(e, `${pmu}/${ev}/`)
      t.true(e!.description.startsWith(readFileSync(`${dir}/${ev}`, 'utf8').trim()))
    }
  }
  const tsc = byName.get('msr/tsc/')
  if (tsc) {
    t.true(tsc.opens, tsc.reason)
    t.deepEqual(tsc.formats, { event: readFileSync('/sys/bus/event_source/devices/msr/format/event', 'utf8').trim() })
  }
})

test('listEvents filters: substring, kind, glob, RegExp; bad arguments', (t) => {
  const names = (l: EventInfo[]) => l.map((e) => e.name)
  t.deepEqual(names(listEvents('cache')).length, 42)
  t.true(listEvents('software', { probe: false }).every((e) => e.kind === 'software' && e.opens === undefined))
  t.true(names(listEvents('*fault*', { probe: false })).includes('exceptions:page_fault_user'))
  t.true(names(listEvents('*fault*', { probe: false })).includes('major-faults'))
  t.deepEqual(names(listEvents(/^task-clock$/)), ['task-clock'])
  t.deepEqual(names(listEvents('cs')).slice(0, 1), ['context-switches'])
  t.throws(() => listEvents(3 as never), { instanceOf: TypeError, message: /Expected a string or RegExp for filter/ })
  t.throws(() => listEvents('x', { probe: 'some' as never }), { instanceOf: TypeError })
})

test('doctor as root: every check, values from the system, fixes where something is missing', (t) => withSystemLock(() => {
  const r = doctor()
  t.log(formatDoctor(r))
  t.throws(() => formatDoctor(null as never), { instanceOf: TypeError, message: 'Expected a report from doctor() (an object with checks[]) for report but received null' })
  t.throws(() => formatDoctor({} as never), { instanceOf: TypeError, message: /Expected a report from doctor\(\)/ })
  t.is(r.uid, 0)
  t.deepEqual(
    r.checks.map((c) => c.id),
    ['kernel', 'variant', 'syscall', 'paranoid', 'capabilities', 'hardwarePmu', 'tracefs', 'tracepoints', 'kprobe', 'uprobe', 'mlock', 'sampleRate', 'environment', 'symbolizer'],
  )
  t.is(check(r, 'paranoid').value, readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim())
  t.is(check(r, 'paranoid').status, 'ok')
  t.regex(check(r, 'capabilities').value, /CAP_PERFMON yes/)
  t.is(check(r, 'syscall').status, 'ok')
  t.is(check(r, 'tracepoints').status, 'ok')
  t.is(check(r, 'hardwarePmu').status === 'ok', hardwareAvailable().ok)
  t.is(check(r, 'kprobe').value, existsSync('/sys/bus/event_source/devices/kprobe') ? 'present' : 'absent')
  t.is(check(r, 'uprobe').value, existsSync('/sys/bus/event_source/devices/uprobe') ? 'present' : 'absent')
  t.regex(check(r, 'sampleRate').value, new RegExp(`^${readFileSync('/proc/sys/kernel/perf_event_max_sample_rate', 'utf8').trim()} Hz`))
  for (const c of r.checks) if (c.status === 'warn' || c.status === 'fail') t.truthy(c.fix, `${c.id} has a fix`)
}))

testUnless(notRoot('cannot create a user and switch to it'))('doctor and listEvents as an unprivileged user (perf_event_paranoid as set)', (t) => withSystemLock(() => {
  const who = unprivileged()
  const r = asUser<DoctorReport>(who, 'p.doctor()')
  t.log(formatDoctor(r))
  t.is(r.uid, who.uid)
  t.regex(check(r, 'capabilities').value, /CAP_PERFMON no, CAP_SYS_ADMIN no/)
  const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'))
  if (paranoid >= 2) {
    t.is(check(r, 'paranoid').status, paranoid >= 3 ? 'fail' : 'warn')
    t.regex(check(r, 'paranoid').fix!, /sysctl kernel\.perf_event_paranoid=1/)
  }
  if (paranoid <= 2) t.is(check(r, 'syscall').status, 'ok')
  // tracefs is root-only by default; either way tracepoints need privilege.
  const tf = check(r, 'tracefs')
  if (tf.status !== 'ok') t.regex(tf.fix!, /mount/)
  t.is(check(r, 'tracepoints').status, 'fail')
  for (const c of r.checks) if (c.status === 'warn' || c.status === 'fail') t.truthy(c.fix, `${c.id} has a fix`)

  // Software events open (user space only at paranoid 2: listEvents retries with ":u").
  const sw = asUser<EventInfo[]>(who, "p.listEvents('software')")
  if (paranoid <= 2) t.true(sw.find((e) => e.name === 'task-clock')!.opens)
}))

// Decided when the file loads (perf is installed here when missing, as root).
const perf = perfTool()

testUnless(perf.reason)('listEvents agrees with perf list: software events (with aliases), tracepoints and PMU events', (t) => {
  const perfList = (what: string, kind: string) =>
    execFileSync(perf.path!, ['list', what], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`[${kind}]`))
      .map((l) => l.trim().split(/\s{2,}/)[0])
      .sort()
  const ours = listEvents(undefined, { probe: false })
  const named = (kind: string) => ours.filter((e) => e.kind === kind).map((e) => [e.name, ...e.aliases].join(' OR ')).sort()
  const sw = perfList('sw', 'Software event')
  t.deepEqual(named('software'), sw) // same names, same aliases ("page-faults OR faults")
  const tp = perfList('tracepoint', 'Tracepoint event')
  t.is(tp.length, ours.filter((e) => e.kind === 'tracepoint').length)
  t.deepEqual(named('tracepoint'), tp)
  t.deepEqual(named('pmu'), perfList('pmu', 'Kernel PMU event'))
  t.log(`perf list: ${sw.length} software, ${tp.length} tracepoints, ${named('pmu').length} PMU events; listEvents the same`)
})
