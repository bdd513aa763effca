// JS-first answers: `top()` charges time to the nearest JS function (as `node --cpu-prof` does), merges a
// function's tiers, shortens C++ names; the SVG folds native frames between JS frames, fits the window,
// and says the event, a human unit and what every colour means. Ground truth: `node --cpu-prof` of the
// same program (its self time per function), read from the .cpuprofile it writes.
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SaxesParser } from 'saxes'
import { profileCommand } from '../dist/index.js'
import { Profile, ProfileBuilder, type Frame, type LostSamples, type ProfileMeta } from '../dist/profile/model.js'
import { shortCppName } from '../dist/profile/labels.js'
import { FIXTURES, testUnless } from './helpers'

const APP = join(FIXTURES, 'js-first-app.js')
const canProfile = (): string | undefined => {
  const level = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'))
  return process.getuid?.() === 0 || level <= 2 ? undefined : `perf_event_paranoid is ${level} and not root`
}

/**
 * `node --cpu-prof`'s self time per function, in % of its samples. V8 samples at a fixed interval
 * (1 ms); each sample counts once: its time delta is wall time, which on a loaded machine also holds
 * the time the thread waited for a CPU (our profile weighs CPU time), so counts estimate CPU shares better.
 * The fixture's own CPU clock (`cpuMs` → `process.cpuUsage`, which sizes its work) is left out on both
 * sides and the shares taken of the rest: V8's sampler lands on that system call far more often than
 * the thread spends there (seen 6.9–10.9 % in --cpu-prof, under 1 % in our samples).
 */
const HARNESS = /^(cpuUsage|cpuMs)\b/
function cpuProfShares(dir: string): Map<string, number> {
  const [file] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
    samples: number[]
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]))
  const self = new Map<string, number>()
  let all = 0
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i])!
    const w = 1
    all += w
    const key = cf.url ? `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^file:\/\//, '')}:${cf.lineNumber + 1}` : cf.functionName.replace(/^RegExp: /, 'RegExp:')
    if (HARNESS.test(key)) {
      all -= w
      continue
    }
    self.set(key, (self.get(key) ?? 0) + w)
  }
  return new Map([...self].map(([k, v]) => [k, (100 * v) / all]))
}

testUnless(canProfile())('JS-first top(): the app functions’ self shares match node --cpu-prof within 3 points for its top 5', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-jsfirst-'))
  try {
    execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, APP, '3000'], { stdio: 'inherit' })
    const want = cpuProfShares(dir)
    const p = await profileCommand(process.execPath, ['--perf-basic-prof', '--interpreted-frames-native-stack', APP, '3000'], { stdio: 'inherit', cwd: dir })
    const main = p.threads.findIndex((th) => th.tid === p.meta.pid)
    const top = p.top(30, { thread: main })
    t.log(top.table.split('\n').slice(0, 10).join('\n'))
    t.is(top.attribute, 'js')
    const harness = top.rows.filter((r) => HARNESS.test(r.name)).reduce((sum, r) => sum + r.selfPercent, 0)
    const ours = new Map(top.rows.filter((r) => !HARNESS.test(r.name)).map((r) => [r.name, (100 * r.selfPercent) / (100 - harness)]))
    const top5 = [...want].sort((a, b) => b[1] - a[1]).slice(0, 5)
    t.log('--cpu-prof top 5:', top5.map(([k, v]) => `${k} ${v.toFixed(1)}%`).join(', '))
    for (const [name, share] of top5) {
      const got = ours.get(name) ?? 0
      t.true(Math.abs(got - share) <= 3, `${name}: ours ${got.toFixed(1)}% vs --cpu-prof ${share.toFixed(1)}%`)
    }
    // The four app functions (and their native work) lead our table, as they lead --cpu-prof's.
    const names = top.rows.slice(0, 4).map((r) => r.name)
    t.true(names.some((n) => n.startsWith('renderJson ')) && names.some((n) => n.startsWith('processChunkSync node:zlib')) && names.some((n) => n.startsWith('pbkdf2Sync ')), names.join(' | '))
    // One option away: the native breakdown (zlib's longest_match/deflate, V8's JSON serializer, OpenSSL's sha256).
    const byFrame = p.top(10, { thread: main, attribute: 'frame' })
    t.is(byFrame.attribute, 'frame')
    t.true(byFrame.rows.slice(0, 5).every((r) => r.frame.kind !== 'js'), byFrame.table)
    t.false(byFrame.rows.some((r) => r.frame.kind === 'native' && /\(.*\)$/.test(r.name)), 'C++ names without parameter lists')
    t.true(p.top(10, { thread: main, attribute: 'frame', signatures: true }).rows.some((r) => /::\w+.*\(.*\)/.test(r.name)), 'signatures: true keeps them')
    // by total: the main script's top level and Node's bootstrap (on every sample) are left out.
    const total = p.top(5, { by: 'total', thread: main })
    t.true(total.common.length > 0, total.table)
    t.true(total.rows.every((r) => r.totalPercent < 90), total.table)
    t.true(p.top(5, { by: 'total', thread: main, common: true }).rows[0].totalPercent >= 90)
    t.deepEqual(readdirSync(dir).filter((f) => !f.endsWith('.cpuprofile')), [], 'no stray files in cwd')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const newProfile = (...a: [ProfileBuilder, ProfileMeta, LostSamples, string[]]) => new (Profile as unknown as new (...args: typeof a) => Profile)(...a)
