#!/usr/bin/env node
// Seeded property fuzz (fast-check) of the public API: events, targets, options, sampler sizes,
// hostile V8 perf maps read by PerfMap.open (a FIFO, symlinks, a directory, malformed lines),
// drain sizes, filters and switchTo. Cases run in child processes so that a crash (a signal)
// is counted, with a heap cap and an RSS/fd bound so that unbounded growth fails.
//
//   node scripts/fuzz.js [--cases 100000] [--seed 1] [--batch 5000] [--json]
//
// Prints cases / crashes / unclear errors / hangs / leaks (RSS growth above 32 MB after warm-up, or fd growth). "Unclear" is anything that is not a
// TypeError or RangeError with a message of this package, or a PerfEventError with a code.
// Exit code 1 when any count is not 0.
'use strict'
const { spawnSync } = require('node:child_process')
const { join } = require('node:path')

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i < 0 ? dflt : args[i + 1]
}
const CHILD = args.includes('--child')
const DIST = join(__dirname, '..', 'dist', 'index.js')

if (CHILD) child(Number(opt('seed', 1)), Number(opt('cases', 1000)), opt('fifo', ''))
else parent()

function parent() {
  const total = Number(opt('cases', 100000))
  const seed = Number(opt('seed', 1))
  const batch = Number(opt('batch', 5000))
  const { mkdtempSync, rmSync } = require('node:fs')
  const { tmpdir } = require('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'pe-fuzz-'))
  const fifo = join(dir, 'fifo')
  spawnSync('mkfifo', [fifo])
  const sum = { cases: 0, calls: 0, crashes: 0, unclear: 0, hangs: 0, leaks: 0, kinds: {}, examples: [] }
  const started = process.cpuUsage()
  try {
    for (let done = 0, b = 0; done < total; done += batch, b++) {
      const n = Math.min(batch, total - done)
      const r = spawnSync(
        process.execPath,
        ['--max-old-space-size=256', '--expose-gc', __filename, '--child', '--seed', String(seed + b), '--cases', String(n), '--fifo', fifo],
        { encoding: 'utf8', timeout: Number(opt('timeout', 600)) * 1000, maxBuffer: 64 << 20 },
      )
      if (r.error && r.error.code === 'ETIMEDOUT') {
        sum.hangs++
        sum.examples.push({ batchSeed: seed + b, hang: true, stderr: String(r.stderr).slice(-2000) })
        continue
      }
      if (r.signal || r.status !== 0) {
        const out = lastJson(r.stdout)
        if (r.signal) sum.crashes++
        else if (!out) sum.crashes++
        sum.examples.push({ batchSeed: seed + b, signal: r.signal, status: r.status, stderr: String(r.stderr).slice(-2000) })
        if (!out) continue
      }
      const out = lastJson(r.stdout)
      if (!out) continue
      sum.cases += out.cases
      sum.calls += out.calls
      sum.unclear += out.unclear.length
      sum.leaks += out.leak ? 1 : 0
      for (const [k, v] of Object.entries(out.kinds)) sum.kinds[k] = (sum.kinds[k] ?? 0) + v
      for (const u of out.unclear.slice(0, 3)) sum.examples.push({ batchSeed: seed + b, ...u })
      if (out.leak) sum.examples.push({ batchSeed: seed + b, leak: out.leak })
      if (!args.includes('--json')) process.stderr.write(`batch ${b}: ${out.cases} cases, ${out.unclear.length} unclear, rss ${out.rssMb.join(' -> ')} MB, fds ${out.fds.join(' -> ')}\n`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const cpu = process.cpuUsage(started)
  sum.childCpuS = Math.round((cpu.user + cpu.system) / 1e4) / 100
  if (args.includes('--json')) console.log(JSON.stringify(sum))
  else {
    console.log(`cases ${sum.cases}, calls ${sum.calls}: crashes ${sum.crashes}, unclear errors ${sum.unclear}, hangs ${sum.hangs}, leaks ${sum.leaks}`)
    console.log(`outcomes: ${JSON.stringify(sum.kinds)}`)
    for (const e of sum.examples.slice(0, 10)) console.log(JSON.stringify(e))
  }
  process.exitCode = sum.crashes || sum.unclear || sum.hangs || sum.leaks ? 1 : 0
}

function lastJson(stdout) {
  const line = String(stdout ?? '').trim().split('\n').pop()
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

function child(seed, cases, fifo) {
  const fc = require('fast-check')
  const pe = require(DIST)
  const { readdirSync } = require('node:fs')
  const { Counter, CounterGroup, PerfEventError, Sampler, parseEvent } = pe
  const PROTO = Object.getOwnPropertyNames(Object.prototype)

  const names = pe.knownEventNames ? pe.knownEventNames() : { hardware: ['cycles'], software: ['task-clock'], cache: ['L1-dcache-loads'] }
  const known = [...names.hardware, ...names.software, ...names.cache]
  const word = fc.oneof(fc.constantFrom(...known, ...PROTO, 'msr', 'tsc', 'sched', 'sched_switch', 'syscalls', 'r1a', 'mem', 'cpu', '..', '.'), fc.string({ maxLength: 12 }))
  const mods = fc.oneof(fc.constant(''), fc.constantFrom(':u', ':k', ':ppp', ':uk', ':H', ':G', ':I', ':z', ':', '::u'), fc.string({ maxLength: 4 }).map((s) => `:${s}`))
  const u64 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(), fc.constantFrom(-1, 1.5, NaN, 2 ** 64, -1n, 1n << 64n, '1', null))
  const hex = fc.bigInt({ min: 0n, max: (1n << 70n) }).map((v) => `0x${v.toString(16)}`)
  const eventString = fc.oneof(
    fc.tuple(fc.constantFrom(...known), mods).map(([n, m]) => n + m),
    fc.tuple(word, mods).map(([n, m]) => n + m),
    fc.tuple(fc.constantFrom('msr', 'software', 'tracepoint', 'breakpoint', 'uprobe', 'kprobe', 'nopmu', ...PROTO), fc.array(fc.oneof(word, fc.tuple(word, hex).map(([k, v]) => `${k}=${v}`)), { maxLength: 5 }), fc.constantFrom('', 'u', 'k', 'x'))
      .map(([p, t, m]) => `${p}/${t.join(',')}/${m}`),
    fc.tuple(fc.constantFrom('sched', 'syscalls', 'irq', 'nosys', ...PROTO), fc.constantFrom('sched_switch', 'sys_enter_write', 'noevent', ...PROTO), mods).map(([a, b, m]) => `${a}:${b}${m}`),
    fc.tuple(hex, fc.constantFrom('', '/1', '/2', '/4', '/8', '/0', '/9'), fc.constantFrom('', ':r', ':w', ':rw', ':x', ':rx', ':q')).map(([a, l, r]) => `mem:${a}${l}${r}`),
    fc.string({ maxLength: 40 }),
    fc.nat({ max: 6000 }).map((n) => `msr/${'tsc,'.repeat(n)}/`),
  )
  const eventObject = fc.record(
    {
      type: fc.constantFrom('hardware', 'software', 'hwCache', 'raw', 'tracepoint', 'breakpoint', 'dynamic', 'kprobe', 'uprobe', 'nope', ...PROTO),
      name: fc.constantFrom('cpuCycle', 'instr', 'taskClock', 'cpuClock', 'pageFault', 'dummy', 'ctxSwitch', 'cgroupSwitch', 'bpfOutput', ...PROTO),
      cache: fc.constantFrom('l1d', 'll', 'node', 'bogus', ...PROTO),
      op: fc.constantFrom('read', 'write', 'prefetch', ...PROTO),
      result: fc.constantFrom('access', 'miss', ...PROTO),
      config: u64,
      config1: u64,
      config3: u64,
      id: u64,
      access: fc.constantFrom('r', 'w', 'rw', 'x', 'q', ...PROTO),
      addr: u64,
      len: fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 0, 9, 1.5),
      pmu: fc.oneof(fc.constantFrom('msr', 'software', 'nopmu', ...PROTO), fc.integer({ min: -2, max: 40 })),
      symbol: fc.constantFrom('do_sys_open', '', 'x'),
      offset: u64,
      ret: fc.constantFrom(true, false, 1),
      // Never a file this process executes: a uprobe at a random offset of running code would corrupt it.
      path: fc.constantFrom('/nonexistent', '', '/etc/hostname', '/dev/null'),
    },
    { requiredKeys: ['type'] },
  )
  const goodEvent = fc.oneof(
    fc.tuple(fc.constantFrom('task-clock', 'cpu-clock', 'page-faults', 'context-switches', 'dummy', 'msr/tsc/', 'sched:sched_switch', 'cycles'), fc.constantFrom('', ':u', ':k')).map(([n, m]) => n + m),
    fc.constantFrom({ type: 'software', name: 'taskClock' }, { type: 'software', name: 'cpuClock' }, { type: 'software', name: 'pageFault' }),
  )
  const event = fc.oneof({ weight: 4, arbitrary: goodEvent }, { weight: 3, arbitrary: eventString }, { weight: 2, arbitrary: eventObject }, { weight: 1, arbitrary: fc.constantFrom(null, undefined, 42, [], {}, () => 1) })
  const target = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(undefined, {}, { pid: 0 }, { pid: process.pid }, { pid: 0, cpu: 0 }, { pid: 'all', cpu: 0 }) },
    fc.record({ pid: fc.constantFrom(0, process.pid, 1, 'all', -1, 0x3fffffff, 1.5, '1', ...PROTO), cpu: fc.constantFrom('all', 0, 1, 9999, -1, 0.5, ...PROTO) }, { requiredKeys: [] }),
    fc.record({ cgroup: fc.constantFrom('/sys/fs/cgroup', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/cpu', '/tmp', '/nonexistent', fifo, '/dev/null', '', ...PROTO), cpu: fc.constantFrom(0, 'all', 1) }, { requiredKeys: ['cgroup'] }),
    fc.constantFrom(undefined, null, 'me', 0, {}),
    fc.dictionary(fc.constantFrom(...PROTO, 'pid', 'cpu', 'tid'), fc.anything({ maxDepth: 1 }), { maxKeys: 2 }),
  )
  const small = fc.oneof(fc.boolean(), fc.constantFrom(0, 1, 8, 64, 4096, 0xffffffff, -1, 1.5, 'x', null), fc.bigInt({ min: 0n, max: 1000n }))
  const nested = (keys) => fc.dictionary(fc.constantFrom(...keys, ...PROTO), small, { maxKeys: 3 })
  const validOptions = fc.record(
    {
      exclude: fc.record({ user: fc.boolean(), kernel: fc.boolean(), hv: fc.boolean() }, { requiredKeys: [] }),
      enable: fc.boolean(),
      inherit: fc.constantFrom('newChild', 'newThread'),
      sampleOn: fc.oneof(fc.record({ count: fc.bigInt({ min: 1n, max: 10_000_000n }) }), fc.record({ freq: fc.integer({ min: 1, max: 200_000 }) })),
      sampleFormat: fc.record(
        {
          period: fc.boolean(),
          codeAddr: fc.boolean(),
          stat: fc.boolean(),
          callChain: fc.record({ excludeKernel: fc.boolean(), maxStackFrames: fc.nat({ max: 200 }) }, { requiredKeys: [] }),
          userStack: fc.constantFrom(0, 8, 4096),
          userRegs: fc.constantFrom(0n, 1n, 0xffn),
        },
        { requiredKeys: [] },
      ),
      extraRecord: fc.record({ task: fc.boolean(), comm: fc.boolean(), ctxSwitch: fc.boolean(), mmap: fc.record({ code: fc.boolean() }) }, { requiredKeys: [] }),
      recordIdAll: fc.boolean(),
      recordIdFormat: fc.record({ id: fc.boolean(), time: fc.boolean(), task: fc.boolean() }, { requiredKeys: [] }),
      wakeUp: fc.record({ on: fc.oneof(fc.record({ samples: fc.nat({ max: 100 }) }), fc.record({ bytes: fc.nat({ max: 4096 }) })) }, { requiredKeys: [] }),
      timer: fc.constantFrom('monotonic', 'bootTime', 'monotonicRaw'),
      statFormat: fc.record({ lostRecords: fc.boolean(), id: fc.boolean() }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  )
  const options = fc.oneof(
    { weight: 4, arbitrary: validOptions },
    fc.record(
      {
        exclude: nested(['user', 'kernel', 'hv', 'host', 'guest', 'idle']),
        inherit: fc.constantFrom('newChild', 'newThread', 'always', ...PROTO),
        onExecve: fc.constantFrom('enable', 'remove', 'x'),
        statFormat: nested(['id', 'timeEnabled', 'timeRunning', 'lostRecords']),
        enable: fc.boolean(),
        sampleOn: fc.oneof(fc.record({ freq: u64 }), fc.record({ count: u64 }), fc.record({ freq: u64, count: u64 }), nested(['freq', 'count'])),
        sampleSkid: fc.constantFrom('arbitrary', 'const', 'reqZero', 'zero', 'x'),
        sampleFormat: fc.oneof(
          nested(['stat', 'period', 'cgroup', 'dataAddr', 'codeAddr', 'raw', 'txn', 'userStack', 'userRegs', 'aux', 'weight']),
          fc.record({ callChain: nested(['excludeUser', 'excludeKernel', 'deferUser', 'maxStackFrames']), lbr: fc.record({ branchType: nested(['any', 'call']) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
        ),
        extraRecord: fc.oneof(nested(['task', 'read', 'comm', 'cgroup', 'ksymbol', 'ctxSwitch', 'namespaces']), fc.record({ mmap: fc.record({ code: fc.boolean(), ext: nested(['buildId']) }, { requiredKeys: [] }) })),
        recordIdAll: fc.boolean(),
        recordIdFormat: nested(['id', 'streamId', 'cpu', 'task', 'time']),
        wakeUp: fc.record({ on: fc.oneof(fc.record({ samples: small }), fc.record({ bytes: small }), nested(['samples', 'bytes'])), onAuxBytes: small }, { requiredKeys: [] }),
        exclusive: fc.boolean(),
        pin: fc.boolean(),
        timer: fc.constantFrom('tai', 'realTime', 'bootTime', 'monotonic', 'monotonicRaw', 'x'),
        sigtrapOnSample: fc.constant(true),
      },
      { requiredKeys: [] },
    ),
    fc.constantFrom(undefined, null, 1, 'x', []),
    fc.dictionary(fc.constantFrom(...PROTO), fc.anything({ maxDepth: 1 }), { maxKeys: 2 }),
  )
  // Samplers stay small: root may lock any amount of memory, and the fuzz shares the machine.
  const exp = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 4 }), fc.constantFrom(31, -1, 1.5, NaN, '2'))
  const drain = fc.oneof(fc.constant(undefined), fc.nat({ max: 100 }), fc.constantFrom(0, 0xffffffff, -1, 2 ** 32, 1.5, NaN, 'x'))
  const extra = fc.oneof(fc.constant(undefined), fc.record({ filter: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('common_pid != 0', 'fdd == 1', 1)) }), fc.record({ switchTo: event }), fc.record({ member: event, memberOptions: options }))
  // Hostile V8 perf maps (issue 16): random and malformed lines (non-hex, negative sizes, bytes that
  // are not UTF-8, control characters), a FIFO, symlinks (to /dev/zero, to a file), a directory, a file
  // over the size cap. PerfMap.open must answer (a map or a warning) at once, never throw or block,
  // and names must come out of escapeControls without a control character.
  const mapLine = fc.oneof(
    fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.string({ unit: 'binary', maxLength: 30 })).map(([a, n, name]) => Buffer.from(`${a.toString(16)} ${n.toString(16)} ${name}`)),
    fc.tuple(fc.nat({ max: 0xffff }), fc.nat({ max: 0x100 }), fc.string({ unit: 'binary', maxLength: 30 })).map(([a, n, name]) => Buffer.from(`${a.toString(16)} ${n.toString(16)} ${name}`)),
    fc.string({ unit: 'binary', maxLength: 40 }).map((t) => Buffer.from(t)),
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    fc.constantFrom('zz12 10 JS:*x', '1000 -10 JS:*y', '0x10 10 z', '1000 10', '1000 10 ', ' 1000 10 a', '1000  10 a', '1000 10 \x1b[31mred\x07').map((t) => Buffer.from(t)),
  )
  const hostileMap = fc.record({
    kind: fc.constantFrom('lines', 'lines', 'lines', 'fifo', 'symlinkZero', 'symlinkFile', 'dir', 'tooBig'),
    lines: fc.array(mapLine, { maxLength: 30 }),
    addrs: fc.array(fc.oneof(fc.nat({ max: 0x10100 }).map(BigInt), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { maxLength: 10 }),
  })
  const map = fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hostileMap })
  const scenario = fc.record({ event, target, options, exp, drain, extra, map })

  const kinds = {}
  const unclear = []
  let calls = 0
  const CLEAR_TYPE = /^(Expected|Unknown|Deno|setFilter)/
  const UNCLEAR_TEXT = /Failed to convert|is not a function|Cannot read propert|Cannot convert|is not iterable|Maximum call stack|undefined is not|null is not/
  function classify(e, c) {
    calls++
    let kind
    if (e === undefined) kind = 'ok'
    else if (e instanceof PerfEventError && typeof e.code === 'string' && e.code) kind = `PerfEventError:${e.code}`
    else if ((e instanceof TypeError || e instanceof RangeError) && !UNCLEAR_TEXT.test(e.message)) kind = e.constructor.name
    else {
      kind = 'unclear'
      if (unclear.length < 20) unclear.push({ error: String(e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e), scenario: show(c) })
    }
    void CLEAR_TYPE
    kinds[kind] = (kinds[kind] ?? 0) + 1
  }
  const attempt = (f, c) => {
    try {
      const r = f()
      classify(undefined, c)
      return r
    } catch (e) {
      classify(e, c)
      return undefined
    }
  }
  function show(c) {
    try {
      return JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'fn' : typeof v === 'string' && v.length > 200 ? `${v.slice(0, 40)}…(${v.length})` : v))
    } catch {
      return String(c)
    }
  }

  const { PerfMap } = require(join(__dirname, '..', 'dist', 'profile', 'perfmap.js'))
  const { escapeControls } = require(join(__dirname, '..', 'dist', 'profile', 'sanitize.js'))
  const fs = require('node:fs')
  const mapDir = fifo ? require('node:path').dirname(fifo) : require('node:os').tmpdir()
  const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
  function runMap(c) {
    const m = c.map
    const path = join(mapDir, `perf-fuzz-${process.pid}.map`)
    const target = join(mapDir, `perf-fuzz-${process.pid}.target`)
    fs.rmSync(path, { force: true, recursive: true })
    const text = Buffer.concat(m.lines.flatMap((l) => [l, Buffer.from('\n')]))
    let open = path
    let maxBytes
    switch (m.kind) {
      case 'lines':
        fs.writeFileSync(path, text)
        break
      case 'tooBig':
        fs.writeFileSync(path, Buffer.concat([text, Buffer.alloc(64, 0x41)]))
        maxBytes = 32
        break
      case 'fifo':
        if (!fifo) return
        open = fifo
        break
      case 'symlinkZero':
        fs.symlinkSync('/dev/zero', path)
        break
      case 'symlinkFile':
        fs.writeFileSync(target, text)
        fs.symlinkSync(target, path)
        break
      case 'dir':
        fs.mkdirSync(path)
        break
    }
    const t0 = Date.now()
    try {
      const r = attempt(() => PerfMap.open(open, { uids: [process.geteuid()], maxBytes }), c)
      if (!r) return
      const refused = m.kind !== 'lines'
      kinds[`perfMap:${m.kind}`] = (kinds[`perfMap:${m.kind}`] ?? 0) + 1
      const problem =
        refused && (r.map !== undefined || !/was not read: /.test(r.warning ?? ''))
          ? `${m.kind}: not refused`
          : !refused && r.map === undefined
            ? 'lines: no map'
            : undefined
      const names = r.map ? attempt(() => r.map.lookupAll(m.addrs), c) : []
      const dirty = (names ?? []).find((n) => n !== undefined && CONTROL.test(escapeControls(n)))
      const slow = Date.now() - t0 > 2000 ? `took ${Date.now() - t0} ms` : undefined
      const why = problem ?? (dirty !== undefined ? `escapeControls left a control character in ${JSON.stringify(dirty)}` : slow)
      if (why && unclear.length < 20) unclear.push({ error: `perf map: ${why}`, scenario: show({ kind: m.kind, lines: m.lines.map((l) => l.toString('hex')), warning: r.warning }) })
      else if (why) unclear.push({ error: `perf map: ${why}` })
    } finally {
      fs.rmSync(path, { force: true, recursive: true })
      fs.rmSync(target, { force: true })
    }
  }

  function run(c) {
    if (c.map) runMap(c)
    if (typeof c.event === 'string') attempt(() => parseEvent(c.event), c)
    const counter = attempt(() => new Counter(c.event, c.target, c.options), c)
    if (!counter) return
    try {
      attempt(() => {
        counter.enable()
        counter.stat()
        counter.disable()
        return counter.fd
      }, c)
      if (c.extra?.filter !== undefined) attempt(() => counter.setFilter(c.extra.filter), c)
      if (c.extra?.switchTo !== undefined) attempt(() => counter.switchTo(c.extra.switchTo), c)
      if (c.exp !== undefined) {
        const s = attempt(() => counter.sampler(c.exp), c)
        if (s) {
          attempt(() => s.drain(c.drain), c)
          attempt(() => [...s].length, c)
          s.close()
        }
      }
    } finally {
      counter.close()
    }
    if (c.extra?.member !== undefined) {
      const g = attempt(() => new CounterGroup(c.event, c.target, c.options), c)
      if (g) {
        try {
          attempt(() => g.add(c.extra.member, c.extra.memberOptions), c)
          attempt(() => (g.enable(), g.stat(), g.disable()), c)
        } finally {
          g.close()
        }
      }
    }
  }

  const fds = () => readdirSync('/proc/self/fd').length
  const rss = () => {
    global.gc?.()
    return Math.round(process.memoryUsage().rss / 2 ** 20)
  }
  attempt(() => new Sampler({}, {}), {})
  const samples = fc.sample(scenario, { seed, numRuns: cases })
  const warm = Math.min(200, Math.floor(cases / 10))
  let rss0 = 0
  let fd0 = 0
  // Finalizers of dropped native objects run when the event loop turns (as in any Node.js app):
  // yield every 100 cases, so that RSS growth means a leak and not pending finalizers.
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  ;(async () => {
    for (let i = 0; i < samples.length; i++) {
      if (i % 100 === 0) await turn()
      if (i === warm) {
        rss0 = rss()
        fd0 = fds()
      }
      run(samples[i])
    }
    await turn()
    const rss1 = rss()
    const fd1 = fds()
    const grow = rss1 - rss0
    const leak = grow > 32 ? `RSS grew ${grow} MB after warm-up` : fd1 > fd0 + 2 ? `fds grew from ${fd0} to ${fd1}` : undefined
    console.log(JSON.stringify({ cases, calls, kinds, unclear, rssMb: [rss0, rss1], fds: [fd0, fd1], leak }))
  })()
}
