// The exports of a fixed profile (two threads, JS/builtin/native/kernel frames, a sample without a
// stack, a name with XML and folded-format metacharacters), each read back by an independent reader:
// pprof by pprof-format, the SVG by an XML parser (saxes), .cpuprofile and Firefox JSON by JSON.parse and a
// walk of their tables. The expected values are written out by hand from the fixture below.
import test from 'ava'
import { gunzipSync } from 'node:zlib'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SaxesParser } from 'saxes'
import { Profile as PprofProfile } from 'pprof-format'
import { Profile, ProfileBuilder, type Frame, type LostSamples, type ProfileMeta } from '../dist/profile/model.js'
import { toFirefox } from '../dist/profile/formats/firefox.js'
import { FORMATS, formatFor, formatsHelp } from '../dist/profile/formats/index.js'
import { PerfEventError } from '../dist/index.js'

const START_MS = 1_700_000_000_000

/** The constructor `Profiler` calls (internal: left out of the published types). */
const newProfile = (...a: [ProfileBuilder, ProfileMeta, LostSamples, string[]]) => new (Profile as unknown as new (...args: typeof a) => Profile)(...a)

const F = {
  start: { label: 'node::Start', name: 'node::Start', kind: 'native', module: '/usr/bin/node' },
  main: { label: '~main /app/x.js:1:10', name: 'main', kind: 'js', tier: '~', module: '/tmp/perf-100.map', file: '/app/x.js', line: 1, column: 10 },
  hot: { label: '*hot /app/x.js:5:3', name: 'hot', kind: 'js', tier: '*', module: '/tmp/perf-100.map', file: '/app/x.js', line: 5, column: 3 },
  map: { label: 'Builtins_ArrayMap', name: 'Builtins_ArrayMap', kind: 'builtin', module: '/usr/bin/node' },
  sys: { label: 'do_syscall_64', name: 'do_syscall_64', kind: 'kernel', module: '[kernel]' },
  vec: { label: 'std::vector<int>::push_back & co;x', name: 'push_back', kind: 'native', module: '/usr/lib/libfoo.so' },
} satisfies Record<string, Frame>
type Name = keyof typeof F

/** Samples in arrival order: thread (0 main, 1 pool), stack root first, time (ns after the first sample). */
const SAMPLES: { thread: 0 | 1; stack: Name[]; time: number }[] = [
  { thread: 0, stack: ['start', 'main', 'hot'], time: 0 },
  { thread: 0, stack: ['start', 'main', 'hot'], time: 1_000_000 },
  { thread: 1, stack: ['vec'], time: 1_500_000 },
  { thread: 0, stack: ['start', 'main', 'hot', 'sys'], time: 2_000_000 },
  { thread: 0, stack: ['start', 'main'], time: 3_000_000 },
  { thread: 1, stack: ['vec'], time: 2_500_000 }, // out of time order: the .cpuprofile sorts
  { thread: 0, stack: ['start', 'main', 'map'], time: 4_000_000 },
  { thread: 0, stack: [], time: 5_000_000 }, // no stack (e.g. a kernel-only sample with kernel frames off)
]

/** A cpu-clock profile at 1 kHz: every sample weighs 1 ms. */
function fixture(): Profile {
  const b = new ProfileBuilder()
  const main = b.thread(100, 100, () => 'node (main)')
  const pool = b.thread(101, 100, () => 'node (libuv pool)')
  for (const s of SAMPLES) {
    let stack = -1
    for (const n of s.stack) stack = b.stack(stack, b.frame(F[n]))
    b.sample(stack, s.thread === 0 ? main : pool, s.time, 1_000_000)
  }
  const meta: ProfileMeta = { event: 'cpu-clock', unit: 'ns', freq: 1000, kernel: true, scope: 'process', fds: 2, pid: 100, startTime: START_MS, endTime: START_MS + 10 }
  return newProfile(b, meta, { count: 0, source: 'PERF_FORMAT_LOST', records: 0 }, ['a warning'])
}