const META: ProfileMeta = { event: 'cpu-clock', unit: 'ns', freq: 1000, kernel: true, scope: 'thread', fds: 1, pid: 100, startTime: 0, endTime: 10 }
const js = (tier: string, name: string, line: number): Frame => ({ label: `${tier}${name} /app/x.js:${line}:3`, name, kind: 'js', tier, module: '/tmp/perf-100.map', file: '/app/x.js', line, column: 3 })
const F = {
  start: { label: 'node::Start(int, char**)', name: 'node::Start(int, char**)', kind: 'native', module: '/usr/bin/node' },
  mainI: js('~', 'main', 1),
  hotI: js('~', 'hot', 5),
  hotT: js('*', 'hot', 5),
  entry: { label: 'Builtins_JSEntry', name: 'Builtins_JSEntry', kind: 'builtin', module: '/usr/bin/node' },
  ser: {
    label: 'v8::internal::JsonStringifier::Result v8::internal::JsonStringifier::Serialize_<false>(v8::internal::Handle<v8::internal::Object>, bool)',
    name: 'x',
    kind: 'native',
    module: '/usr/bin/node',
  },
  sys: { label: 'do_syscall_64', name: 'do_syscall_64', kind: 'kernel', module: '[kernel]' },
  gc: { label: 'v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace)', name: 'gc', kind: 'native', module: '/usr/bin/node' },
} satisfies Record<string, Frame>

function fixture(meta: Partial<ProfileMeta> = {}): Profile {
  const b = new ProfileBuilder()
  const th = b.thread(100, 100, () => 'node')
  const stacks: [(keyof typeof F)[], number][] = [
    [['start', 'mainI', 'hotI'], 2],
    [['start', 'mainI', 'entry', 'hotT', 'ser'], 3],
    [['start', 'mainI', 'entry', 'hotT', 'ser', 'sys'], 1],
    [['start', 'mainI'], 1],
    [['start', 'gc'], 3],
  ]
  let time = 0
  for (const [names, n] of stacks) {
    let s = -1
    for (const name of names) s = b.stack(s, b.frame(F[name]))
    for (let i = 0; i < n; i++) b.sample(s, th, (time += 1e6), meta.unit === 'events' ? 1024 : 1e6)
  }
  return newProfile(b, { ...META, ...meta }, { count: 0, source: 'PERF_FORMAT_LOST', records: 0 }, [])
}

test('top(): tiers of one function are one row; native time goes to the nearest JS function; GC without JS frames stays its own row; attribute: frame keeps the leaf view', (t) => {
  const p = fixture()
  const r = p.top(10)
  t.deepEqual(
    r.rows.map((x) => [x.name, x.tiers, x.self / 1e6, x.total / 1e6]),
    [
      ['hot /app/x.js:5', '~*', 6, 6],
      ['v8::internal::Heap::CollectGarbage', '', 3, 3],
      ['main /app/x.js:1', '~', 1, 7],
    ],
  )
  t.regex(r.table, /6\.0 ms +60\.0% +6\.0 ms +60\.0% +js +~\* +hot \/app\/x\.js:5$/m)
  t.regex(r.table, /^cpu-clock: 10 samples, 10\.0 ms$/m)
  const leaf = p.top(10, { attribute: 'frame' }).rows.map((x) => [x.name, x.self / 1e6])
  t.deepEqual(leaf.slice(0, 3), [
    ['v8::internal::JsonStringifier::Serialize_<false>', 3],
    ['v8::internal::Heap::CollectGarbage', 3],
    ['hot /app/x.js:5', 2],
  ])
  t.throws(() => p.top(5, { attribute: 'native' as never }), { instanceOf: TypeError, message: "Expected 'js' or 'frame' for options.attribute but received the string \"native\"" })
  t.throws(() => p.top(5, { signatures: 1 as never }), { instanceOf: TypeError, message: /^Expected a boolean for options\.signatures/ })
  // by total: in the JS view the rows are JS functions and stacks without JS; in the frame view
  // node::Start is on every sample and left out, unless asked for.
  t.deepEqual(p.top(3, { by: 'total' }).rows.map((x) => [x.name, x.total / 1e6]), [['main /app/x.js:1', 7], ['hot /app/x.js:5', 6], ['v8::internal::Heap::CollectGarbage', 3]])
  const total = p.top(3, { by: 'total', attribute: 'frame' })
  t.deepEqual(total.common.map((f) => f.label), ['node::Start(int, char**)'])
  t.deepEqual(total.rows.map((x) => x.name), ['main /app/x.js:1', 'hot /app/x.js:5', 'v8::internal::JsonStringifier::Serialize_<false>'])
  t.regex(total.table, /^1 function on every sample left out \(node::Start; \{ common: true \} keeps them\)$/m)
  t.is(p.top(1, { by: 'total', attribute: 'frame', common: true }).rows[0].name, 'node::Start')
})

