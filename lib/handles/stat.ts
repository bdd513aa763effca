import { PerfEventError } from '../errors/errors'
import { READ_LAYOUT_HINT } from '../errors/hints'
import type { NativeBinding } from '../loading/loader'

/**
 * The native functions of the hot paths, copied from the binding into a small object once per
 * binding: the module's exports object has too many properties for V8 to inline loads from it.
 */
export type FastCalls = Pick<NativeBinding, 'setStatBuffer' | 'counterStat' | 'counterEnable' | 'counterDisable' | 'counterReset' | 'groupStat' | 'groupEnable' | 'groupDisable' | 'groupReset'>
const fastCache = new WeakMap<object, FastCalls>()

/** This binding's `FastCalls` (made once). */
export function fastCalls(b: NativeBinding): FastCalls {
  let f = fastCache.get(b)
  if (f === undefined) {
    f = {
      setStatBuffer: b.setStatBuffer,
      counterStat: b.counterStat,
      counterEnable: b.counterEnable,
      counterDisable: b.counterDisable,
      counterReset: b.counterReset,
      groupStat: b.groupStat,
      groupEnable: b.groupEnable,
      groupDisable: b.groupDisable,
      groupReset: b.groupReset,
    }
    fastCache.set(b, f)
  }
  return f
}

/** Values of one counter, read with one read(2). */
export interface Stat {
  /** Raw event count. */
  count: bigint
  /** ns the counter was enabled (always read). */
  timeEnabled: bigint
  /** ns the counter was actually on the PMU (always read). */
  timeRunning: bigint
  /** Kernel id of the event (always read). */
  id: bigint
  /** Records lost by this event's sampler (with `statFormat.lostRecords`, Linux 6.0+). */
  lostRecords?: bigint
  /**
   * `count` scaled to the enabled time: `count * timeEnabled / timeRunning`, the usual estimate when
   * the PMU was multiplexed; equals `count` when it ran all the time, `0n` when it never ran.
   */
  scaled: bigint
  /** The counter ran for less time than it was enabled (the PMU was shared): `scaled` is an estimate. */
  multiplexed: boolean
  /** The counter was never on the PMU (`timeRunning` is 0): `count` means nothing. */
  neverRan: boolean
  /**
   * Present (`true`) when the count is of user space only because the kernel refused kernel-mode
   * counting (kernel.perf_event_paranoid 2 without CAP_PERFMON; README "Permissions").
   */
  userSpaceOnly?: true
}

/** Values of one group member, from the group's single read. */
export interface MemberStat {
  /** The member's event as given (string) or described (object). */
  label: string
  /** Kernel id, used to match the member in the group read. */
  id: bigint
  count: bigint
  /** `count` scaled by the group's enabled/running times. */
  scaled: bigint
  /** With `statFormat.lostRecords` (Linux 6.0+). */
  lostRecords?: bigint
  /** Present (`true`) when this member counts user space only (the kernel refused kernel-mode counting; its label ends in `:u`). */
  userSpaceOnly?: true
}

/** One atomic read of a whole group. Members are scheduled together, so they share the times. */
export interface GroupStat {
  timeEnabled: bigint
  timeRunning: bigint
  multiplexed: boolean
  neverRan: boolean
  /** Leader first, then members in the order they were added. */
  members: MemberStat[]
}

// The native `counterStat`/`groupStat` do one read(2) straight into the stat buffer, in the kernel's
// read_format layout. The facade always asks for PERF_FORMAT_TOTAL_TIME_ENABLED | _RUNNING | ID
// (options.ts), and for PERF_FORMAT_LOST with `statFormat.lostRecords`:
//   single counter: value, time_enabled, time_running, id, [lost]
//   group (PERF_FORMAT_GROUP): nr, time_enabled, time_running, then per member: value, id, [lost]
// The last slot of the buffer gets the number of bytes read (see `readStat`).