/** A page-faults profile sampled every 100 events (weights: the periods), one thread. */
function eventFixture(): Profile {
  const b = new ProfileBuilder()
  const th = b.thread(7, 7, () => 'app')
  const root = b.stack(-1, b.frame(F.start))
  const touch = b.stack(root, b.frame(F.hot))
  b.sample(touch, th, 0, 100)
  b.sample(root, th, 10, 100)
  b.sample(touch, th, 20, 250)
  const meta: ProfileMeta = { event: 'page-faults', unit: 'events', period: 100, kernel: false, scope: 'thread', fds: 1, pid: 7, startTime: START_MS, endTime: START_MS + 1 }
  return newProfile(b, meta, { count: 3, source: 'PERF_FORMAT_LOST', records: 0 }, [])
}

test('the fixture: 8 samples on 2 threads, 8 ms of cpu-clock', (t) => {
  const p = fixture()
  t.is(p.sampleCount, 8)
  t.is(p.totalWeight, 8_000_000)
  t.deepEqual(p.threads.map((th) => [th.tid, th.name]), [[100, 'node (main)'], [101, 'node (libuv pool)']])
  t.is(p.frames.length, 6)
})

test('folded: one line per stack and thread in first-seen order, weights summed, JS/kernel suffixes, ";" in a name replaced', (t) => {
  const p = fixture()
  t.is(
    p.toFolded(),
    [
      'node (main)-100;node::Start;~main /app/x.js:1:10_[j];*hot /app/x.js:5:3_[j] 2000000',
      'node (libuv pool)-101;std::vector<int>::push_back & co:x 2000000',
      'node (main)-100;node::Start;~main /app/x.js:1:10_[j];*hot /app/x.js:5:3_[j];do_syscall_64_[k] 1000000',
      'node (main)-100;node::Start;~main /app/x.js:1:10_[j] 1000000',
      'node (main)-100;node::Start;~main /app/x.js:1:10_[j];Builtins_ArrayMap 1000000',
      'node (main)-100;[no stack] 1000000',
      '',
    ].join('\n'),
  )
  t.is(
    p.toFolded({ threads: false, annotate: false }),
    [
      'node::Start;~main /app/x.js:1:10;*hot /app/x.js:5:3 2000000',
      'std::vector<int>::push_back & co:x 2000000',
      'node::Start;~main /app/x.js:1:10;*hot /app/x.js:5:3;do_syscall_64 1000000',
      'node::Start;~main /app/x.js:1:10 1000000',
      'node::Start;~main /app/x.js:1:10;Builtins_ArrayMap 1000000',
      '[no stack] 1000000',
      '',
    ].join('\n'),
  )
  // One thread: no thread root by default; weights are the periods.
  t.is(eventFixture().toFolded(), 'node::Start;*hot /app/x.js:5:3_[j] 350\nnode::Start 100\n')
})

/** A pprof profile decoded by pprof-format: samples as leaf-first function names, labels and values. */
function decodePprof(buf: Buffer) {
  const p = PprofProfile.decode(gunzipSync(buf))
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)]
  const fns = new Map(p.function.map((f) => [Number(f.id), { name: str(f.name), systemName: str(f.systemName), filename: str(f.filename), startLine: Number(f.startLine) }]))
  const locs = new Map(p.location.map((l) => [Number(l.id), l.line.map((ln) => ({ fn: fns.get(Number(ln.functionId))!, line: Number(ln.line) }))]))
  const samples = p.sample.map((s) => ({
    stack: s.locationId.flatMap((id) => locs.get(Number(id))!.map((x) => x.fn.name)),
    labels: Object.fromEntries(s.label.map((l) => [str(l.key), str(l.str) || Number(l.num)])),
    values: s.value.map(Number),
  }))
  return {
    p,
    str,
    fns,
    locs,
    samples,
    sampleTypes: p.sampleType.map((st) => `${str(st.type)}/${str(st.unit)}`),
    periodType: p.periodType ? `${str(p.periodType.type)}/${str(p.periodType.unit)}` : undefined,
    comments: p.comment.map(str),
  }
}

