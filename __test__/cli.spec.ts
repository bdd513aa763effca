import test from 'ava'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parsePerfCsv, perfTool } from './perftool.ts'
import { notRoot, testUnless, userDist, withSystemLock } from './helpers.ts'

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'pe-cli-'))

// A CPU-bound child that spins for argv[1] ms of its own CPU time from main() on (what it used
// before exec, which differs between launchers, is not part of it), and a child doing N writes.
writeFileSync(
  join(dir, 'work.c'),
  `#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "spin") == 0) {
    struct timespec ts; volatile unsigned long x = 0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    double end = ts.tv_sec + ts.tv_nsec / 1e9 + atof(argv[2]) / 1000.0;
    do { for (int i = 0; i < 10000; i++) x++; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); } while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "write") == 0) {
    int fd = open("/dev/null", O_WRONLY), n = atoi(argv[2]);
    for (int i = 0; i < n; i++) if (write(fd, "x", 1) != 1) return 1;
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "exit") == 0) return atoi(argv[2]);
  return 64;
}
`,
)
const WORK = join(dir, 'work')
execFileSync('gcc', ['-O1', '-o', WORK, join(dir, 'work.c')])

interface JsonStat {
  command: string[]
  pid: number
  exitCode: number
  elapsedSeconds: number
  events: { event: string; value: number | null; unit: string; count: string | null; countUnit: 'ns' | 'events'; runningPercent: number | null; derived?: { value: number; unit: string }; error?: string }[]
}

function cliStat(args: string[]): { status: number | null; stat: JsonStat; stderr: string } {
  const out = join(dir, `stat-${Math.random()}.json`)
  const r = spawnSync(process.execPath, [CLI, 'stat', '--json', '-o', out, ...args], { encoding: 'utf8' })
  return { status: r.status, stat: JSON.parse(readFileSync(out, 'utf8')) as JsonStat, stderr: r.stderr }
}

function perfStat(perf: string, events: string, cmd: string[]): Map<string, number> {
  const out = join(dir, `perf-${Math.random()}.csv`)
  execFileSync(perf, ['stat', '-x,', '-o', out, '-e', events, '--', ...cmd])
  return parsePerfCsv(readFileSync(out, 'utf8'))
}

const value = (s: JsonStat, ev: string) => s.events.find((e) => e.event === ev)!.value!

// Decided when the file loads (perf is installed here when missing, as root).
const perf = perfTool()

testUnless(perf.reason)('stat -- cmd: task-clock of a CPU-bound child within 1 % of perf stat; writes exact', (t) => {
  const ours = cliStat(['-e', 'task-clock', '--', WORK, 'spin', '300'])
  const truth = perfStat(perf.path!, 'task-clock', [WORK, 'spin', '300'])
  const ms = value(ours.stat, 'task-clock')
  t.log(`task-clock: perf-event-open stat ${ms.toFixed(3)} msec, perf stat ${truth.get('task-clock')} msec`)
  t.is(ours.status, 0)
  t.is(ours.stat.events[0].unit, 'msec')
  t.true(ms >= 295, `${ms}`) // 300 ms of the child's CPU clock after exec (task-clock reads it within a few 0.1 %)
  t.true(Math.abs(ms - truth.get('task-clock')!) / truth.get('task-clock')! < 0.01)

  const n = 12345
  const w = cliStat(['-e', 'syscalls:sys_enter_write,page-faults', '--', WORK, 'write', String(n)])
  const wTruth = perfStat(perf.path!, 'syscalls:sys_enter_write', [WORK, 'write', String(n)])
  t.log(`sys_enter_write: perf-event-open stat ${value(w.stat, 'syscalls:sys_enter_write')}, perf stat ${wTruth.get('syscalls:sys_enter_write')}`)
  t.is(value(w.stat, 'syscalls:sys_enter_write'), n)
  t.is(wTruth.get('syscalls:sys_enter_write'), n)
  t.true(value(w.stat, 'page-faults') > 0)
  t.is(w.stat.events[0].unit, '')
})