/** Slots needed for a read of `members` events (plus the bytes-read slot). */
export function statSlots(members: number): number {
  return 3 + 3 * Math.max(1, members) + 2
}

/** Bytes of a single counter's read: value, time_enabled, time_running, id, [lost]. */
export function statBytes(lost: boolean): number {
  return 8 * (lost ? 5 : 4)
}

/** Bytes of a group read of `members` events: nr, time_enabled, time_running, then value, id, [lost] per member. */
export function groupBytes(members: number, lost: boolean): number {
  return 8 * (3 + members * (lost ? 3 : 2))
}

export function scale(count: bigint, enabled: bigint, running: bigint): bigint {
  if (running === enabled) return count
  if (running === 0n) return 0n
  return (count * enabled) / running
}

/**
 * What a read is checked against: its byte count (the kernel's read_format size) and, for a single
 * counter, its id. A read that does not fit (e.g. of a file that took over a closed fd's number)
 * calls `verify`, which throws ERR_FD_REPLACED when a descriptor is not its perf event any more.
 */
export interface ReadCheck {
  bytes: number
  id?: bigint
  /** A group's member ids as u32 words (low, high per member): checked without making BigInts. */
  idWords?: Uint32Array
  verify(): void
}

/** The bytes the last native read put into `b` (the low half of its last slot). */
function bytesRead(b: BigUint64Array): number {
  return b === statBuffer ? statWords[statWords.length - 2] : Number(b[b.length - 1] & 0xffffffffn)
}

/** A read that does not fit its handle: ERR_FD_REPLACED (from `verify`) or ERR_PERF with a hint. */
function badRead(reason: string, check: ReadCheck | undefined): never {
  check?.verify()
  throw new PerfEventError(`read ${reason} (ERR_PERF)`, 'ERR_PERF', { syscall: 'read', hint: READ_LAYOUT_HINT })
}

/** Decodes a single counter's read. */
export function decodeStat(b: BigUint64Array, lost: boolean, check?: ReadCheck): Stat {
  const count = b[0]
  const timeEnabled = b[1]
  const timeRunning = b[2]
  const id = b[3]
  if (check !== undefined) {
    const n = bytesRead(b)
    if (n !== check.bytes) badRead(`returned ${n} bytes, expected ${check.bytes}`, check)
    if (check.id !== undefined && id !== check.id) badRead(`returned id ${id}, expected the counter's id ${check.id}`, check)
  }
  return {
    count,
    timeEnabled,
    timeRunning,
    id,
    lostRecords: lost ? b[4] : undefined,
    scaled: timeRunning === timeEnabled ? count : scale(count, timeEnabled, timeRunning),
    multiplexed: timeRunning < timeEnabled,
    neverRan: timeRunning === 0n,
  }
}

/** Decodes a group read (PERF_FORMAT_GROUP): members by position (the kernel's order), each checked by id. */
export function decodeGroup(b: BigUint64Array, members: readonly { label: string; id: bigint }[], lost: boolean, check?: ReadCheck): GroupStat {
  if (check !== undefined && bytesRead(b) !== check.bytes) badRead(`of the group returned ${bytesRead(b)} bytes, expected ${check.bytes}`, check)
  // Our own buffer: the member count and the ids are compared as u32 words (no BigInt made).
  const words = b === statBuffer ? statWords : undefined
  const n = words !== undefined && words[1] === 0 ? words[0] : Number(b[0])
  const timeEnabled = b[1]
  const timeRunning = b[2]
  if (n !== members.length) badRead(`of the group has ${n} values for ${members.length} members`, check)
  const idWords = words !== undefined && check?.idWords !== undefined && check.idWords.length === 2 * n ? check.idWords : undefined
  const exact = timeRunning === timeEnabled
  const step = lost ? 3 : 2
  const out: MemberStat[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const at = 3 + i * step
    const m = members[i]
    const idOk = idWords !== undefined ? words![2 * at + 2] === idWords[2 * i] && words![2 * at + 3] === idWords[2 * i + 1] : b[at + 1] === m.id
    if (!idOk) badRead(`of the group: value ${i} has id ${b[at + 1]}, expected member ${m.label} (id ${m.id})`, check)
    const count = b[at]
    const v: MemberStat = { label: m.label, id: m.id, count, scaled: exact ? count : scale(count, timeEnabled, timeRunning) }
    if (lost) v.lostRecords = b[at + 2]
    out[i] = v
  }
  return { timeEnabled, timeRunning, multiplexed: timeRunning < timeEnabled, neverRan: timeRunning === 0n, members: out }
}