test('pprof: decoded by pprof-format, samples merged per stack and thread, functions, lines, period and times', (t) => {
  const d = decodePprof(fixture().toPprof())
  t.deepEqual(d.sampleTypes, ['samples/count', 'cpu-clock/nanoseconds'])
  t.is(d.periodType, 'cpu-clock/nanoseconds')
  t.is(Number(d.p.period), 1_000_000)
  t.is(BigInt(d.p.timeNanos), BigInt(START_MS) * 1_000_000n)
  t.is(Number(d.p.durationNanos), 10_000_000)
  t.deepEqual(d.comments, ['a warning'])
  const main = { thread: 'node (main)', thread_id: 100 }
  const pool = { thread: 'node (libuv pool)', thread_id: 101 }
  const key = (s: { stack: string[]; labels: object }) => JSON.stringify([s.labels, s.stack])
  const got = d.samples.map((s) => ({ ...s, key: key(s) })).sort((a, b) => a.key.localeCompare(b.key))
  const want = [
    { labels: main, stack: ['*hot [JS]', '~main [JS]', 'node::Start'], values: [2, 2_000_000] },
    { labels: pool, stack: ['std::vector<int>::push_back & co;x'], values: [2, 2_000_000] },
    { labels: main, stack: ['do_syscall_64', '*hot [JS]', '~main [JS]', 'node::Start'], values: [1, 1_000_000] },
    { labels: main, stack: ['~main [JS]', 'node::Start'], values: [1, 1_000_000] },
    { labels: main, stack: ['Builtins_ArrayMap', '~main [JS]', 'node::Start'], values: [1, 1_000_000] },
    { labels: main, stack: [], values: [1, 1_000_000] },
  ]
    .map((s) => ({ ...s, key: key(s) }))
    .sort((a, b) => a.key.localeCompare(b.key))
  t.deepEqual(got, want)
  // Functions: JS by name and tier, the V8 label as system name, the script (or ELF file) and line.
  const byName = new Map([...d.fns.values()].map((f) => [f.name, f]))
  t.deepEqual(byName.get('*hot [JS]'), { name: '*hot [JS]', systemName: '*hot /app/x.js:5:3', filename: '/app/x.js', startLine: 5 })
  t.deepEqual(byName.get('do_syscall_64'), { name: 'do_syscall_64', systemName: 'do_syscall_64', filename: '[kernel]', startLine: 0 })
  t.deepEqual(byName.get('node::Start'), { name: 'node::Start', systemName: 'node::Start', filename: '/usr/bin/node', startLine: 0 })
  t.is(d.fns.size, 6)
  const hotLoc = [...d.locs.values()].find((l) => l[0].fn.name === '*hot [JS]')!
  t.is(hotLoc[0].line, 5)

  const e = decodePprof(eventFixture().toPprof())
  t.deepEqual(e.sampleTypes, ['samples/count', 'page-faults/count'])
  t.is(e.periodType, 'page-faults/count')
  t.is(Number(e.p.period), 100)
  t.deepEqual(
    e.samples.map((s) => [s.stack, s.values]),
    [
      [['*hot [JS]', 'node::Start'], [2, 350]],
      [['node::Start'], [1, 100]],
    ],
  )
})

