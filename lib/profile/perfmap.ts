import { readFileSync } from 'node:fs'

/**
 * V8's perf map (`/tmp/perf-<pid>.map`: `start size name` lines, hex) for addresses that are no longer
 * mapped when the profile is symbolized — JIT code of a worker that has ended, or of an exited child.
 * Later lines win: V8 appends, and code space is reused.
 */
export class PerfMap {
  readonly #start: bigint[] = []
  readonly #end: bigint[] = []
  readonly #name: string[] = []

  static read(path: string): PerfMap | undefined {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      return undefined
    }
    const m = new PerfMap()
    for (const line of text.split('\n')) {
      const a = line.indexOf(' ')
      const b = line.indexOf(' ', a + 1)
      if (a <= 0 || b <= a) continue
      try {
        const start = BigInt(`0x${line.slice(0, a)}`)
        m.#start.push(start)
        m.#end.push(start + BigInt(`0x${line.slice(a + 1, b)}`))
        m.#name.push(line.slice(b + 1))
      } catch {
        // not a map line
      }
    }
    return m
  }

  /** The name of the latest entry that covers `addr`. */
  lookup(addr: bigint): string | undefined {
    for (let i = this.#start.length - 1; i >= 0; i--) if (addr >= this.#start[i] && addr < this.#end[i]) return this.#name[i]
    return undefined
  }
}