// This copy of the facade's stat buffer: native reads write into it, `decode*` read from it.
// Module-level, so it lives as long as this thread's env. The native side holds one registered
// buffer per thread (a reference, checked before each write); another copy of this facade in the
// same thread (a test runner's module registry, a bundler duplicating the package) registers its
// own. Every read sets the last slot (bytes read), so `readStat` sees when a read went to the other
// copy's buffer, registers this one again and repeats the read.
let statBuffer = new BigUint64Array(64)
/** The same memory as u32 words: the last slot's halves carry the handle in and the "written" mark out. */
let statWords = new Uint32Array(statBuffer.buffer)
let registeredWith: StatBinding | undefined

interface StatBinding {
  setStatBuffer(b: BigUint64Array): void
}

/** Makes this copy's stat buffer hold at least `slots` slots and registers it (once per binding). */
export function ensureStatBuffer(b: StatBinding, slots: number): void {
  if (slots > statBuffer.length) {
    statBuffer = new BigUint64Array(Math.max(slots, statBuffer.length * 2))
    statWords = new Uint32Array(statBuffer.buffer)
    registeredWith = undefined
  }
  if (registeredWith !== b) {
    b.setStatBuffer(statBuffer)
    registeredWith = b
  }
}

/**
 * Runs a native read (`counterStat`/`groupStat`, no arguments) of `handle` into this copy's buffer
 * and returns it. The handle goes in the low half of the buffer's last slot; the native side sets
 * the high half to 1 once it has read into this buffer.
 */
export function readStat(b: StatBinding, read: () => unknown, handle: number): BigUint64Array {
  const buf = statBuffer
  const words = statWords
  const lo = 2 * (buf.length - 1)
  words[lo] = handle
  words[lo + 1] = 0
  let failed = false
  try {
    read()
  } catch {
    failed = true // e.g. the registered buffer was detached: register ours and try once more
  }
  if (failed || words[lo + 1] !== 1) {
    // The read went into another facade copy's buffer (or failed): take the registration back and read again.
    b.setStatBuffer(buf)
    registeredWith = b
    words[lo] = handle
    words[lo + 1] = 0
    read()
  }
  return buf
}

/**
 * Native switches (`counterEnable`, `groupDisable`, ..., no arguments): `armSwitch(handle)` puts the
 * handle in the low half of the buffer's last slot and 2 ("armed") in its high half; the native side
 * takes an armed handle once (setting the high half to 1) and does nothing when its registered
 * buffer is not armed (another facade copy's). The caller then calls the native function directly
 * (a direct call is V8's fast path for API functions) and passes the outcome to `switchDone`.
 */
export function armSwitch(handle: number): void {
  const words = statWords
  words[words.length - 2] = handle
  words[words.length - 1] = 2
}

/**
 * After a native switch call: `error` is what it threw (or undefined). The handle was taken: the
 * error is the operation's own (ERR_CLOSED, ERR_FD_REPLACED, errno) and is thrown. Else the call went
 * to another copy's buffer (or ours was detached): this copy registers its buffer and calls `run` again.
 */
export function switchDone(b: StatBinding, run: () => unknown, handle: number, threw: boolean, error: unknown): void {
  if (statWords[statWords.length - 1] === 1) {
    if (threw) throw error
    return
  }
  b.setStatBuffer(statBuffer)
  registeredWith = b
  armSwitch(handle)
  run()
}
