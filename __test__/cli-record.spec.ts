// `perf-event-open record` as a user runs it: the CLI as a subprocess on real Node programs
// (__test__/fixtures/record-*.js), its files read back by independent readers (go tool pprof,
// pprof-format, JSON.parse, gunzip).
import test from 'ava'
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Profile as PprofProfile } from 'pprof-format'
import { FIXTURES, ensureCommand, testUnless, tracefsMounted } from './helpers.ts'

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname
const SHAPE = join(FIXTURES, 'record-shape.js')
const WRITER = join(FIXTURES, 'record-writer.js')
const dir = mkdtempSync(join(tmpdir(), 'pe-record-'))

function record(args: string[]) {
  // cwd: the default output and anything V8 drops go to the test's directory.
  return spawnSync(process.execPath, [CLI, 'record', ...args], { encoding: 'utf8', cwd: dir, timeout: 90_000 })
}

/** Each pprof sample's functions (leaf first: name and file) and values, decoded by pprof-format. */
function pprofSamples(path: string): { types: string[]; samples: { fns: string[]; values: number[] }[] } {
  const p = PprofProfile.decode(gunzipSync(readFileSync(path)))
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)]
  // "^hotA [JS] /path/record-shape.js": the function's name (tier mark, [JS]) and its file.
  const fnName = new Map(p.function.map((f) => [Number(f.id), `${str(f.name)} ${str(f.filename)}`]))
  const locFns = new Map(p.location.map((l) => [Number(l.id), l.line.map((ln) => fnName.get(Number(ln.functionId))!)]))
  return {
    types: p.sampleType.map((st) => `${str(st.type)}/${str(st.unit)}`),
    samples: p.sample.map((s) => ({ fns: s.locationId.flatMap((id) => locFns.get(Number(id)) ?? []), values: s.value.map(Number) })),
  }
}

const NO_STACK = /^\s+at .+:\d+:\d+\)?$/m
/** A JS function of record-shape.js in pprof: V8's tier mark, the name, [JS], the file. */
const js = (name: string) => new RegExp(`^[~^*+]?${name} \\[JS\\] \\S*record-shape\\.js$`)

// Decided when the file loads (installed here when missing, as root), so that a test without its
// reader is reported as skipped.
const goReason = ensureCommand('go', 'golang-go')
const withGo = testUnless(goReason && `go tool pprof: ${goReason}`)
const withTracefs = testUnless(tracefsMounted() ? '' : 'tracefs events are not readable here (not mounted, or root-only; npm test mounts it as root)')

/** One `record` of record-shape.js, made by whichever of the two tests reading it runs first. */
let shapeRecording: { out: string; r: SpawnSyncReturns<string> } | undefined
function recordShape() {
  if (shapeRecording) return shapeRecording
  const out = join(dir, 'shape.pb.gz')
  // A fixed period (250 µs of CPU): in frequency mode each per-CPU event adapts its own period,
  // which skews weights when the command moves between CPUs (see profile.spec.ts).
  const r = record(['-c', '250000', '-o', out, '--', process.execPath, '--no-turbo-inlining', SHAPE, '1500', '7'])
  return (shapeRecording = { out, r })
}

test('record -- node app.js: the whole program, JS frames named (perf map flags added), hotA : hotB is 3 : 1 in pprof-format, exit code passed through', (t) => {
  const { out, r } = recordShape()
  t.log(r.stderr)
  t.is(r.status, 7, 'the command exit code')
  t.notRegex(r.stderr, NO_STACK)
  // The flags were put after node, before the user's own.
  t.regex(r.stderr, /Profile of '\S+ --perf-basic-prof --interpreted-frames-native-stack --no-turbo-inlining \S+record-shape\.js 1500 7'/)
  // The table has units, and says where the file went.
  t.regex(r.stderr, /cpu-clock: [\d ]+ samples, [\d.]+ s\nself: time of the nearest JS function.*\n\s+self\s+self%\s+total\s+total%\s+kind\s+tiers\s+function\n/)
  t.regex(r.stderr, /\d+(\.\d+)? (s|ms)\s+\d+\.\d%\s+[\d.]+ (s|ms)\s+\d+\.\d%\s+js\s+[~^*+]*\s+leaf .*record-shape\.js:\d+$/m)
  t.true(r.stderr.includes(`Wrote ${out} (pprof): `), r.stderr)
  t.regex(r.stderr, / 0 lost/)

  // An independent reader: pprof-format, summing every tier of each function (total: once per sample).
  const { types, samples } = pprofSamples(out)
  t.deepEqual(types, ['samples/count', 'cpu-clock/nanoseconds'])
  const total = (name: string) => samples.filter((s) => s.fns.some((f) => js(name).test(f))).reduce((a, s) => a + s.values[1], 0)
  const ratio = total('hotA') / total('hotB')
  t.log(`pprof-format: hotA ${total('hotA')} ns, hotB ${total('hotB')} ns: ${ratio.toFixed(3)}`)
  t.true(ratio > 2.7 && ratio < 3.3, `ratio ${ratio}`)
})

