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

// Layout written by the native `counterStat`/`groupStat` (src/counter.rs, write_stat): the one decoder.
export const STAT_HEADER = 7
export const STAT_PER_SIBLING = 3
// Flag bits of slot 0 (decoded as a number: no BigInt bit operations on the hot path).
const HAS_TIME_ENABLED = 1
const HAS_TIME_RUNNING = 2
const HAS_ID = 4
const HAS_LOST = 8

/** Slots needed for a read of `members` events. */
export function statSlots(members: number): number {
  return STAT_HEADER + STAT_PER_SIBLING * Math.max(0, members - 1)
}

export function scale(count: bigint, enabled: bigint | undefined, running: bigint | undefined): bigint {
  if (enabled === undefined || running === undefined || running === enabled) return count
  if (running === 0n) return 0n
  return (count * enabled) / running
}

/** Decodes a single counter's read. */
export function decodeStat(b: BigUint64Array): Stat {
  const flags = Number(b[0])
  const count = b[1]
  const timeEnabled = flags & HAS_TIME_ENABLED ? b[2] : undefined
  const timeRunning = flags & HAS_TIME_RUNNING ? b[3] : undefined
  const stat = {
    count,
    timeEnabled,
    timeRunning,
    id: flags & HAS_ID ? b[4] : undefined,
    lostRecords: flags & HAS_LOST ? b[5] : undefined,
    scaled: scale(count, timeEnabled, timeRunning),
    multiplexed: timeEnabled !== undefined && timeRunning !== undefined && timeRunning < timeEnabled,
    neverRan: timeRunning === 0n,
  }
  // The facade always asks for id and both times (options.ts), so the kernel always returns them.
  return stat as Stat
}

/** Decodes a group read (PERF_FORMAT_GROUP) and matches values to members by id. */
export function decodeGroup(b: BigUint64Array, members: readonly { label: string; id: bigint }[]): GroupStat {
  const leader = decodeStat(b)
  const timeEnabled = leader.timeEnabled ?? 0n
  const timeRunning = leader.timeRunning ?? 0n
  const byId = new Map<bigint, { count: bigint; lost?: bigint }>()
  byId.set(leader.id ?? 0n, { count: leader.count, lost: leader.lostRecords })
  const n = Number(b[6])
  for (let i = 0; i < n; i++) {
    const at = STAT_HEADER + i * STAT_PER_SIBLING
    byId.set(b[at + 1], { count: b[at], lost: leader.lostRecords !== undefined ? b[at + 2] : undefined })
  }
  return {
    timeEnabled,
    timeRunning,
    multiplexed: leader.multiplexed,
    neverRan: leader.neverRan,
    members: members.map((m) => {
      const v = byId.get(m.id)
      if (!v) throw new Error(`group read has no value for member ${m.label} (id ${m.id})`)
      const out: MemberStat = { label: m.label, id: m.id, count: v.count, scaled: scale(v.count, timeEnabled, timeRunning) }
      if (v.lost !== undefined) out.lostRecords = v.lost
      return out
    }),
  }
}

// This copy of the facade's stat buffer: native reads write into it, `decode*` read from it.
// Module-level, so it lives as long as this thread's env. The native side holds one registered
// buffer per thread (a reference, checked before each write); another copy of this facade in the
// same thread (a test runner's module registry, a bundler duplicating the package) registers its
// own. Every write sets a flag bit in slot 0, so `readStat` sees when a read went to the other
// copy's buffer, registers this one again and repeats the read.
let statBuffer = new BigUint64Array(64)
let registeredWith: StatBinding | undefined

interface StatBinding {
  setStatBuffer(b: BigUint64Array): void
}

/** Makes this copy's stat buffer hold at least `slots` slots and registers it (once per binding). */
export function ensureStatBuffer(b: StatBinding, slots: number): void {
  if (slots > statBuffer.length) {
    statBuffer = new BigUint64Array(Math.max(slots, statBuffer.length * 2))
    registeredWith = undefined
  }
  if (registeredWith !== b) {
    b.setStatBuffer(statBuffer)
    registeredWith = b
  }
}

/** Runs a native read (`counterStat`/`groupStat` of `handle`) into this copy's buffer and returns it. */
export function readStat(b: StatBinding, read: (handle: number) => number, handle: number): BigUint64Array {
  const buf = statBuffer
  buf[0] = 0n
  let failed = false
  try {
    read(handle)
  } catch {
    failed = true // e.g. the registered buffer was detached: register ours and try once more
  }
  if (failed || buf[0] === 0n) {
    // The read went into another facade copy's buffer (or failed): take the registration back and read again.
    b.setStatBuffer(buf)
    registeredWith = b
    read(handle)
  }
  return buf
}