test('shortCppName: parameter lists, return types and qualifiers cut; templates, lambdas and odd names kept sane', (t) => {
  t.is(shortCppName('v8::internal::JsonStringifier::Result v8::internal::JsonStringifier::Serialize_<false>(v8::internal::Handle<v8::internal::Object>, bool)'), 'v8::internal::JsonStringifier::Serialize_<false>')
  t.is(shortCppName('node::Start(int, char**)'), 'node::Start')
  t.is(shortCppName('std::vector<int, std::allocator<int> >::push_back(int const&) const'), 'std::vector<int, std::allocator<int> >::push_back')
  t.is(shortCppName('(anonymous namespace)::Foo::run(int)'), '(anonymous namespace)::Foo::run')
  t.is(shortCppName('foo::{lambda(int)#1}::operator()(int) const'), 'foo::{lambda(int)#1}::operator()')
  t.is(shortCppName('longest_match'), 'longest_match')
  t.is(shortCppName('broken(('), 'broken((')
})

function readSvg(svg: string) {
  const parser = new SaxesParser()
  const errors: string[] = []
  const texts: Record<string, string> = {}
  const titles: string[] = []
  let rootAttrs: Record<string, string> = {}
  const open: { name: string; attrs: Record<string, string> }[] = []
  let text = ''
  parser.on('error', (e) => errors.push(e.message))
  parser.on('opentag', (tag) => {
    const attrs = tag.attributes as Record<string, string>
    if (open.length === 0) rootAttrs = attrs
    open.push({ name: tag.name, attrs })
    text = ''
  })
  parser.on('text', (s) => void (text += s))
  parser.on('closetag', (tag) => {
    const { attrs } = open.pop()!
    if (tag.name === 'title') titles.push(text)
    else if (tag.name === 'text' && attrs.id) texts[attrs.id] = text
  })
  parser.write(svg).close()
  return { errors, texts, titles, rootAttrs }
}

const symbolizeBuilt = (): string | undefined => (readdirSync(join(import.meta.dirname, '..', 'symbolize')).some((f) => f.endsWith('.node')) ? undefined : 'the symbolize addon is not built')

testUnless(symbolizeBuilt())('SVG: title with the event and a human unit, a legend for every colour drawn, native frames between JS folded, tiers one box, fits the window', async (t) => {
  const p = fixture()
  const raw = await p.toSvg()
  const svg = readSvg(raw)
  t.deepEqual(svg.errors, [])
  t.is(svg.texts.title, '10.0 ms of cpu-clock')
  // inferno's fluid drawing: boxes in percent, and its script drops the fixed width on load.
  t.regex(raw, /var fluiddrawing = true;/, 'fits the window width')
  t.regex(svg.texts.subtitle, /^10 samples; native frames below and between JS functions folded/)
  t.regex(svg.texts.subtitle, /green: JS of the app/)
  t.regex(svg.texts.subtitle, /yellow: C\+\+/)
  t.regex(svg.texts.subtitle, /orange: kernel/)
  t.notRegex(svg.texts.subtitle, /aqua|purple|red/, 'no colour that is not drawn')
  const boxes = svg.titles.filter((x) => /\(\d/.test(x)).map((x) => x.replace(/ \(.*$/, ''))
  t.true(boxes.includes('hot /app/x.js:5') && !boxes.some((b) => /[~*]hot/.test(b)), boxes.join(' | '))
  t.false(boxes.includes('Builtins_JSEntry'), 'folded: between JS frames')
  t.true(boxes.includes('v8::internal::JsonStringifier::Serialize_<false>'), 'a JS function’s native callee stays, short')
  t.true(boxes.includes('v8::internal::Heap::CollectGarbage'), 'a stack without JS stays whole')
  const fullRaw = await p.toSvg({ full: true, width: 900 })
  const full = readSvg(fullRaw)
  t.is(full.rootAttrs.width, '900')
  t.regex(fullRaw, /var fluiddrawing = false;/)
  const fullBoxes = full.titles.map((x) => x.replace(/ \(.*$/, ''))
  t.true(fullBoxes.includes('Builtins_JSEntry') && fullBoxes.includes('node::Start(int, char**)'), fullBoxes.join(' | '))
  t.regex(full.texts.subtitle, /every frame\. .*red: C, V8 builtins \(Builtins_…\) and other native code/)
  const faults = readSvg(await fixture({ event: 'page-faults', unit: 'events' }).toSvg())
  t.is(faults.texts.title, '10 240 page faults')
})
