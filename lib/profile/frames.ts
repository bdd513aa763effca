/**
 * Frames and threads by name: a symbolized address becomes a `Frame` (V8's perf map notation read
 * into JS name, tier and location), and a thread gets its role from its stacks.
 */
import { basename } from 'node:path'
import type { Frame, FrameKind } from './types'
import type { ProfileBuilder } from './model'
import type { SymbolizedAddr } from './symbolizer'

/** V8 perf map entries: `JS:*name file:line:col` (also `Eval:`, `Script:`, and `LazyCompile:`/`Function:` of older V8). */
const JS_RE = /^(?:JS|Eval|Script|Function|LazyCompile|InterpretedFunction):([~^*+]?)(.*?)(?: (\S+):(\d+):(\d+))?$/
/** V8 code that is not a JS function: builtins, bytecode handlers, stubs, compiled regexps. */
const V8_CODE_RE = /^(?:Builtin|BytecodeHandler|Stub|RegExp|Handler|CodeStub|WasmFunction|Wasm):/

export function toFrame(s: SymbolizedAddr | undefined, kernel: boolean, perfMapPath: string): Frame {
  if (!s || s.name === undefined) {
    const module = s?.module ?? (kernel ? '[kernel]' : undefined)
    const label = module ? `[unknown] ${basename(module)}` : '[unknown]'
    return { label, name: label, kind: kernel ? 'kernel' : 'unknown', module }
  }
  if (kernel) return { label: s.name, name: s.name, kind: 'kernel', module: '[kernel]' }
  // Symbols from V8's perf map come without a module (blazesym) and in V8's own notation.
  const m = s.module === undefined || s.module === perfMapPath ? JS_RE.exec(s.name) : null
  if (m) {
    const name = m[2] || '(anonymous)'
    return {
      label: s.name.slice(s.name.indexOf(':') + 1),
      name,
      kind: 'js',
      tier: m[1],
      module: perfMapPath,
      file: m[3],
      line: m[4] === undefined ? undefined : Number(m[4]),
      column: m[5] === undefined ? undefined : Number(m[5]),
    }
  }
  if ((s.module === undefined || s.module === perfMapPath) && V8_CODE_RE.test(s.name)) return { label: s.name, name: s.name, kind: 'builtin', module: perfMapPath }
  const kind: FrameKind = 'native'
  return { label: s.name, name: s.name, kind, module: s.module, file: s.file, line: s.line, column: s.column }
}

/**
 * What a thread is, from its stacks, where its name is only the process's (Node names none of its
 * threads): the JS main thread, a libuv pool thread, a worker_threads Worker, a V8 platform thread.
 */
const ROLES: [RegExp, string][] = [
  [/^node::worker::Worker::/, 'Worker'],
  [/^uv__queue_work|^uv__fs_work|^worker$|uv__threadpool/, 'libuv pool'],
  [/PlatformWorkerThread|WorkerThreadsTaskRunner/, 'V8 platform'],
  [/^node::inspector::/, 'inspector'],
]

/**
 * Adds each thread's role (main, libuv pool, Worker, V8 platform) to its name, from the frames of its
 * samples. Every sample counts (a thread's first ones may be cut short, e.g. inside assembly without
 * frame pointers); each stack node is looked at once: its role is its frame's, or its parent's.
 */
export function nameThreads(b: ProfileBuilder): void {
  const role = new Map<number, string>()
  // undefined: not looked at yet; null: no role on the path to the root.
  const stackRole: (string | null | undefined)[] = []
  const roleOf = (leaf: number): string | null => {
    const path: number[] = []
    let s = leaf
    let found: string | null = null
    for (; s >= 0; s = b.stackParent[s]) {
      const known = stackRole[s]
      if (known !== undefined) {
        found = known
        break
      }
      path.push(s)
    }
    // The role nearest the leaf wins; nodes below it on the path get it too.
    for (let i = path.length - 1; i >= 0; i--) {
      const name = b.frames[b.stackFrame[path[i]]].name
      for (const [re, r] of ROLES) if (re.test(name)) found = r
      stackRole[path[i]] = found
    }
    return found
  }
  for (let i = 0; i < b.sampleStack.length; i++) {
    const t = b.sampleThread[i]
    if (role.has(t) || b.sampleStack[i] < 0) continue
    const r = roleOf(b.sampleStack[i])
    if (r !== null) role.set(t, r)
  }
  b.threads.forEach((t, i) => {
    const r = t.tid === t.pid ? 'main' : role.get(i)
    if (r) b.rename(i, `${t.name} (${r})`)
  })
}
