import { closedError, fromNative, typeError, type ErrorContext } from '../errors/errors'

// Node 18.18+/20.4+ define Symbol.dispose; older runtimes get the registered symbol.
;(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('nodejs.dispose')

/**
 * Ownership of a native handle, released by `close()`, `using`, or garbage
 * collection of the native object; native errors become thrown errors.
 */
export abstract class Resource<N extends { close(): void }> implements Disposable {
  #native: N | undefined
  #context: ErrorContext | undefined
  readonly #kind: string

  protected constructor(kind: string) {
    this.#kind = kind
  }

  /** Takes ownership of `native`; `context` describes it in errors. */
  protected attach(native: N, context: ErrorContext): N {
    this.#native = native
    this.#context = context
    return native
  }

  /** Calls the native object, turning its error data into a thrown error (ERR_CLOSED after `close()`). */
  protected call<R>(f: (native: N) => R, context?: ErrorContext): R {
    const native = this.native
    try {
      return f(native)
    } catch (e) {
      throw fromNative(e, context ?? this.#context!)
    }
  }

  /** The native object; throws ERR_CLOSED after `close()`. */
  protected get native(): N {
    if (this.#native === undefined) throw closedError(this.#kind)
    return this.#native
  }

  /** Closes the file descriptor(s). Idempotent; any later call throws ERR_CLOSED. */
  close(): void {
    const native = this.#native
    this.#native = undefined
    try {
      native?.close()
    } catch (e) {
      // ERR_FD_REPLACED: the fd number belonged to another file by now; it was left open.
      throw fromNative(e, this.#context!)
    }
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#native === undefined
  }

  /** `using x = …` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close()
  }
}

/** The native calls that counters and groups share (`NativeCounter`, `NativeGroup`). */
interface Switchable {
  close(): void
  enable(): void
  disable(): void
  reset(): void
}

/** What counters and groups share: enable/disable/reset, `stat` and `measure`. */
export abstract class Handle<N extends Switchable, S> extends Resource<N> {
  abstract stat(): S

  /** Runs the native enable/disable/reset (a zero-argument function with the handle in the stat buffer; see `runSwitch`). */
  protected abstract nativeSwitch(op: 'enable' | 'disable' | 'reset'): void

  /**
   * Starts counting (PERF_EVENT_IOC_ENABLE). A group enables each member, then the leader, which
   * brings them all onto the PMU at once (README "Groups": why not PERF_IOC_FLAG_GROUP).
   */
  enable(): void {
    this.nativeSwitch('enable')
  }

  /** Stops counting (PERF_EVENT_IOC_DISABLE); the value is kept. A group stops all members at once (by disabling its leader). */
  disable(): void {
    this.nativeSwitch('disable')
  }

  /** Sets the count to zero (PERF_EVENT_IOC_RESET); a group zeroes every member. Times are not reset. */
  reset(): void {
    this.nativeSwitch('reset')
  }

  /**
   * Runs `fn` with the counts reset and enabled around it, and returns its result with the stat.
   * Counts only synchronous work of `fn` (and whatever else the target does meanwhile). A function
   * that returns a promise (an `async` function) is refused with a TypeError after the counter is
   * disabled: use `measureAsync`, which counts until the promise settles.
   */
  measure<T>(fn: () => T): { result: T; stat: S } {
    return measureSync(this, fn)
  }

  /**
   * Runs `fn` with the counts reset and enabled until the promise it returns settles, and resolves
   * to its result with the stat. Everything the target does meanwhile is counted: with the default
   * target (the calling thread) that includes other JS run by this thread while `fn` awaits, and not
   * work done by other threads (the libuv pool, workers): use a `ProcessCounter` for those.
   * If `fn` throws or its promise rejects, the counter is disabled and the error passes through.
   */
  measureAsync<T>(fn: () => T | PromiseLike<T>): Promise<{ result: Awaited<T>; stat: S }> {
    return measureAsync(this, fn)
  }
}

/** What `measureSync`/`measureAsync` need from a counter. */
export interface Measurable<S> {
  enable(): void
  disable(): void
  reset(): void
  stat(): S
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

/** The one implementation of `measure`: reset, enable, run `fn`, disable, read. */
export function measureSync<T, S>(h: Measurable<S>, fn: () => T): { result: T; stat: S } {
  if (typeof fn !== 'function') throw typeError('a function', 'fn', fn)
  h.reset()
  h.enable()
  let result: T
  try {
    result = fn()
  } finally {
    h.disable()
  }
  if (isThenable(result)) {
    // Keep an unobserved rejection from crashing the process: the caller gets this error instead.
    Promise.resolve(result).catch(() => {})
    throw new TypeError(
      'Expected fn to return a value for measure() but received a promise: measure() counts only the synchronous part of fn. Use measureAsync(fn), which counts until the promise settles.',
    )
  }
  return { result, stat: h.stat() }
}

/** The one implementation of `measureAsync`: counts until the promise returned by `fn` settles. */
export async function measureAsync<T, S>(h: Measurable<S>, fn: () => T | PromiseLike<T>): Promise<{ result: Awaited<T>; stat: S }> {
  if (typeof fn !== 'function') throw typeError('a function', 'fn', fn)
  h.reset()
  h.enable()
  let result: Awaited<T>
  try {
    result = await fn()
  } finally {
    h.disable()
  }
  return { result, stat: h.stat() }
}
