// The facade takes the native module as a parameter: these tests drive it with a fake,
// for the paths a real kernel here cannot take (multiplexing, EACCES, ENOSYS, unsupported options).
import test from 'ava'
import { Counter, PerfEventError } from '../dist/index.js'
import { setBinding, type NativeBinding } from '../dist/binding.js'
import { decodeStat, decodeGroup } from '../dist/stat.js'

function nativeError(code: string, errno: number, op: string, text: string) {
  return Object.assign(new Error(`${op}|${errno}|${text}`), { code })
}

function fake(overrides: Partial<Record<'open' | 'stat', () => unknown>>, buildLinux = '7.0'): NativeBinding {
  let buffer = new BigUint64Array(0)
  class NativeCounter {
    handle = 0
    constructor() {
      overrides.open?.()
    }
    enable() {}
    disable() {}
    reset() {}
    close() {}
    id() { return 9n }
  }
  const counterStat = () => {
    const v = (overrides.stat?.() ?? [7n, 100n, 400n, 100n, 9n, 0n, 0n]) as bigint[]
    buffer.set(v)
    return v.length
  }
  const setStatBuffer = (b: BigUint64Array) => (buffer = b)
  return { NativeCounter, counterStat, setStatBuffer, buildLinux: () => buildLinux } as unknown as NativeBinding
}

test.afterEach.always(() => setBinding(undefined))

test.serial('stat scales a multiplexed counter and flags it', (t) => {
  setBinding(fake({}))
  const s = new Counter('task-clock').stat()
  t.is(s.count, 100n)
  t.is(s.scaled, 400n)
  t.true(s.multiplexed)
  t.false(s.neverRan)
})

test.serial('a counter that never ran is flagged and scales to 0', (t) => {
  setBinding(fake({ stat: () => [7n, 0n, 500n, 0n, 9n, 0n, 0n] }))
  const s = new Counter('task-clock').stat()
  t.true(s.neverRan)
  t.true(s.multiplexed)
  t.is(s.scaled, 0n)
})

test.serial('EACCES hint reads perf_event_paranoid and names CAP_PERFMON', (t) => {
  setBinding(fake({ open: () => { throw nativeError('EACCES', 13, 'perf_event_open', 'Permission denied (os error 13)') } }))
  const err = t.throws(() => new Counter('cycles'), { instanceOf: PerfEventError })
  t.is(err!.code, 'EACCES')
  t.is(err!.errno, 13)
  t.regex(err!.hint!, /perf_event_paranoid is -?\d/)
  t.regex(err!.hint!, /CAP_PERFMON/)
  t.regex(err!.message, /perf_event_open failed for cycles: Permission denied \(EACCES\)/)
})

test.serial('ENOSYS hint names qemu-user and seccomp', (t) => {
  setBinding(fake({ open: () => { throw nativeError('ENOSYS', 38, 'perf_event_open', 'Function not implemented') } }))
  const err = t.throws(() => new Counter('task-clock'), { instanceOf: PerfEventError })
  t.regex(err!.hint!, /qemu-user/)
  t.regex(err!.hint!, /seccomp/)
})

test.serial('an option the build lacks names the Linux version it needs', (t) => {
  setBinding(fake({ open: () => { throw nativeError('ERR_UNSUPPORTED_BY_BUILD', 0, 'event', 'unsupported') } }, '4.18'))
  const err = t.throws(() => new Counter('task-clock', {}, { inherit: 'newThread', statFormat: { lostRecords: true } }), { instanceOf: PerfEventError })
  t.is(err!.code, 'ERR_UNSUPPORTED_BY_BUILD')
  t.regex(err!.hint!, /perf ABI of Linux 4\.18/)
  t.regex(err!.hint!, /the linux-5\.15 variant has it: PERF_EVENT_OPEN_VARIANT=linux-5\.15/)
  t.regex(err!.hint!, /inherit "newThread" needs Linux 5\.13/)
  t.regex(err!.hint!, /statFormat\.lostRecords needs Linux 6\.0/)
})

test('decodeGroup matches values by id, whatever the order', (t) => {
  const b = new BigUint64Array([7n, 10n, 100n, 50n, 1n, 0n, 2n, 30n, 3n, 0n, 20n, 2n, 0n])
  const g = decodeGroup(b, [{ label: 'a', id: 1n }, { label: 'b', id: 2n }, { label: 'c', id: 3n }])
  t.deepEqual(g.members.map((m) => [m.label, m.count, m.scaled]), [['a', 10n, 20n], ['b', 20n, 40n], ['c', 30n, 60n]])
  t.true(g.multiplexed)
  t.is(decodeStat(b).count, 10n)
})
