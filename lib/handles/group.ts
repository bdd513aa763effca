import type { NativeGroup, NativeTarget } from '../../index'
import { binding } from '../loading/binding'
import { fromNative, typeError, type ErrorContext } from '../errors/errors'
import { Handle } from './handle'
import { resolveEvent, type EventInput } from '../events/events'
import { leaderOptions, memberOptions, resolveTarget, type CounterOptions, type MemberOptions, type Target } from '../events/options'
import { contextFor } from '../events/since'
import { openCountingUserOnly } from './userspace'
import { decodeGroup, ensureStatBuffer, groupBytes, readStat, armSwitch, switchDone, fastCalls, statSlots, type FastCalls, type GroupStat, type ReadCheck } from './stat'
import type { NativeBinding } from '../loading/binding'

/** A member of a group. */
export interface GroupMember {
  /** The event as given (string) or described (object). */
  readonly label: string
  /** Kernel id: how the group read is matched to members. */
  readonly id: bigint
  /** Counts user space only: the kernel refused kernel-mode counting (`label` ends in `:u`; README "Permissions"). */
  readonly userSpaceOnly?: true
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
  /** Some member counts user space only (`stat()` marks them). */
  #userOnly = false

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
    const asked = leaderOptions(options, ev)
    asked.statFormat = { ...asked.statFormat, siblings: true, id: true, timeEnabled: true, timeRunning: true }
    this.#lost = asked.statFormat.lostRecords === true
    this.#target = t
    const Native = this.#binding.NativeGroup
    // Where the kernel refuses kernel-mode counting, the leader counts user space only (lib/handles/userspace.ts).
    const opened = openCountingUserOnly(
      ev,
      asked,
      options,
      t,
      (o) => new Native(ev.native, t, o),
      (e, kernelOnly) => fromNative(e, { ...contextFor(ev, asked, t), kernelOnly }),
    )
    const ctx = { ...contextFor(ev, opened.opts, t), what: opened.label }
    const native: NativeGroup = this.attach(opened.value, ctx)
    try {
      this.#handle = native.handle
      this.#members.push({ label: opened.label, id: native.memberId(0), ...(opened.userOnly ? { userSpaceOnly: true as const } : {}) })
    } catch (e) {
      native.close()
      throw fromNative(e, ctx)
    }
    if (opened.userOnly) this.#userOnly = true
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
    const asked = memberOptions(options, ev)
    const target = this.#target
    // Like the leader: user space only where the kernel refuses kernel-mode counting (lib/handles/userspace.ts).
    const opened = openCountingUserOnly(
      ev,
      asked,
      options,
      target,
      (o) => n.add(ev.native, o),
      (e, kernelOnly) => fromNative(e, { ...contextFor(ev, asked, target), kernelOnly }),
    )
    const id = opened.value
    this.#members.push({ label: opened.label, id, ...(opened.userOnly ? { userSpaceOnly: true as const } : {}) })
    if (opened.userOnly) this.#userOnly = true
    this.#ctx.push({ ...contextFor(ev, opened.opts, target), what: opened.label })
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
    const s = decodeGroup(this.call(() => readStat(this.#fast, this.#fast.groupStat, this.#handle)), this.#members, this.#lost, this.#check)
    if (this.#userOnly) for (let i = 0; i < s.members.length; i++) if (this.#members[i].userSpaceOnly) s.members[i].userSpaceOnly = true
    return s
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
