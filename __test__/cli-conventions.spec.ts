// Issue 21: CLI conventions, each checked on the real CLI: --version; usage to stderr with exit 2 on
// misuse; one exit-code table for every subcommand (documented in --help and the README); --json on
// stdout; several -o in one record; a missing -- detected and explained; hints that name this CLI;
// did-you-mean for tracepoints and PMU events; an empty listing that says why; the symbolizer
// checked before record runs the command.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { EXIT_CODES_TEXT } from '../dist/cli/conventions.js'
import { COMMANDS } from '../dist/cli/index.js'
import { freshUser, notRoot, testUnless, userDist, withSystemLock } from './helpers.ts'

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname
const PKG = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
const dir = mkdtempSync(join(tmpdir(), 'pe-cliconv-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 120_000 })
const NO_STACK = /^\s+at .+:\d+:\d+\)?$/m

test('--version and -V print the package version on stdout, exit 0', (t) => {
  for (const flag of ['--version', '-V']) {
    const r = cli([flag])
    t.is(r.status, 0)
    t.is(r.stdout, `perf-event-open ${PKG.version}\n`)
    t.is(r.stderr, '')
  }
})

test('misuse: no command prints the usage on stderr (stdout empty), exit 2; --help prints it on stdout, exit 0', (t) => {
  const r = cli([])
  t.is(r.status, 2)
  t.is(r.stdout, '')
  t.regex(r.stderr, /Expected a command \(stat, record, list or doctor\)[\s\S]*Usage: perf-event-open <command>/)
  const h = cli(['--help'])
  t.is(h.status, 0)
  t.regex(h.stdout, /Usage: perf-event-open <command>/)
  t.is(h.stderr, '')
})

test('exit codes: one table in --help, in record --help and in the README; an unknown event is 2 from stat and from record', (t) => {
  t.true(cli(['--help']).stdout.includes(EXIT_CODES_TEXT))
  t.true(cli(['record', '--help']).stdout.includes(EXIT_CODES_TEXT))
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  for (const line of EXIT_CODES_TEXT.split('\n').slice(1)) {
    const [code] = line.trim().split(/\s+/)
    t.regex(readme, new RegExp(`\\| \`${code}\` \\|`), `README exit code ${code}`)
  }
  const marker = join(dir, 'ran-unknown')
  for (const sub of ['stat', 'record']) {
    const r = cli([sub, '-e', 'task-clok', '--', 'sh', '-c', `touch ${marker}`])
    t.is(r.status, 2, `${sub}: ${r.stderr}`)
    t.regex(r.stderr, /Unknown event "task-clok"[\s\S]*Did you mean 'task-clock'\?/)
    t.notRegex(r.stderr, NO_STACK)
  }
  t.false(existsSync(marker), 'the command did not run')
  // The command's own code; 127 when it does not exist.
  t.is(cli(['stat', '-e', 'task-clock', '--', 'sh', '-c', 'exit 3']).status, 3)
  t.is(cli(['stat', '-e', 'task-clock', '--', 'no-such-command-pe']).status, 127)
})

test('stat --json writes the JSON to stdout (| jq works), the command keeps its own stdout, the table is not printed', (t) => {
  const r = cli(['stat', '-e', 'task-clock,page-faults', '--json', '--', 'sh', '-c', 'echo from-command'])
  t.is(r.status, 0, r.stderr)
  const [own, json, ...rest] = r.stdout.split('\n')
  t.is(own, 'from-command')
  t.deepEqual(rest, [''])
  const s = JSON.parse(json) as { events: { event: string; value: number }[]; exitCode: number }
  t.deepEqual(s.events.map((e) => e.event), ['task-clock', 'page-faults'])
  t.is(s.exitCode, 0)
  t.notRegex(r.stderr, /Performance counter stats/)
  // Through a real pipe, as `| jq .exitCode` would read it.
  const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" stat -e task-clock --json -- true | "${process.execPath}" -e "let d='';process.stdin.on('data',c=>d+=c).on('end',()=>console.log(JSON.parse(d).exitCode))"`], { encoding: 'utf8' })
  t.is(piped.stdout.trim(), '0', piped.stderr)
})

test('a missing -- is detected and explained (exit 2, the command not run); without options after it, no -- is needed', (t) => {
  const marker = join(dir, 'ran-dashdash')
  for (const sub of ['stat', 'record']) {
    const r = cli([sub, 'sh', '-c', `touch ${marker}`, '-e', 'x'])
    t.is(r.status, 2, r.stderr)
    t.regex(r.stderr, new RegExp(`Expected -- before the command: without it, "-c", "-e" after "sh" would be read as perf-event-open ${sub}'s own options\\. Write: perf-event-open ${sub} -- sh -c`))
    t.notRegex(r.stderr, /Unknown event/)
  }
  // The issue's case: `stat node -e 1` used to say Unknown event "1".
  const node = cli(['stat', 'node', '-e', '1'])
  t.is(node.status, 2)
  t.regex(node.stderr, /Expected -- before the command[^\n]*Write: perf-event-open stat -- node -e 1/)
  t.false(existsSync(marker))
  const plain = cli(['stat', '-e', 'task-clock', '--json', 'true'])
  t.is(plain.status, 0, plain.stderr)
  t.is(JSON.parse(plain.stdout).exitCode, 0)
})

test('record: several -o write several formats from one run', (t) => {
  const svg = join(dir, 'several.svg')
  const pb = join(dir, 'several.pb.gz')
  const folded = join(dir, 'several.folded')
  const r = cli(['record', '-F', '499', '-o', svg, '-o', pb, '-o', folded, '--', process.execPath, '-e', 'let x = 0; for (let i = 0; i < 3e7; i++) x += i % 7'])
  t.is(r.status, 0, r.stderr)
  t.regex(readFileSync(svg, 'utf8'), /^<\?xml[\s\S]*<svg/)
  const raw = readFileSync(pb)
  t.deepEqual([...raw.subarray(0, 2)], [0x1f, 0x8b])
  t.true(gunzipSync(raw).length > 0)
  t.regex(readFileSync(folded, 'utf8'), /^\S.* \d+$/m)
  t.regex(r.stderr, new RegExp(`Wrote ${svg} \\(flame graph SVG\\), ${pb} \\(pprof\\), ${folded} \\(folded stacks\\): \\d+ samples`))
  // One bad extension among several: a usage error before anything runs.
  const bad = cli(['record', '-o', svg, '-o', join(dir, 'x.txt'), '--', 'true'])
  t.is(bad.status, 2)
  t.regex(bad.stderr, /Expected an output file ending in[^\n]*x\.txt/)
})

test('hints name this CLI and did-you-mean covers tracepoints and PMU events', (t) => {
  const r = cli(['stat', '-e', 'task-clok', '--', 'true'])
  t.regex(r.stderr, /All names: perf-event-open list/)
  t.notRegex(r.stderr, /perf list/)
  const pmu = cli(['stat', '-e', 'softwar/config=1/', '--', 'true'])
  t.is(pmu.status, 2)
  t.regex(pmu.stderr, /Did you mean 'software\/…\/'\?[^\n]*perf-event-open list pmu/)
  if (existsSync('/sys/bus/event_source/devices/msr/events/tsc')) {
    const term = cli(['stat', '-e', 'msr/tssc/', '--', 'true'])
    t.is(term.status, 2)
    t.regex(term.stderr, /Did you mean 'msr\/tsc\/'\?[^\n]*perf-event-open list msr/)
  } else t.log('no msr PMU: PMU-term suggestion not checked')
  if (existsSync('/sys/kernel/tracing/events/syscalls/sys_enter_write/id')) {
    const tp = cli(['stat', '-e', 'syscalls:sys_enter_wrte', '--', 'true'])
    t.is(tp.status, 2)
    t.regex(tp.stderr, /Did you mean 'syscalls:sys_enter_write'[^\n]*perf-event-open list syscalls/)
    t.notRegex(tp.stderr, /sys_enter_brk/)
  } else t.log('tracefs not readable here: tracepoint suggestion not checked')
})

test('list: an empty result says why (exit 1)', (t) => {
  const r = cli(['list', 'zzz-no-such-event'])
  t.is(r.status, 1)
  t.is(r.stdout, '')
  t.regex(r.stderr, /No events match "zzz-no-such-event": the filter is a kind[^\n]*'perf-event-open list' shows every event/)
  const j = cli(['list', 'zzz-no-such-event', '--json'])
  t.is(j.stdout, '[]\n')
  t.is(j.status, 1)
})

testUnless(notRoot('cannot create the test user'))('list: an empty result says why (exit 1) as a regular user who cannot read tracefs', (t) => {
  const mode = existsSync('/sys/kernel/tracing') ? statSync('/sys/kernel/tracing').mode & 0o777 : -1
  const user = freshUser('pe-list')
  t.teardown(() => user.remove())
  const u = withSystemLock(() => spawnSync(process.execPath, [userDist('cli/index.js'), 'list', 'syscalls'], { encoding: 'utf8', uid: user.uid, gid: user.gid, cwd: '/' }))
  if ((mode & 0o005) === 0o005) {
    t.log(`tracefs is world-readable here (mode ${mode.toString(8)}): the user sees the syscalls`)
    t.is(u.status, 0)
  } else {
    t.is(u.status, 1, u.stderr)
    t.is(u.stdout, '')
    t.regex(u.stderr, /No events match "syscalls"[^\n]*(is not readable by this user|tracefs is not mounted)/)
  }
})

test('record checks for the symbolizer before it runs the command (exit 1, the command not run)', (t) => {
  const marker = join(dir, 'ran-symbolizer')
  const r = cli(['record', '-o', join(dir, 'nosym.svg'), '--', 'sh', '-c', `touch ${marker}`], { ...process.env, PERF_EVENT_OPEN_SYMBOLIZE_PATH: join(dir, 'missing.node') })
  t.is(r.status, 1)
  t.regex(r.stderr, /symbolizer addon \(perf-event-open-symbolize\) could not be loaded/)
  t.false(existsSync(marker), 'the command must not run when the profile cannot be symbolized')
  t.notRegex(r.stderr, NO_STACK)
})

testUnless(notRoot('cannot create the test user or set the paranoid level'))('stat as a regular user at paranoid 2 with the default events: :u labels, and context-switches/cpu-migrations say why instead of 0', (t) => {
  const user = freshUser('pe-statu')
  t.teardown(() => user.remove())
  const r = withSystemLock(() => {
    const before = readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim()
    writeFileSync('/proc/sys/kernel/perf_event_paranoid', '2')
    try {
      return spawnSync(process.execPath, [userDist('cli/index.js'), 'stat', '--json', '--', 'sh', '-c', 'exit 0'], { encoding: 'utf8', uid: user.uid, gid: user.gid, cwd: '/' })
    } finally {
      writeFileSync('/proc/sys/kernel/perf_event_paranoid', before)
    }
  })
  t.is(r.status, 0, r.stderr)
  const s = JSON.parse(r.stdout) as { events: { event: string; value: number | null; error?: string }[] }
  const by = new Map(s.events.map((e) => [e.event, e]))
  t.true((by.get('task-clock:u')?.value ?? 0) > 0, JSON.stringify(s.events))
  t.true((by.get('page-faults:u')?.value ?? 0) > 0, JSON.stringify(s.events))
  for (const ev of ['context-switches', 'cpu-migrations']) {
    t.is(by.get(ev)?.value, null, ev)
    t.regex(by.get(ev)?.error ?? '', /EACCES: [^\n]*fires only in kernel mode/, ev)
  }
  t.false(s.events.some((e) => e.event === 'context-switches:u'))
})

test('every subcommand has its own --help: its usage lines, each declared option with its line, the exit codes, on stdout, exit 0', (t) => {
  t.deepEqual(COMMANDS.map((c) => c.name), ['stat', 'record', 'list', 'doctor'])
  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      const r = cli([command.name, flag])
      t.is(r.status, 0, `${command.name} ${flag}: ${r.stderr}`)
      t.is(r.stderr, '')
      const lines = r.stdout.split('\n')
      t.true(lines[0].startsWith(`Usage: perf-event-open ${command.name} [options]`), lines[0])
      t.is(lines.filter((l) => /^(Usage: | {7})perf-event-open /.test(l)).length, command.usage.length, `${command.name}: one usage line per form`)
      for (const [name, o] of Object.entries({ ...command.options, help: { short: 'h', description: '' } })) {
        const line = lines.find((l) => new RegExp(`^  ${o.short ? `-${o.short}, ` : ' {4}'}--${name}\\b`).test(l))
        t.truthy(line, `${command.name} --help lists --${name}`)
        if (o.description) t.true(line?.endsWith(o.description), `${command.name} --${name}: ${line}`)
      }
      t.true(r.stdout.includes(EXIT_CODES_TEXT))
    }
  }
  // The top-level help lists every form of every subcommand.
  const top = cli(['--help']).stdout
  for (const command of COMMANDS) for (const u of command.usage) t.true(top.includes(`  ${[command.name, u.options, u.operands].filter(Boolean).join(' ')}`), `${command.name} ${u.operands}`)
})

test('an unknown command is a usage error (exit 2) that lists every declared command; so does a missing one', (t) => {
  const names = COMMANDS.map((c) => c.name)
  const list = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`
  const r = cli(['frobnicate', '--json'])
  t.is(r.status, 2)
  t.is(r.stdout, '')
  t.is(r.stderr.split('\n')[0], `perf-event-open: Unknown command "frobnicate": expected ${list}`)
  t.regex(r.stderr, /Usage: perf-event-open <command>/)
  t.is(cli([]).stderr.split('\n')[0], `perf-event-open: Expected a command (${list})`)
  // A usage error inside a subcommand shows that subcommand's usage and where its options are described.
  const bad = cli(['doctor', 'extra'])
  t.is(bad.status, 2)
  t.regex(bad.stderr, /Usage: perf-event-open doctor \[options\]\nRun 'perf-event-open doctor --help' for its options\./)
})
