// Compiled with `tsc --noEmit` (npm run typecheck): the public types accept what the
// README shows and reject what they must. Each @ts-expect-error is a guard.
import { Counter, CounterGroup, PerfEventError, parseEvent, buildInfo, type EventSpec, type Stat, type GroupStat, type PerfRecord, type RecordOf, type Sampler } from '../../dist/index.js'

const c = new Counter('task-clock')
c.enable()
const s: Stat = c.stat()
const n: bigint = s.count
const scaled: bigint = s.scaled
const multiplexed: boolean = s.multiplexed
void [n, scaled, multiplexed]
// id and both times are always read: not optional.
const always: [bigint, bigint, bigint] = [s.id, s.timeEnabled, s.timeRunning]
void always
// @ts-expect-error they cannot be turned off
new Counter('task-clock', undefined, { statFormat: { id: false } })
new Counter('syscalls:sys_enter_write', { pid: 0, cpu: 'all' }, {})
new Counter({ type: 'breakpoint', access: 'w', addr: 0x1000n, len: 8 })
new Counter({ type: 'uprobe', path: '/bin/true', offset: 0x1234 })
new Counter({ type: 'kprobe', symbol: 'ksys_write', ret: true })
new Counter({ type: 'dynamic', pmu: 'msr', config: 0n }, { pid: 'all', cpu: 0 })
new Counter('cpu-clock', undefined, { sampleOn: { freq: 1000 }, sampleFormat: { userStack: 8, codeAddr: true }, exclude: { kernel: true } })
const g = new CounterGroup('task-clock')
const i: number = g.add('cs', { exclude: { kernel: true } })
const gs: GroupStat = g.stat()
const first: bigint = gs.members[i].count
void first
const spec: EventSpec = { type: 'software', name: 'pageFault' }
void spec
void parseEvent('cycles:u').native
{
  using d = new Counter('task-clock')
  void d
}
try {
  c.close()
} catch (e) {
  if (e instanceof PerfEventError) {
    const code: string = e.code
    const errno: number = e.errno
    void [code, errno]
  }
}

// Sampling: records narrow on `type`; u64 fields are bigints.
const sc = new Counter('cpu-clock', undefined, { sampleOn: { freq: 1000 }, sampleFormat: { userStack: 8, codeAddr: true }, recordIdFormat: { time: true } })
const sampler: Sampler = sc.sampler(8)
for (const r of sampler.drain()) {
  if (r.type === 'sample') {
    const ip: bigint | undefined = r.codeAddr
    const stack: Buffer | undefined = r.userStack
    const time: bigint | undefined = r.recordId.time
    void [ip, stack, time]
  } else if (r.type === 'lostRecords') {
    const lost: bigint = r.lostRecords
    void lost
  }
  const p: 'user' | 'kernel' | 'hv' | 'guestUser' | 'guestKernel' | 'unknown' = r.priv
  void p
}
async function consume(signal: AbortSignal): Promise<number> {
  let n = 0
  for await (const r of sampler.records({ signal })) if (r.type === 'comm') n += r.comm.length
  return n
}
void consume
const one: RecordOf<'fork'> | undefined = undefined as PerfRecord extends infer R ? Extract<R, { type: 'fork' }> | undefined : never
void one
const info: { variant: string; kernel: string; target: string; path: string } = buildInfo()
void info

// @ts-expect-error a sample has no `comm`
for (const r of sampler.drain()) if (r.type === 'sample') void r.comm
// @ts-expect-error exp is a number
sc.sampler('8')
// @ts-expect-error unknown software event name
new Counter({ type: 'software', name: 'cycles' })
// @ts-expect-error breakpoint access must be r, w, rw or x
new Counter({ type: 'breakpoint', access: 'rx', addr: 1n })
// @ts-expect-error sampleOn takes freq or count
new Counter('task-clock', {}, { sampleOn: { hz: 1 } })
// @ts-expect-error pid is a number or 'all'
new Counter('task-clock', { pid: 'self' })
// @ts-expect-error count is a bigint, not a number
const wrong: number = c.stat().count
void wrong
// @ts-expect-error members cannot be pinned
g.add('cs', { pin: true })
// @ts-expect-error sigtrap is not offered
new Counter('task-clock', {}, { sigtrapOnSample: 1n })
// Record fields with a fixed set of values are string unions (native string enums).
declare const rec: PerfRecord
if (rec.type === 'sample') {
  const ctx: 'user' | 'userDeferred' | 'kernel' | 'hv' | 'guest' | 'guestUser' | 'guestKernel' | 'unknown' | undefined = rec.callChain?.[0]?.context
  void ctx
  // @ts-expect-error not a privilege level
  const p: typeof rec.priv = 'root'
  void p
}
if (rec.type === 'ksymbol') {
  const k: 'bpf' | 'outOfLine' | 'unknown' = rec.ksymbolType
  const st: 'reg' | 'unreg' = rec.state
  void [k, st]
}

// Issue 21: freq and period exclude each other; per-thread counts are keyed like totals.
import { profile, profileCommand, ProcessCounter, type ProfileOptions, type ProcessStat } from '../../dist/index.js'
void profile(() => 1, { freq: 99 })
void profile(() => 1, { period: 1000 })
// @ts-expect-error freq and period together
void profile(() => 1, { freq: 99, period: 1000 })
// @ts-expect-error freq and period together (profileCommand too)
void profileCommand('true', [], { freq: 99, period: 1000, stdio: 'ignore' })
void profileCommand('true', [], { period: 1000, stdio: 'ignore', cwd: '/' })
const po: ProfileOptions = { event: 'page-faults', period: 1 }
void po
declare const ps: ProcessStat
const keyedTotal: bigint | undefined = ps.total['task-clock']
const keyedThread: bigint | undefined = ps.threads[0].byEvent['task-clock']
void [keyedTotal, keyedThread]
void ProcessCounter