test('.cpuprofile: a node tree from (root), samples in time order, hit counts and time deltas that add up', (t) => {
  const cp = JSON.parse(JSON.stringify(fixture().toCpuProfile())) as ReturnType<Profile['toCpuProfile']>
  const byId = new Map(cp.nodes.map((n) => [n.id, n]))
  t.is(byId.size, cp.nodes.length, 'node ids are unique')
  t.is(cp.nodes[0].id, 1)
  t.is(cp.nodes[0].callFrame.functionName, '(root)')
  const parent = new Map<number, number>()
  for (const n of cp.nodes)
    for (const c of n.children ?? []) {
      t.true(byId.has(c), `child ${c} of ${n.id} exists`)
      t.false(parent.has(c), `node ${c} has one parent`)
      parent.set(c, n.id)
    }
  t.is(parent.size, cp.nodes.length - 1, 'every node but the root has a parent')
  // Hit counts are the samples that end in each node: the 8 samples and 5 (idle) ones.
  t.is(cp.samples.length, 13)
  for (const n of cp.nodes)
    t.is(
      n.hitCount,
      cp.samples.filter((s) => s === n.id).length,
      `hitCount of ${n.id}`,
    )
  // One root per thread below (root), and (idle); samples in time order, each the stack of its sample.
  t.deepEqual(
    cp.nodes[0].children!.map((c) => byId.get(c)!.callFrame.functionName),
    ['(idle)', 'node (main) [tid 100]', 'node (libuv pool) [tid 101]'],
  )
  const stackOf = (id: number) => {
    const out: string[] = []
    for (let n = id; n !== 1; n = parent.get(n)!) out.unshift(byId.get(n)!.callFrame.functionName)
    return out
  }
  const main = 'node (main) [tid 100]'
  const pool = 'node (libuv pool) [tid 101]'
  t.deepEqual(cp.samples.map(stackOf), [
    [main, 'node::Start', 'main', 'hot'],
    [main, 'node::Start', 'main', 'hot'],
    [pool, 'std::vector<int>::push_back & co;x'],
    [main, 'node::Start', 'main', 'hot', 'do_syscall_64 [kernel]'],
    [pool, 'std::vector<int>::push_back & co;x'],
    [main, 'node::Start', 'main'],
    [main, 'node::Start', 'main', 'Builtins_ArrayMap'],
    [main],
    ...Array(5).fill(['(idle)']),
  ])
  // Times in µs: a clock sample starts where its period (1 ms) began (the first at the start: its
  // period began before it); the 5 ms after the last one, where no thread ran, are (idle) at 1 kHz.
  // The deltas add up to the span but the last sample, which lasts until endTime.
  t.deepEqual(cp.timeDeltas, [0, 0, 500, 500, 500, 500, 1000, 1000, 1000, 1000, 1000, 1000, 1000])
  t.is(
    cp.timeDeltas.reduce((a, b) => a + b, 0),
    9000,
  )
  t.is(cp.startTime, START_MS * 1000)
  t.is(cp.endTime, START_MS * 1000 + 10_000)
  // Call frames: JS by name with its script (a file:// url, one scriptId per script) and 0-based line/column; others by label and file.
  const frame = (name: string) => cp.nodes.find((n) => n.callFrame.functionName === name)!.callFrame
  t.deepEqual(frame('hot'), { functionName: 'hot', scriptId: '1', url: 'file:///app/x.js', lineNumber: 4, columnNumber: 2 })
  t.deepEqual(frame('node::Start'), { functionName: 'node::Start', scriptId: '0', url: '/usr/bin/node', lineNumber: -1, columnNumber: -1 })
  t.deepEqual(frame('do_syscall_64 [kernel]'), { functionName: 'do_syscall_64 [kernel]', scriptId: '0', url: '[kernel]', lineNumber: -1, columnNumber: -1 })
})

interface FxThread {
  name: string
  tid: string
  pid: string
  processName: string
  stringArray: string[]
  samples: { length: number; stack: (number | null)[]; timeDeltas: number[]; weight: number[] | null; weightType: string }
  stackTable: { length: number; prefix: (number | null)[]; frame: number[] }
  frameTable: { length: number; func: number[]; category: number[] }
  funcTable: { length: number; name: number[]; isJS: boolean[]; fileName: (number | null)[]; lineNumber: (number | null)[]; columnNumber: (number | null)[] }
}

