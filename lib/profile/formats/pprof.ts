/** pprof (`profile.proto`, gzipped), encoded here: go tool pprof, Pyroscope, Parca, Grafana. */
import { gzipSync } from 'node:zlib'
import type { ProfileData } from '../types'

/** A protobuf encoder: just the wire types profile.proto uses. */
class ProtoWriter {
  #chunks: number[] = []
  varint(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      let n = v
      while (n >= 0x80) {
        this.#chunks.push((n % 0x80) | 0x80)
        n = Math.floor(n / 0x80)
      }
      this.#chunks.push(n)
      return
    }
    let x = BigInt(v)
    if (x < 0n) x = BigInt.asUintN(64, x)
    while (x >= 0x80n) {
      this.#chunks.push(Number((x & 0x7fn) | 0x80n))
      x >>= 7n
    }
    this.#chunks.push(Number(x))
  }
  /** A varint field (wire type 0); zero is left out as proto3 does. */
  uint(field: number, v: number | bigint): void {
    if (v === 0 || v === 0n) return
    this.varint(field << 3)
    this.varint(v)
  }
  bytes(field: number, b: Uint8Array): void {
    this.varint((field << 3) | 2)
    this.varint(b.length)
    for (const x of b) this.#chunks.push(x)
  }
  string(field: number, s: string): void {
    this.bytes(field, Buffer.from(s, 'utf8'))
  }
  message(field: number, build: (w: ProtoWriter) => void): void {
    const w = new ProtoWriter()
    build(w)
    this.bytes(field, w.finish())
  }
  packed(field: number, values: Iterable<number | bigint>): void {
    const w = new ProtoWriter()
    for (const v of values) w.varint(v)
    const b = w.finish()
    if (b.length) this.bytes(field, b)
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.#chunks)
  }
}

/** pprof sample type of the event: cpu-clock → `cpu-clock`/`nanoseconds`, others → `<event>`/`count`. */
export function pprofUnit(p: ProfileData): string {
  return p.meta.unit === 'ns' ? 'nanoseconds' : 'count'
}

/**
 * pprof (`profile.proto`, gzipped): sample types `samples/count` and `<event>/<unit>`, a `thread` label
 * (name), `thread_id` and `meta.labels` labels per sample; one function and location per frame.
 */
export function toPprof(p: ProfileData): Buffer {
  const strings = ['']
  const ids = new Map<string, number>([['', 0]])
  const str = (s: string): number => {
    let i = ids.get(s)
    if (i === undefined) {
      i = strings.length
      strings.push(s)
      ids.set(s, i)
    }
    return i
  }
  const w = new ProtoWriter()
  const unit = pprofUnit(p)
  w.message(1, (m) => {
    m.uint(1, str('samples'))
    m.uint(2, str('count'))
  })
  w.message(1, (m) => {
    m.uint(1, str(p.meta.event))
    m.uint(2, str(unit))
  })
  // Samples: locations leaf first; samples of one stack on one thread merged (pprof sums values).
  const merged = new Map<number, { stack: number; thread: number; count: number; weight: number }>()
  const labels = Object.entries(p.meta.labels ?? {})
  for (let i = 0; i < p.sampleCount; i++) {
    const key = (p.samples.stack[i] + 1) * 65536 + p.samples.thread[i]
    const e = merged.get(key)
    if (e) {
      e.count++
      e.weight += p.samples.weight[i]
    } else merged.set(key, { stack: p.samples.stack[i], thread: p.samples.thread[i], count: 1, weight: p.samples.weight[i] })
  }
  for (const e of merged.values()) {
    const frames = e.stack < 0 ? [] : p.stackFrames(e.stack).reverse()
    const t = p.threads[e.thread]
    w.message(2, (m) => {
      m.packed(
        1,
        frames.map((f) => f + 1),
      )
      m.packed(2, [e.count, Math.round(e.weight)])
      m.message(3, (l) => {
        l.uint(1, str('thread'))
        l.uint(2, str(t.name))
      })
      m.message(3, (l) => {
        l.uint(1, str('thread_id'))
        l.uint(3, t.tid)
      })
      // The profile's own labels (meta.labels: service, pid...): integers as numeric labels.
      for (const [k, v] of labels)
        m.message(3, (l) => {
          l.uint(1, str(k))
          if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) l.uint(3, v)
          else l.uint(2, str(String(v)))
        })
    })
  }
  p.frames.forEach((f, i) => {
    w.message(4, (m) => {
      m.uint(1, i + 1)
      m.message(4, (l) => {
        l.uint(1, i + 1)
        l.uint(2, f.line ?? 0)
      })
    })
  })
  p.frames.forEach((f, i) => {
    w.message(5, (m) => {
      m.uint(1, i + 1)
      m.uint(2, str(f.kind === 'js' ? `${f.tier ?? ''}${f.name} [JS]` : f.label))
      m.uint(3, str(f.label))
      m.uint(4, str(f.file ?? f.module ?? ''))
      m.uint(5, f.line ?? 0)
    })
  })
  const comments = p.warnings.map((x) => str(x))
  const duration = Math.max(0, Math.round((p.meta.endTime - p.meta.startTime) * 1e6))
  // String table (field 6) after all strings are known.
  for (const s of strings) w.string(6, s)
  w.uint(9, BigInt(p.meta.startTime) * 1_000_000n)
  w.uint(10, duration)
  w.message(11, (m) => {
    m.uint(1, str(p.meta.event))
    m.uint(2, str(unit))
  })
  w.uint(12, p.meta.period ?? (p.meta.freq ? Math.round(1e9 / p.meta.freq) : 0))
  w.packed(13, comments)
  return gzipSync(w.finish())
}
