import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Counter, PerfEventError, parseEvent } from '../dist/index.js'

test('unknown event names say what was not found and where it looked', (t) => {
  const err = t.throws(() => new Counter('no-such-event'), { instanceOf: PerfEventError })
  t.is(err!.code, 'ERR_UNKNOWN_EVENT')
  t.regex(err!.message, /not a hardware, software or cache event/)
  const tp = t.throws(() => new Counter('nosys:noevent'), { instanceOf: PerfEventError })
  t.is(tp!.code, 'ERR_UNKNOWN_EVENT')
  t.regex(tp!.message, /\/sys\/kernel\/tracing\/events\/nosys\/noevent\/id/)
  const pmu = t.throws(() => new Counter('nopmu/event=1/'), { instanceOf: PerfEventError })
  t.regex(pmu!.message, /no PMU "nopmu" in \/sys\/bus\/event_source\/devices \(present: .*software/)
  const term = t.throws(() => new Counter('msr/bogus/'), { instanceOf: PerfEventError })
  t.regex(term!.message, /no format term or event alias "bogus".*events: .*tsc/)
})

test('bad argument types are TypeErrors naming the field', (t) => {
  t.throws(() => new Counter(42 as never), { instanceOf: TypeError, message: /Expected an event string or an event object for event but received number 42/ })
  t.throws(() => new Counter({ type: 'nope' } as never), { instanceOf: TypeError, message: /for event.type/ })
  t.throws(() => new Counter({ type: 'software', name: 'cycles' } as never), { instanceOf: TypeError, message: /event.name/ })
  t.throws(() => new Counter('task-clock', 'me' as never), { instanceOf: TypeError, message: /for target/ })
  t.throws(() => new Counter('task-clock', { pid: '1' as never }), { instanceOf: TypeError, message: /target.pid/ })
  t.throws(() => new Counter('task-clock', { tid: 1 } as never), { instanceOf: TypeError, message: /Unknown target field tid/ })
  t.throws(() => new Counter('task-clock', {}, { enable: 1 } as never), { instanceOf: TypeError, message: /Expected a boolean for options.enable but received number 1/ })
  t.throws(() => new Counter('task-clock', {}, { statFormat: { ids: true } } as never), { instanceOf: TypeError, message: /Unknown option options.statFormat.ids/ })
  t.throws(() => new Counter('task-clock', {}, { sampleOn: { freq: 1, count: 1 } }), { instanceOf: TypeError, message: /exactly one of freq, count/ })
  t.throws(() => new Counter('task-clock', {}, { inherit: 'always' } as never), { instanceOf: TypeError, message: /options.inherit/ })
  t.throws(() => new Counter('task-clock', {}, { sigtrapOnSample: 1 } as never), { instanceOf: TypeError, message: /SIGTRAP/ })
  t.throws(() => new Counter('cycles:z'), { instanceOf: PerfEventError, code: 'ERR_UNKNOWN_EVENT' } as never)
  t.throws(() => new Counter('mem:0x1000:rx'), { instanceOf: TypeError, message: /execute/ })
  t.throws(() => new Counter('msr/event=0x1ffffffffffffffff/'), { instanceOf: RangeError })
})

test('out-of-range values are RangeErrors naming the field', (t) => {
  t.throws(() => new Counter('task-clock', { pid: -2 }), { instanceOf: RangeError, message: /target.pid/ })
  t.throws(() => new Counter('task-clock', { pid: 'all', cpu: 'all' }), { instanceOf: RangeError, message: /open one counter per CPU/ })
  t.throws(() => new Counter('task-clock', { cgroup: '/sys/fs/cgroup' }), { instanceOf: RangeError, message: /cgroup/ })
  t.throws(() => new Counter({ type: 'raw', config: -1n }), { instanceOf: RangeError, message: /event.config/ })
  t.throws(() => new Counter({ type: 'raw', config: 2 ** 64 }), { instanceOf: RangeError })
  t.throws(() => new Counter({ type: 'breakpoint', access: 'w', addr: 4096, len: 9 as never }), { instanceOf: RangeError, message: /event.len/ })
  t.throws(() => new Counter('task-clock', {}, { sampleFormat: { userStack: -8 } }), { instanceOf: RangeError, message: /options.sampleFormat.userStack/ })
  t.throws(() => new Counter('task-clock', {}, { sampleFormat: { callChain: { maxStackFrames: 70000 } } }), { instanceOf: RangeError })
})

test('kernel refusals become PerfEventError with errno, syscall and hint', (t) => {
  const esrch = t.throws(() => new Counter('task-clock', { pid: 0x3fffffff }), { instanceOf: PerfEventError })
  t.is(esrch!.code, 'ESRCH')
  t.is(esrch!.errno, 3)
  t.is(esrch!.syscall, 'perf_event_open')
  t.regex(esrch!.hint!, /No process or thread with id/)

  const max = 1_000_000_000n
  const einval = t.throws(() => new Counter('cpu-clock', {}, { sampleOn: { freq: max } }), { instanceOf: PerfEventError })
  t.is(einval!.code, 'EINVAL')
  t.regex(einval!.hint!, /perf_event_max_sample_rate/)

  const badcpu = t.throws(() => new Counter('task-clock', { pid: 0, cpu: 100000 }), { instanceOf: PerfEventError })
  t.true(['EINVAL', 'ENODEV', 'ENXIO'].includes(badcpu!.code) || badcpu!.errno > 0)
})

test('a cgroup target outside a perf_event cgroup hierarchy is explained', (t) => {
  const err = t.throws(() => new Counter('task-clock', { cgroup: '/tmp', cpu: 0 }), { instanceOf: PerfEventError })
  t.is(err!.code, 'EBADF')
  t.regex(err!.hint!, /perf_event cgroup hierarchy/)
})

test('use after close throws ERR_CLOSED; close is idempotent', (t) => {
  const c = new Counter('task-clock')
  t.false(c.closed)
  c.close()
  c.close()
  t.true(c.closed)
  for (const call of [() => c.enable(), () => c.disable(), () => c.reset(), () => c.stat(), () => c.id(), () => c.fd, () => c.setFilter('x'), () => c.queryBpf()]) {
    const err = t.throws(call, { instanceOf: PerfEventError })
    t.is(err!.code, 'ERR_CLOSED')
  }
})

test('parseEvent resolves perf-style strings', (t) => {
  t.deepEqual(parseEvent('instructions:u').native, { type: 'hardware', name: 'instr' })
  t.deepEqual(parseEvent('instructions:u').exclude, { user: false, kernel: true, hv: true })
  t.deepEqual(parseEvent('cycles:k').exclude, { user: true, kernel: false, hv: true })
  t.is(parseEvent('cycles:ppp').skid, 'zero')
  t.deepEqual(parseEvent('L1-dcache-load-misses').native, { type: 'hwCache', cache: 'l1d', op: 'read', result: 'miss' })
  t.deepEqual(parseEvent('LLC-stores').native, { type: 'hwCache', cache: 'll', op: 'write', result: 'access' })
  t.deepEqual(parseEvent('dTLB-prefetch-misses').native, { type: 'hwCache', cache: 'dtlb', op: 'prefetch', result: 'miss' })
  t.deepEqual(parseEvent('r003c').native, { type: 'raw', config: 0x3cn })
  t.deepEqual(parseEvent('r1a2b:u').native, { type: 'raw', config: 0x1a2bn })
  t.deepEqual(parseEvent('cs').native, { type: 'software', name: 'ctxSwitch' })
  t.deepEqual(parseEvent('mem:0x1000').native, { type: 'breakpoint', access: 'rw', addr: 0x1000n, len: undefined })
  t.deepEqual(parseEvent('mem:4096/2:w').native, { type: 'breakpoint', access: 'w', addr: 4096n, len: 2 })
  t.deepEqual(parseEvent('mem:0x1000:x').native, { type: 'breakpoint', access: 'x', addr: 0x1000n, len: undefined })
  const tsc = parseEvent('msr/tsc/').native
  t.is(tsc.type, 'dynamic')
  // format/event of msr is config:0-63; tsc alias is event=0x00
  t.deepEqual(parseEvent('msr/event=0x3/u').native, { ...tsc, config: 3n })
  t.deepEqual(parseEvent('msr/event=0x3/u').exclude, { user: false, kernel: true, hv: true })
  t.deepEqual(parseEvent('software/config=2/').native, { type: 'dynamic', pmu: 1, config: 2n, config1: 0n, config2: 0n, config3: 0n })
  const tp = parseEvent('syscalls:sys_enter_write').native
  t.is(tp.type, 'tracepoint')
})

test('every ERR_* code the package throws is in the PerfErrorCode union and in the README list of package codes', (t) => {
  const root = new URL('..', import.meta.url).pathname
  const files = (readdirSync(join(root, 'lib'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'))
  const thrown = new Set<string>()
  for (const f of files) for (const m of readFileSync(join(root, 'lib', f), 'utf8').matchAll(/'(ERR_[A-Z_]+)'/g)) thrown.add(m[1])
  // Node's own (parseArgs) and the native layer's argument code (always turned into a TypeError).
  thrown.delete('ERR_PARSE_ARGS')
  thrown.delete('ERR_INVALID_ARG')
  t.true(thrown.size >= 12, [...thrown].join(' '))
  const union = readFileSync(join(root, 'lib/errors/perf-event-error.ts'), 'utf8').match(/export type PerfErrorCode =([^]*?)\n\n/)![1]
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  for (const code of thrown) {
    t.true(union.includes(`'${code}'`), `${code} in PerfErrorCode`)
    t.true(readme.includes(`\`${code}\``), `${code} in README`)
  }
})
