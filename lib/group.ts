import type { NativeGroup, NativeTarget } from '../index'
import { binding } from './binding'
import { fromNative, typeError, type ErrorContext } from './errors'
import { Handle } from './handle'
import { resolveEvent, type EventInput } from './events'
import { leaderOptions, memberOptions, resolveTarget, type CounterOptions, type MemberOptions, type Target } from './options'
import { contextFor } from './since'
import { decodeGroup, ensureStatBuffer, groupBytes, readStat, armSwitch, switchDone, fastCalls, statSlots, type FastCalls, type GroupStat, type ReadCheck } from './stat'
import type { NativeBinding } from './binding'

/** A member of a group. */
export interface GroupMember {
  /** The event as given (string) or described (object). */
  readonly label: string
  /** Kernel id: how the group read is matched to members. */
  readonly id: bigint
}

/**
 * Events scheduled onto the PMU as a unit and read atomically with one read(2):
 * their values are comparable (ratios such as IPC are meaningful).
 *
 * ```ts
 * using g = new CounterGroup('task-clock')
 * g.add('page-faults')
 * const { members } = g.measure(work).stat
 * ```
 */
export class CounterGroup extends Handle<NativeGroup, GroupStat> {
  readonly #members: GroupMember[] = []
  readonly #ctx: ErrorContext[] = []
  readonly #binding: NativeBinding = binding()
  /** The hot-path native functions (`fastCalls`). */
  readonly #fast: FastCalls = fastCalls(this.#binding)
  /** Reads PERF_FORMAT_LOST (`statFormat.lostRecords`): part of the read layout. */
  readonly #lost: boolean
  #handle = 0
  /** What every read must fit: its size (kept up to date by `add`); else the fds are checked (ERR_FD_REPLACED). */
  readonly #check: ReadCheck = { bytes: 0, verify: () => this.call((n) => n.checkFds()) }
  #target: NativeTarget = { pid: 0, cpu: -1 }

  /**
   * Opens the leader. Members share its target.
   * @param leader event string or object of the group leader.
   * @param target default `{ pid: 0, cpu: 'all' }` (the calling JS thread).
   * @param options leader options; `statFormat` is forced to read every member with ids and times.
   */
  constructor(leader: EventInput, target?: Target, options?: CounterOptions) {
    super('CounterGroup')
    const ev = resolveEvent(leader)
    const t = resolveTarget(target)
    const opts = leaderOptions(options, ev)
    opts.statFormat = { ...opts.statFormat, siblings: true, id: true, timeEnabled: true, timeRunning: true }
    this.#lost = opts.statFormat.lostRecords === true
    const ctx = contextFor(ev, opts, t)
    this.#target = t
    let native: NativeGroup | undefined
    try {
      native = this.attach(new this.#binding.NativeGroup(ev.native, t, opts), ctx)
      this.#handle = native.handle
      this.#members.push({ label: ev.label, id: native.memberId(0) })
    } catch (e) {
      native?.close()
      throw fromNative(e, ctx)
    }
    this.#ctx.push(ctx)
    this.#check.bytes = groupBytes(1, this.#lost)
    this.#check.idWords = idWords(this.#members)
    ensureStatBuffer(this.#fast, statSlots(1))
  }

  /**
   * Adds a member (sibling) on the leader's target. Returns its index in `members`.
   * Members cannot take `pin`, `exclusive` or `timer` (the kernel takes these from the leader).
   */
  add(event: EventInput, options?: MemberOptions): number {
    const n = this.native
    const ev = resolveEvent(event)
    const opts = memberOptions(options, ev)
    const ctx = contextFor(ev, opts, this.#target)
    let id: bigint
    try {
      id = n.add(ev.native, opts)
    } catch (e) {
      throw fromNative(e, ctx)
    }
    this.#members.push({ label: ev.label, id })
    this.#ctx.push(ctx)
    this.#check.bytes = groupBytes(this.#members.length, this.#lost)
    this.#check.idWords = idWords(this.#members)
    ensureStatBuffer(this.#fast, statSlots(this.#members.length))
    return this.#members.length - 1
  }

  /** Leader first, then members in the order they were added. */
  get members(): readonly GroupMember[] {
    return this.#members
  }

  protected nativeSwitch(op: 'enable' | 'disable' | 'reset'): void {
    const b = this.#fast
    const h = this.#handle
    this.call(() => {
      armSwitch(h)
      let threw = false
      let error: unknown
      try {
        // Direct calls (not through a variable): V8's fast path for native functions.
        if (op === 'enable') b.groupEnable()
        else if (op === 'disable') b.groupDisable()
        else b.groupReset()
      } catch (e) {
        threw = true
        error = e
      }
      switchDone(b, op === 'enable' ? b.groupEnable : op === 'disable' ? b.groupDisable : b.groupReset, h, threw, error)
    })
  }

  /**
   * One atomic read of every member, matched by id. A read that does not fit the members throws
   * `ERR_FD_REPLACED` when other code closed one of the group's descriptors, else `ERR_PERF`.
   */
  stat(): GroupStat {
    return decodeGroup(this.call(() => readStat(this.#fast, this.#fast.groupStat, this.#handle)), this.#members, this.#lost, this.#check)
  }

  /** Sets an ftrace filter on a tracepoint member (index as returned by `add`, 0 = leader). */
  setFilter(index: number, filter: string): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#members.length) throw typeError(`a member index from 0 to ${this.#members.length - 1}`, 'index', index)
    if (typeof filter !== 'string') throw typeError('a filter string', 'filter', filter)
    this.call((n) => n.memberSetFilter(index, filter), this.#ctx[index])
  }

}

/** The members' ids as u32 words, low then high (the layout of the stat buffer's slots). */
function idWords(members: readonly GroupMember[]): Uint32Array {
  return new Uint32Array(BigUint64Array.from(members, (m) => m.id).buffer)
}