test('stat passes the exit code through (128+signal when killed) and counts children', (t) => {
  t.is(cliStat(['-e', 'task-clock', '--', WORK, 'exit', '7']).status, 7)
  const killed = cliStat(['-e', 'task-clock', '--', 'sh', '-c', 'kill -9 $$'])
  t.is(killed.status, 128 + 9)
  t.is(killed.stat.exitCode, 137)
  // sh runs two children: both are counted (inherit), as perf stat does.
  const two = cliStat(['-e', 'syscalls:sys_enter_write', '--', 'sh', '-c', `${WORK} write 100; ${WORK} write 50`])
  t.is(value(two.stat, 'syscalls:sys_enter_write'), 150)
  const missing = spawnSync(process.execPath, [CLI, 'stat', '-e', 'task-clock', '--', join(dir, 'no-such-command')], { encoding: 'utf8' })
  t.is(missing.status, 127)
})

test('stat --json: a clock in any spelling is in msec with count in ns; no events/sec for it', (t) => {
  const r = cliStat(['-e', 'software/config=1/,task-clock:u,page-faults', '--', WORK, 'spin', '20'])
  t.is(r.status, 0, r.stderr)
  const [pmu, task, faults] = r.stat.events
  t.log(JSON.stringify(r.stat.events))
  for (const clock of [pmu, task]) {
    t.is(clock.unit, 'msec', clock.event)
    t.is(clock.countUnit, 'ns', clock.event)
    t.true(clock.value! >= 20, `${clock.event}: ${clock.value} msec`)
    t.is(clock.value, Number(clock.count) / 1e6) // not multiplexed: value is count in msec
    t.is(clock.derived?.unit, 'CPUs utilized', clock.event)
  }
  t.is(faults.unit, '')
  t.is(faults.countUnit, 'events')
  t.is(faults.derived?.unit, '/sec')
})

