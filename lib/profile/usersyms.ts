import { readRaw } from '../system/files'
import { symbolizer, type SymbolizedAddr } from './symbolizer'
import { PerfMap, perfMapPath } from './perfmap'
import { escapeControls } from './sanitize'

/** A mapping of a process: its range, file offset and what it maps (`/path`, `[vdso]`, `[heap]`, `''` for anonymous memory). */
export interface MmapRec {
  addr: bigint
  end: bigint
  pageOffset: bigint
  file: string
}

/** The mappings of a running process from `/proc/<pid>/maps` (empty when it cannot be read); `exec` only the executable ones. */
export function procMaps(pid: number, exec = true): MmapRec[] {
  const out: MmapRec[] = []
  const text = readRaw(`/proc/${pid}/maps`)
  if (text === undefined) return out
  // 55d0c2a00000-55d0c3e5c000 r-xp 00a00000 fd:01 1234   /usr/bin/node
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S\S(\S)\S ([0-9a-f]+) \S+ \d+ *(.*)$/.exec(line)
    if (m && (!exec || m[3] === 'x')) out.push({ addr: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), pageOffset: BigInt(`0x${m[4]}`), file: m[5].replace(/ \(deleted\)$/, '') })
  }
  return out
}

/** Names user-space addresses of one process, one result per address. */
export type UserSymbolizer = (pid: number, addrs: bigint[]) => Promise<SymbolizedAddr[]>

/** What the user symbolizer needs to know about the profiled processes. */
export interface UserSymbolizerContext {
  /** Mappings seen while profiling (the target's at start, mmap records), by pid; a live process's current ones come after them. */
  mmaps: Map<number, MmapRec[]>
  /** Users whose perf map files are accepted (besides root), by pid; `fallback` for pids not listed. */
  uids: (pid: number) => number[]
  /** Where warnings go (one per perf map at most). */
  warnings: string[]
  /** Read V8's perf map of these pids (false: JIT code stays unnamed, e.g. this Node without --perf-basic-prof). */
  perfMap: (pid: number) => boolean
  /** Milliseconds one symbolization call may take before its frames are given up (default 60 000). */
  budgetMs?: number
}

/** Whether `file` is an ELF file worth opening for a mapping (not a device, memfd or anonymous name). */
function isFilePath(file: string): boolean {
  return file.startsWith('/') && !file.startsWith('//') && !file.startsWith('/memfd:') && !file.startsWith('/dev/')
}

let ownVdso: MmapRec | null | undefined

/** This process's vDSO: the kernel maps the same image into every process, so it names the vDSO frames of any. */
function vdsoOfThisProcess(): MmapRec | undefined {
  if (ownVdso === undefined) ownVdso = procMaps(process.pid).find((m) => m.file === '[vdso]') ?? null
  return ownVdso ?? undefined
}

/**
 * Runs `p` with a time budget: past it, `fallback()` (the work may go on off the JS thread, but the
 * profile does not wait for it).
 */
export async function withBudget<T>(p: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), ms)
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * One way to name the user-space addresses of a process, live or exited: each address's mapping
 * (its current ones from `/proc/<pid>/maps` while it runs, else those recorded while profiling);
 * file-backed code through the symbolizer at file offsets (ELF/DWARF: each file opened without
 * blocking, regular files only); vDSO code through this process's vDSO; everything else (JIT code,
 * unmapped code of an ended worker) from V8's perf map, read with one policy (`PerfMap.open`).
 */
export function userSymbolizer(ctx: UserSymbolizerContext): UserSymbolizer {
  const budget = ctx.budgetMs ?? 60_000
  return async (pid, addrs) => {
    const maps = [...(ctx.mmaps.get(pid) ?? []), ...procMaps(pid, false)]
    const out: SymbolizedAddr[] = new Array(addrs.length)
    const byFile = new Map<string, { idx: number[]; offsets: bigint[] }>()
    const vdso: { idx: number[]; offsets: bigint[] } = { idx: [], offsets: [] }
    const jit: number[] = []
    addrs.forEach((a, i) => {
      let m: MmapRec | undefined
      for (let k = maps.length - 1; k >= 0; k--)
        if (a >= maps[k].addr && a < maps[k].end) {
          m = maps[k]
          break
        }
      if (m && isFilePath(m.file)) {
        let g = byFile.get(m.file)
        if (!g) byFile.set(m.file, (g = { idx: [], offsets: [] }))
        g.idx.push(i)
        g.offsets.push(a - m.addr + m.pageOffset)
      } else if (m && m.file === '[vdso]') {
        vdso.idx.push(i)
        vdso.offsets.push(a - m.addr)
      } else {
        jit.push(i)
        out[i] = m?.file && m.file !== '//anon' ? { module: m.file, reason: isFilePath(m.file) ? 'NoFile' : 'Unsupported' } : { reason: m ? 'UnknownAddr' : 'Unmapped' }
      }
    })
    if (jit.length && ctx.perfMap(pid)) {
      const path = perfMapPath(pid)
      const { map, warning } = PerfMap.open(path, { uids: ctx.uids(pid) })
      if (warning) ctx.warnings.push(warning)
      if (map) {
        const names = map.lookupAll(jit.map((i) => addrs[i]))
        jit.forEach((i, k) => {
          if (names[k] !== undefined) out[i] = { name: names[k] }
        })
      }
    }
    const failed = new Set<string>()
    const tasks = [...byFile].map(async ([file, g]) => {
      const giveUp = (reason: string) => g.idx.map(() => ({ module: file, reason }))
      let r: SymbolizedAddr[]
      try {
        r = await withBudget(symbolizer().symbolizeElf(file, BigUint64Array.from(g.offsets)), budget, () => {
          // A path from the target's mappings: printed by the CLI, so no control characters.
          failed.add(`${escapeControls(file)} (took more than ${budget / 1000} s)`)
          return giveUp('Timeout')
        })
      } catch (e) {
        // The file is gone, unreadable or refused (not a regular file): its frames stay unknown, in that module.
        r = giveUp((e as Error).message)
      }
      g.idx.forEach((i, k) => (out[i] = { ...r[k], module: r[k].module ?? file }))
    })
    const own = vdsoOfThisProcess()
    if (vdso.idx.length && own)
      tasks.push(
        (async () => {
          const at = BigUint64Array.from(vdso.offsets, (o) => own.addr + o)
          let r: SymbolizedAddr[]
          try {
            r = await withBudget(symbolizer().symbolizeProcess(process.pid, at, { perfMap: false }), budget, () => vdso.idx.map(() => ({ module: '[vdso]', reason: 'Timeout' })))
          } catch (e) {
            r = vdso.idx.map(() => ({ module: '[vdso]', reason: (e as Error).message }))
          }
          vdso.idx.forEach((i, k) => (out[i] = { ...r[k], module: '[vdso]' }))
        })(),
      )
    else vdso.idx.forEach((i) => (out[i] = { module: '[vdso]', reason: 'Unsupported' }))
    await Promise.all(tasks)
    if (failed.size) ctx.warnings.push(`Symbolization gave up on ${[...failed].join(', ')}: those frames are unnamed.`)
    return out
  }
}