withGo('record -- node app.js: hotA : hotB is 3 : 1 in go tool pprof -top of the same profile', (t) => {
  const { out, r } = recordShape()
  t.is(r.status, 7, r.stderr)
  const top = execFileSync('go', ['tool', 'pprof', '-top', '-cum', '-sample_index=1', '-unit=ms', '-nodefraction=0', '-nodecount=100000', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  t.regex(top, /Type: cpu-clock/)
  // "  0  0%  90.84%  719.25ms 65.87%  ^hotA [JS]": cum of each tier of hotA and hotB.
  const cum = (name: string) => {
    let ms = 0
    for (const m of top.matchAll(new RegExp(`\\s([\\d.]+)ms\\s+[\\d.]+%\\s+[~^*+]?${name} \\[JS\\]$`, 'gm'))) ms += Number(m[1])
    return ms
  }
  const goRatio = cum('hotA') / cum('hotB')
  t.log(`go tool pprof -top: hotA ${cum('hotA')} ms, hotB ${cum('hotB')} ms: ${goRatio.toFixed(3)}`)
  t.true(cum('hotB') > 0)
  t.true(goRatio > 2.7 && goRatio < 3.3, `ratio ${goRatio}`)
})

withTracefs('record -e syscalls:sys_enter_write -c 1 on a #! node script doing N writes: N samples in the writing function', (t) => {
  const N = 1234
  const out = join(dir, 'writes.pb.gz')
  // The script itself is the command: its #! line runs node, so node is started with the perf map flags.
  const r = record(['-e', 'syscalls:sys_enter_write', '-c', '1', '-o', out, '--', WRITER, String(N)])
  t.is(r.status, 0, r.stderr)
  t.regex(r.stderr, /Profile of '\S*node --perf-basic-prof --interpreted-frames-native-stack \S+record-writer\.js 1234'/)
  t.regex(r.stderr, /syscalls:sys_enter_write: [\d ]+ samples, [\d ]+ syscalls:sys_enter_write events/)
  const { types, samples } = pprofSamples(out)
  t.deepEqual(types, ['samples/count', 'syscalls:sys_enter_write/count'])
  const inWriter = samples.filter((s) => s.fns.some((f) => /^[~^*+]?writer \[JS\] \S*record-writer\.js$/.test(f)))
  const count = inWriter.reduce((a, s) => a + s.values[0], 0)
  const events = inWriter.reduce((a, s) => a + s.values[1], 0)
  t.log(`${count} samples (${events} events) in writer of ${samples.reduce((a, s) => a + s.values[0], 0)} write samples (V8 writes its perf map with write(2) too)`)
  t.is(count, N)
  t.is(events, N)
})

test('record -- sh -c "node app.js": Node started by the command gets the perf map flags through NODE_OPTIONS', (t) => {
  const out = join(dir, 'nested.folded')
  const r = record(['-c', '250000', '-o', out, '--', 'sh', '-c', `"${process.execPath}" --no-turbo-inlining "${SHAPE}" 300; exit 4`])
  t.is(r.status, 4, r.stderr)
  // (The shell has samples too, and no perf map: the profile's warning names its pid.)
  const folded = readFileSync(out, 'utf8').trim().split('\n')
  t.true(folded.some((l) => /(^|;)[~^*+]?hotA [^;]*_\[j\];[~^*+]?leaf /.test(l)), 'hotA and leaf named, as JS')
})

test('record -o picks the format by extension: .folded, .svg, .cpuprofile, .json, .json.gz, .pprof parse', (t) => {
  const files: Record<string, string> = {}
  for (const ext of ['.folded', '.svg', '.cpuprofile', '.json', '.json.gz', '.pprof']) {
    const out = join(dir, `fmt${ext}`)
    const r = record(['-c', '250000', '-n', '3', '-o', out, '--', process.execPath, '--no-turbo-inlining', SHAPE, '200'])
    t.is(r.status, 0, r.stderr)
    t.regex(r.stderr, new RegExp(`Wrote ${out.replace(/\./g, '\\.')} \\(`))
    t.true(existsSync(out), out)
    files[ext] = out
  }
  const folded = readFileSync(files['.folded'], 'utf8').trim().split('\n')
  t.true(folded.length > 0)
  t.true(folded.every((l) => /^\S.* \d+$/.test(l)), 'every line is "frames weight"')
  t.true(folded.some((l) => /(^|;)[~^*+]?hotA [^;]*;[~^*+]?leaf /.test(l)), 'hotA calls leaf')

  const svg = readFileSync(files['.svg'], 'utf8')
  t.regex(svg, /^<\?xml/)
  t.regex(svg, /<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.regex(svg, /<\/svg>\s*$/)
  t.regex(svg, /hotA/)
  t.is((svg.match(/<g>/g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length)

  const cp = JSON.parse(readFileSync(files['.cpuprofile'], 'utf8'))
  t.is(cp.nodes[0].callFrame.functionName, '(root)')
  t.true(cp.nodes.some((n: any) => n.callFrame.functionName === 'hotA' && n.callFrame.url.endsWith('record-shape.js')))
  t.is(cp.samples.length, cp.timeDeltas.length)

  const ff = JSON.parse(readFileSync(files['.json'], 'utf8'))
  t.truthy(ff.meta)
  t.true(Array.isArray(ff.threads) && ff.threads.length > 0)
  const ffz = JSON.parse(gunzipSync(readFileSync(files['.json.gz'])).toString('utf8'))
  t.true(Array.isArray(ffz.threads) && ffz.threads.length > 0)

  const { types, samples } = pprofSamples(files['.pprof'])
  t.deepEqual(types, ['samples/count', 'cpu-clock/nanoseconds'])
  t.true(samples.some((s) => s.fns.some((f) => js('hotA').test(f))))
})

test('record -p pid: every thread of a running Node process until Ctrl-C', async (t) => {
  const out = join(dir, 'pid.pb.gz')
  // The target spins for up to 60 s of its CPU time; it is killed once the profile is written.
  const target = spawn(process.execPath, ['--perf-basic-prof', '--no-turbo-inlining', SHAPE, '60000'], { stdio: 'ignore', cwd: dir })
  await new Promise((r) => target.once('spawn', r))
  const cpuMs = () => {
    const f = readFileSync(`/proc/${target.pid}/stat`, 'utf8')
    const [utime, stime] = f.slice(f.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number)
    return ((utime + stime) * 1000) / 100 // clock ticks (USER_HZ 100)
  }
  try {
    // Wait for the warm-up, so the perf map names hotA and hotB.
    while (cpuMs() < 300) await new Promise((r) => setTimeout(r, 20))
    const cli = spawn(process.execPath, [CLI, 'record', '-p', String(target.pid), '-o', out], { cwd: dir })
    let stderr = ''
    cli.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)))
    while (!stderr.includes('Ctrl-C to stop')) await new Promise((r) => setTimeout(r, 20))
    // Profiled for 500 ms of the target's CPU time (not wall time), then Ctrl-C.
    const start = cpuMs()
    while (cpuMs() < start + 500) await new Promise((r) => setTimeout(r, 20))
    cli.kill('SIGINT')
    const code = await exited
    t.log(stderr)
    t.is(code, 0)
    t.regex(stderr, new RegExp(`Profiling every thread of process ${target.pid} \\(and threads it starts\\); Ctrl-C to stop\\.`))
    t.regex(stderr, new RegExp(`Profile of process ${target.pid}:`))
    t.notRegex(stderr, NO_STACK)
    const { samples } = pprofSamples(out)
    const ns = samples.reduce((a, s) => a + s.values[1], 0)
    t.true(ns >= 4e8, `${ns} ns sampled`)
    t.true(samples.some((s) => s.fns.some((f) => js('hotA').test(f))), 'hotA named from the running process perf map')
    t.is(target.exitCode, null, 'the target still runs')
  } finally {
    target.kill('SIGKILL')
  }
})

test('record -p pid of a process that exits by itself: symbolized after its exit from its mappings and perf map', async (t) => {
  const out = join(dir, 'gone.folded')
  const stopFile = join(dir, 'gone.stop')
  const target = spawn(process.execPath, ['--perf-basic-prof', '--no-turbo-inlining', SHAPE, '60000', '0', stopFile], { stdio: 'ignore', cwd: dir })
  await new Promise((r) => target.once('spawn', r))
  const targetExit = new Promise((r) => target.once('exit', r))
  const cpuMs = () => {
    const f = readFileSync(`/proc/${target.pid}/stat`, 'utf8')
    const [utime, stime] = f.slice(f.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number)
    return ((utime + stime) * 1000) / 100
  }
  try {
    while (cpuMs() < 300) await new Promise((r) => setTimeout(r, 20))
    const cli = spawn(process.execPath, [CLI, 'record', '-p', String(target.pid), '-o', out], { cwd: dir })
    let stderr = ''
    cli.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)))
    while (!stderr.includes('Ctrl-C to stop')) await new Promise((r) => setTimeout(r, 20))
    const start = cpuMs()
    while (cpuMs() < start + 300) await new Promise((r) => setTimeout(r, 20))
    // The target ends by itself; record notices, and writes the profile without a Ctrl-C.
    writeFileSync(stopFile, '')
    await targetExit
    const code = await exited
    t.log(stderr)
    t.is(code, 0)
    t.regex(stderr, new RegExp(`Process ${target.pid} exited before stop\\(\\): symbolized from its mappings and its perf map file`))
    const folded = readFileSync(out, 'utf8').trim().split('\n')
    t.true(folded.some((l) => /(^|;)[~^*+]?hotA [^;]*;[~^*+]?leaf /.test(l)), 'JS frames named from the perf map after the exit')
    t.true(folded.some((l) => /(^|;)node::Start/.test(l)), 'native frames named from the node binary at file offsets')
  } finally {
    target.kill('SIGKILL')
  }
})