test('Firefox Profiler JSON: threads as threads, each stack rebuilt from its tables, times, weights and categories', async (t) => {
  const fx = JSON.parse(await toFirefox(fixture(), 'fixture app')) as { meta: { product: string; startTime: number; interval: number; categories: { name: string }[] }; threads: FxThread[] }
  t.is(fx.meta.product, 'fixture app')
  t.is(fx.meta.startTime, START_MS)
  t.is(fx.meta.interval, 1)
  t.deepEqual(
    fx.threads.map((th) => [th.name, th.tid, th.pid, th.processName]),
    [
      // One process per pid, named after it (`node (main)` without the role); its main thread shown under that name.
      ['node', '100', '100', 'node'],
      ['node (libuv pool)', '101', '100', 'node'],
    ],
  )
  /** Each sample of a thread: time (ms), weight, stack (root first) as [name, category, isJS]. */
  const read = (th: FxThread) => {
    t.is(th.stackTable.prefix.length, th.stackTable.length)
    t.is(th.frameTable.func.length, th.frameTable.length)
    t.is(th.funcTable.name.length, th.funcTable.length)
    let time = 0
    return th.samples.stack.map((leaf, i) => {
      time += th.samples.timeDeltas[i]
      const stack: [string, string, boolean][] = []
      for (let s = leaf; s !== null; s = th.stackTable.prefix[s]) {
        const fr = th.stackTable.frame[s]
        const fn = th.frameTable.func[fr]
        stack.unshift([th.stringArray[th.funcTable.name[fn]], fx.meta.categories[th.frameTable.category[fr]].name, th.funcTable.isJS[fn]])
      }
      return { time, weight: th.samples.weight?.[i] ?? 1, stack }
    })
  }
  const start: [string, string, boolean] = ['node::Start', 'Native', false]
  const main: [string, string, boolean] = ['~main /app/x.js:1:10', 'JavaScript', true]
  const hot: [string, string, boolean] = ['*hot /app/x.js:5:3', 'JavaScript', true]
  // Functions carry their file, line and column (through the string table), as the Firefox Profiler reads them.
  const src = (th: FxThread, name: string) => {
    const f = th.funcTable.name.findIndex((k) => th.stringArray[k] === name)
    const file = th.funcTable.fileName[f]
    return [file === null ? null : th.stringArray[file], th.funcTable.lineNumber[f], th.funcTable.columnNumber[f]]
  }
  t.deepEqual(src(fx.threads[0], hot[0]), ['/app/x.js', 5, 3])
  t.deepEqual(src(fx.threads[0], main[0]), ['/app/x.js', 1, 10])
  t.deepEqual(src(fx.threads[0], 'node::Start'), [null, null, null])
  t.is(fx.threads[0].samples.length, 6)
  t.deepEqual(read(fx.threads[0]), [
    { time: 0, weight: 1, stack: [start, main, hot] },
    { time: 1, weight: 1, stack: [start, main, hot] },
    { time: 2, weight: 1, stack: [start, main, hot, ['do_syscall_64 [kernel]', 'Kernel', false]] },
    { time: 3, weight: 1, stack: [start, main] },
    { time: 4, weight: 1, stack: [start, main, ['Builtins_ArrayMap', 'V8 builtin', false]] },
    { time: 5, weight: 1, stack: [] },
  ])
  t.deepEqual(read(fx.threads[1]), [
    { time: 1.5, weight: 1, stack: [['std::vector<int>::push_back & co;x', 'Native', false]] },
    { time: 2.5, weight: 1, stack: [['std::vector<int>::push_back & co;x', 'Native', false]] },
  ])

  // Not a clock: each sample weighs its period.
  const ev = JSON.parse(await toFirefox(eventFixture(), 'events')) as { threads: FxThread[] }
  t.deepEqual(
    read(ev.threads[0]).map((s) => [s.weight, s.stack.map((f) => f[0])]),
    [
      [100, ['node::Start', '*hot /app/x.js:5:3']],
      [100, ['node::Start']],
      [250, ['node::Start', '*hot /app/x.js:5:3']],
    ],
  )
})

/**
 * The SVG read by saxes (a conforming XML parser: any well-formedness error is collected): the
 * `<text>` elements by id, the frames group's total, and each frame box's `<title>` and `<rect>`.
 */
function readSvg(svg: string) {
  const parser = new SaxesParser()
  const errors: string[] = []
  const texts: Record<string, string> = {}
  const boxes: { title: string; rect: Record<string, string> }[] = []
  const open: { name: string; attrs: Record<string, string> }[] = []
  let total: string | undefined
  let inFrames = false
  let box: { title: string; rect: Record<string, string> } | undefined
  let text = ''
  parser.on('error', (e) => errors.push(e.message))
  parser.on('opentag', (tag) => {
    const attrs = tag.attributes as Record<string, string>
    open.push({ name: tag.name, attrs })
    text = ''
    if (tag.name === 'svg' && attrs.id === 'frames') {
      inFrames = true
      total = attrs.total_samples
    } else if (tag.name === 'g' && inFrames) box = { title: '', rect: {} }
    else if (tag.name === 'rect' && box) box.rect = attrs
  })
  parser.on('text', (s) => void (text += s))
  parser.on('closetag', (tag) => {
    const { attrs } = open.pop()!
    if (tag.name === 'title' && box) box.title = text
    else if (tag.name === 'text' && !box && attrs.id) texts[attrs.id] = text
    else if (tag.name === 'g' && box) {
      boxes.push(box)
      box = undefined
    } else if (tag.name === 'svg' && inFrames) inFrames = false
  })
  parser.write(svg).close()
  return { errors, texts, total, boxes }
}

