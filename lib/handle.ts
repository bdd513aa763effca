import { closedError, typeError } from './errors'

// Node 18.18+/20.4+ define Symbol.dispose; older runtimes get the registered symbol.
;(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('nodejs.dispose')

/**
 * What counters and groups share: ownership of a native handle (released by
 * `close()`, `using`, or garbage collection of the native object), and `measure`.
 */
export abstract class Handle<N extends { close(): void }, S> implements Disposable {
  #native: N | undefined
  readonly #kind: string

  protected constructor(kind: string) {
    this.#kind = kind
  }

  protected attach(native: N): N {
    this.#native = native
    return native
  }

  /** The native object; throws ERR_CLOSED after `close()`. */
  protected get native(): N {
    if (this.#native === undefined) throw closedError(this.#kind)
    return this.#native
  }

  abstract enable(): void
  abstract disable(): void
  abstract reset(): void
  abstract stat(): S

  /**
   * Runs `fn` with the counts reset and enabled around it, and returns its result with the stat.
   * Counts only synchronous work of `fn` (and whatever else the target does meanwhile).
   */
  measure<T>(fn: () => T): { result: T; stat: S } {
    if (typeof fn !== 'function') throw typeError('a function', 'fn', fn)
    this.reset()
    this.enable()
    let result: T
    try {
      result = fn()
    } finally {
      this.disable()
    }
    return { result, stat: this.stat() }
  }

  /** Closes the file descriptor(s). Idempotent; any later call throws ERR_CLOSED. */
  close(): void {
    this.#native?.close()
    this.#native = undefined
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#native === undefined
  }

  /** `using c = new Counter(…)` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close()
  }
}