test('record: exit code and signal of the command passed through; a missing command is 127', (t) => {
  const out = join(dir, 'exit.folded')
  t.is(record(['-o', out, '--', 'sh', '-c', 'exit 5']).status, 5)
  t.is(record(['-o', out, '--', 'sh', '-c', 'kill -TERM $$']).status, 128 + 15)
  const missing = record(['-o', out, '--', join(dir, 'no-such-command')])
  t.is(missing.status, 127)
  t.regex(missing.stderr, /Could not start .*no-such-command: not found or not executable/)
  t.notRegex(missing.stderr, NO_STACK)
})

test('record: bad input is a clear error with exit code 2, no stack trace, and the command is not run', (t) => {
  const marker = join(dir, 'ran')
  const cmd = ['--', 'sh', '-c', `touch ${marker}`]
  const bad = (args: string[], re: RegExp) => {
    const r = record([...args, ...cmd])
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    t.regex(r.stderr, re)
    t.notRegex(r.stderr, NO_STACK)
  }
  bad(['-e', 'task-clok'], /Unknown event "task-clok".*task-clock/)
  bad(['-e', 'syscalls:no_such_tracepoint'], /syscalls:no_such_tracepoint/)
  bad(['-o', join(dir, 'out.txt')], /Expected an output file ending in \.pb\.gz, \.pprof, .*\.svg for -o but received ".*out\.txt" \(\.txt\)/)
  bad(['-o', join(dir, 'out')], /Expected an output file ending in .* \(no extension\)/)
  bad(['-F', '0'], /Expected a positive integer for -F but received "0"/)
  bad(['-c', '1.5'], /Expected a positive integer for -c but received "1\.5"/)
  bad(['-F', '99', '-c', '10'], /Expected one of -F freq or -c period but received both/)
  bad(['-F', '99999999'], /Expected an integer from 1 to 1000000 for options\.freq/)
  bad(['--kernel', '--no-kernel'], /Expected one of --kernel or --no-kernel but received both/)
  bad(['--bogus'], /Unknown option '--bogus'/)
  bad(['-p', '1'], /Expected either -p pid or -- cmd, not both/)
  t.false(existsSync(marker), 'no command ran')
  const help = spawnSync(process.execPath, [CLI, 'record', '--help'], { encoding: 'utf8' })
  t.is(help.status, 0)
  t.regex(help.stdout, /Usage: perf-event-open record \[options\] -- cmd/)
  t.regex(help.stdout, /--perf-basic-prof/)
})