test('SVG flame graph: well-formed XML; each frame box has its function, weight and share, inside its caller; JS green, kernel orange', async (t) => {
  // Every frame as sampled (the JS-first default is in js-first.spec.ts).
  const svg = readSvg(await fixture().toSvg({ full: true }))
  t.deepEqual(svg.errors, [], 'saxes finds the SVG well-formed')
  t.is(svg.texts.title, '8.0 ms of cpu-clock')
  t.is(svg.texts.subtitle, '8 samples; every frame. green: JS of the app (file path), yellow: C++, red: C, V8 builtins (Builtins_…) and other native code, orange: kernel')
  t.is(Number(svg.total), 8_000_000)
  const boxes = svg.boxes.map((g) => {
    const m = /^(.*) \(([\d,]+) ns, ([\d.]+)%\)$/.exec(g.title)
    if (!m) throw new Error(`title ${g.title}`)
    return { name: m[1], weight: Number(m[2].replace(/,/g, '')), percent: Number(m[3]), x: Number(g.rect['fg:x']), w: Number(g.rect['fg:w']), y: Number(g.rect.y), widthPct: parseFloat(g.rect.width), fill: g.rect.fill }
  })
  // Function → weight (a function at two depths or under two parents appears once per box).
  const weights: Record<string, number> = {}
  for (const b of boxes) weights[b.name] = (weights[b.name] ?? 0) + b.weight
  t.deepEqual(weights, {
    all: 8_000_000,
    'node (main)-100': 6_000_000,
    'node (libuv pool)-101': 2_000_000,
    'node::Start': 5_000_000,
    '~main /app/x.js:1:10': 5_000_000,
    '*hot /app/x.js:5:3': 3_000_000,
    do_syscall_64: 1_000_000,
    Builtins_ArrayMap: 1_000_000,
    'std::vector<int>::push_back & co:x': 2_000_000,
    '[no stack]': 1_000_000,
  })
  const all = boxes.find((b) => b.name === 'all')!
  for (const b of boxes) {
    t.is(b.w, b.weight, b.name)
    t.true(Math.abs(b.percent - (100 * b.weight) / 8_000_000) < 0.01, `${b.name}: ${b.percent} %`)
    t.true(Math.abs(b.widthPct - (100 * b.weight) / 8_000_000) < 0.001, `${b.name}: width ${b.widthPct} %`)
    if (b === all) continue
    // Its caller is the box one row below (16 px) whose range holds it.
    const callers = boxes.filter((c) => c.y === b.y + 16 && c.x <= b.x && b.x + b.w <= c.x + c.w)
    t.is(callers.length, 1, `${b.name} sits on one caller`)
  }
  const rgb = (fill: string) => /^rgb\((\d+),(\d+),(\d+)\)$/.exec(fill)!.slice(1).map(Number)
  for (const name of ['~main /app/x.js:1:10', '*hot /app/x.js:5:3']) {
    const [r, g, b] = rgb(boxes.find((x) => x.name === name)!.fill)
    t.true(g > r && g > b, `${name} is green: ${r},${g},${b}`)
  }
  const [r, g, b] = rgb(boxes.find((x) => x.name === 'do_syscall_64')!.fill)
  t.true(r > g && g > b, `the kernel frame is orange: ${r},${g},${b}`)
})

/**
 * Each format's file read back by that format's reader: what `Profile.write()` writes for every
 * registered extension. A format added to the registry without a reader here fails this test.
 */