test('stat text output: units, derived ratios, not-supported events with the reason', (t) => {
  const r = spawnSync(process.execPath, [CLI, 'stat', '--', WORK, 'spin', '20'], { encoding: 'utf8' })
  t.is(r.status, 0)
  t.regex(r.stderr, /Performance counter stats for '.*work spin 20':/)
  t.regex(r.stderr, /[\d.,]+ msec\s+task-clock\s+#\s+[\d.]+ CPUs utilized/)
  t.regex(r.stderr, /page-faults\s+#\s+[\d.]+ K?\/sec/)
  t.regex(r.stderr, /seconds time elapsed/)
  const hw = spawnSync(process.execPath, [CLI, 'list', 'instructions', '--json'], { encoding: 'utf8' })
  if (JSON.parse(hw.stdout)[0].opens === false) {
    t.regex(r.stderr, /<not supported>\s+instructions/)
    t.regex(r.stderr, /cycles, instructions, branches, branch-misses: ENOENT/)
  } else t.regex(r.stderr, /instructions\s+#\s+[\d.]+ insn per cycle/)
})

test('stat -p pid: every thread of a running process until it exits, per thread', async (t) => {
  const child = spawn(process.execPath, ['-e', `
    const { Worker } = require('node:worker_threads')
    process.stdin.once('data', () => {
      new Worker("const fs=require('fs');const ns=()=>Number(fs.readFileSync('/proc/thread-self/schedstat','utf8').split(' ')[0]);const e=ns()+100e6;while(ns()<e){}", { eval: true })
        .on('exit', () => process.exit(0))
    })
    process.stdout.write('ready\\n')`], { stdio: ['pipe', 'pipe', 'inherit'] })
  await new Promise((r) => child.stdout.once('data', r))
  const out = join(dir, 'pid.json')
  const cli = spawn(process.execPath, [CLI, 'stat', '-e', 'task-clock', '--json', '--per-thread', '-o', out, '-p', String(child.pid)], { stdio: ['ignore', 'inherit', 'pipe'] })
  // Start the work once the CLI says it counts.
  let said = ''
  await new Promise<void>((r) => cli.stderr.on('data', (d) => { said += d; if (said.includes('Ctrl-C to stop')) r() }))
  t.regex(said, new RegExp(`Counting \\d+ threads of process ${child.pid}`))
  child.stdin.write('go\n')
  const code = await new Promise((r) => cli.on('exit', r))
  t.is(code, 0)
  const s = JSON.parse(readFileSync(out, 'utf8')) as JsonStat & { threads: { tid: number; name: string }[] }
  t.true(value(s, 'task-clock') >= 100, `${value(s, 'task-clock')} msec`)
  t.true(s.threads.some((th) => th.tid === child.pid))
})

test('list, doctor, record and usage errors', (t) => {
  const list = spawnSync(process.execPath, [CLI, 'list', 'software'], { encoding: 'utf8' })
  t.is(list.status, 0)
  t.regex(list.stdout, /task-clock\s+\[Software event\]/)
  t.regex(list.stdout, /page-faults OR faults/)
  const tp = JSON.parse(spawnSync(process.execPath, [CLI, 'list', 'syscalls:sys_enter_write', '--json'], { encoding: 'utf8' }).stdout)
  t.is(tp[0].name, 'syscalls:sys_enter_write')

  const doc = spawnSync(process.execPath, [CLI, 'doctor'], { encoding: 'utf8' })
  t.is(doc.status, 0)
  t.regex(doc.stdout, /\[(ok  |warn|FAIL)\] paranoid: /)
  t.is(JSON.parse(spawnSync(process.execPath, [CLI, 'doctor', '--json'], { encoding: 'utf8' }).stdout).checks[0].id, 'kernel')

  // record itself: __test__/cli-record.spec.ts.
  const rec = spawnSync(process.execPath, [CLI, 'record'], { encoding: 'utf8' })
  t.is(rec.status, 2)
  t.regex(rec.stderr, /Expected a command after -- \(or -p pid\)/)

  const usage = (args: string[], re: RegExp) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
    t.is(r.status, 2, args.join(' '))
    t.regex(r.stderr, re)
  }
  usage(['frobnicate'], /Unknown command "frobnicate"/)
  usage(['stat'], /Expected a command after --/)
  usage(['stat', '-p', 'abc'], /Expected a process id for -p but received "abc"/)
  usage(['stat', '--bogus', '--', 'true'], /Unknown option '--bogus'/)
  const bad = spawnSync(process.execPath, [CLI, 'stat', '-e', 'task-clok', '--', 'true'], { encoding: 'utf8' })
  t.is(bad.status, 2) // a usage error, as in record (issue 21: exit codes consistent across subcommands)
  t.regex(bad.stderr, /Unknown event "task-clok"/)
  t.is(spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).status, 0)
})

testUnless(notRoot('cannot switch to an unprivileged user'))('stat as an unprivileged user: kernel counting refused at perf_event_paranoid 2, so events count user space (:u) like perf stat', (t) => withSystemLock(() => {
  const user = 'perf-doctor-test'
  if (spawnSync('id', ['-u', user]).status !== 0) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user])
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }))
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }))
  const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'))
  const r = spawnSync(process.execPath, [userDist('cli/index.js'), 'stat', '-e', 'task-clock,page-faults', '--json', '--', 'sh', '-c', 'exit 5'], { uid, gid, encoding: 'utf8', cwd: '/' })
  t.is(r.status, 5)
  const s = JSON.parse(r.stdout) as JsonStat // --json goes to stdout
  const names = s.events.map((e) => e.event)
  t.deepEqual(names, paranoid >= 2 ? ['task-clock:u', 'page-faults:u'] : ['task-clock', 'page-faults'])
  t.true(s.events.every((e) => e.value !== null && e.value > 0), JSON.stringify(s.events))
}))
