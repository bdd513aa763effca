// The facade takes the native module as a parameter: these tests drive it with a fake,
// for the paths a real kernel here cannot take (multiplexing, EACCES, ENOSYS, unsupported options).
import test from 'ava'
import { Counter, PerfEventError } from '../dist/index.js'
import { setBinding, type NativeBinding } from '../dist/loading/binding.js'
import { decodeStat, decodeGroup } from '../dist/handles/stat.js'

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
    // The kernel's layout: value, time_enabled, time_running, id; the last slot gets the bytes read.
    const v = (overrides.stat?.() ?? [100n, 400n, 100n, 9n]) as bigint[]
    buffer.set(v)
    buffer[buffer.length - 1] = BigInt(8 * v.length) | (1n << 32n) // bytes read, and the "written" mark
    return 8 * v.length
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
  setBinding(fake({ stat: () => [0n, 500n, 0n, 9n] }))
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

test('decodeGroup reads the kernel layout by position and checks each id', (t) => {
  // nr, time_enabled, time_running, then (value, id) per member (PERF_FORMAT_GROUP | ID | times).
  const b = new BigUint64Array([3n, 100n, 50n, 10n, 1n, 20n, 2n, 30n, 3n])
  const members = [{ label: 'a', id: 1n }, { label: 'b', id: 2n }, { label: 'c', id: 3n }]
  const g = decodeGroup(b, members, false)
  t.deepEqual(g.members.map((m) => [m.label, m.count, m.scaled]), [['a', 10n, 20n], ['b', 20n, 40n], ['c', 30n, 60n]])
  t.true(g.multiplexed)
  t.throws(() => decodeGroup(b, [members[1], members[0], members[2]], false), { message: /id 1, expected member b/ })
  // With PERF_FORMAT_LOST: (value, id, lost) per member.
  const l = decodeGroup(new BigUint64Array([1n, 5n, 5n, 7n, 1n, 4n]), [members[0]], true)
  t.deepEqual([l.members[0].count, l.members[0].lostRecords, l.neverRan, l.multiplexed], [7n, 4n, false, false])
  // A single counter: value, time_enabled, time_running, id, [lost].
  const s = decodeStat(new BigUint64Array([10n, 100n, 0n, 9n]), false)
  t.deepEqual([s.count, s.id, s.scaled, s.neverRan, s.lostRecords], [10n, 9n, 0n, true, undefined])
})