const READERS: Record<string, (file: Buffer, extension: string) => unknown> = {
  pprof: (b) => decodePprof(b).samples.map((s) => s.values[0]).reduce((a, c) => a + c, 0),
  firefox: (b, ext) => (JSON.parse((ext.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8')) as { threads: FxThread[] }).threads.reduce((a, th) => a + th.samples.length, 0),
  // The profile's samples: all but the `(idle)` ones that fill the timeline where no thread ran.
  cpuprofile: (b) => {
    const cp = JSON.parse(b.toString('utf8')) as ReturnType<Profile['toCpuProfile']>
    const idle = cp.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id
    return cp.samples.filter((s) => s !== idle).length
  },
  folded: (b) =>
    b
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .reduce((a, line) => a + Number(/ (\d+)$/.exec(line)![1]) / 1_000_000, 0),
  svg: (b) => {
    const svg = readSvg(b.toString('utf8'))
    if (svg.errors.length) throw new Error(svg.errors.join('; '))
    return Number(svg.total) / 1_000_000
  },
}

test('the format registry: every extension of every format writes a file its reader accepts, with all 8 samples', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'pe-formats-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  const p = fixture()
  t.deepEqual(Object.keys(READERS).sort(), FORMATS.map((f) => f.name).sort(), 'one reader per registered format')
  for (const f of FORMATS)
    for (const ext of f.extensions) {
      const path = join(out, `profile${ext}`)
      await p.write(path)
      t.is(READERS[f.name](readFileSync(path), ext), 8, `${f.name} (${ext}) reads back 8 samples`)
    }
  t.is(readdirSync(out).length, FORMATS.reduce((n, f) => n + f.extensions.length, 0))
  await t.throwsAsync(() => p.write(join(out, 'x.txt')), { instanceOf: RangeError, message: 'Expected a path ending in .pb.gz, .pprof, .json, .json.gz, .cpuprofile, .folded or .svg for path but received the string "' + join(out, 'x.txt') + '"' })
  t.is(readdirSync(out).length, FORMATS.reduce((n, f) => n + f.extensions.length, 0), 'a refused path leaves no file')
})

test('formatFor picks the longest extension that ends a file name; formatsHelp lists one line per format', (t) => {
  const pick = (path: string) => {
    const f = formatFor(path)
    return f && `${f.format.name} ${f.extension}`
  }
  t.is(pick('/tmp/a.json.gz'), 'firefox .json.gz')
  t.is(pick('a.fx.json'), 'firefox .json')
  t.is(pick('p.pb.gz'), 'pprof .pb.gz')
  t.is(pick('p.pprof'), 'pprof .pprof')
  t.is(pick('x.folded'), 'folded .folded')
  t.is(pick('.svg'), undefined)
  t.is(pick('/tmp/.svg'), undefined)
  t.is(pick('x.gz'), undefined)
  t.is(pick('x.txt'), undefined)
  const help = formatsHelp('  ').split('\n')
  t.is(help.length, FORMATS.length)
  t.is(help[0], '  .pb.gz, .pprof       pprof (go tool pprof, Pyroscope, Parca, Grafana)')
  t.is(help[1], '  .json, .json.gz      Firefox Profiler (profiler.firefox.com)')
})

test('the symbolizer addon refusing its input is a PerfEventError ERR_SYMBOLIZER_FAILED with the step, the cause and a hint', async (t) => {
  // A sample whose stack id is past the stack table: the Firefox writer in the addon refuses it.
  const b = new ProfileBuilder()
  b.sample(5, b.thread(1, 1, () => 'x'), 0, 1)
  const meta: ProfileMeta = { event: 'cpu-clock', unit: 'ns', freq: 1000, kernel: false, scope: 'thread', fds: 1, pid: 1, startTime: START_MS, endTime: START_MS + 1 }
  const bad = newProfile(b, meta, { count: 0, source: 'PERF_FORMAT_LOST', records: 0 }, [])
  const e = await t.throwsAsync(() => bad.toFirefox(), { instanceOf: PerfEventError, code: 'ERR_SYMBOLIZER_FAILED' })
  t.regex(e!.message, /failed while writing the Firefox Profiler JSON: .*stack id out of range/)
  t.true(e!.cause instanceof Error)
  t.regex(e!.hint!, /The samples are intact: write another format \(\.pb\.gz/)
})
