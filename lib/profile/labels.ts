/**
 * How a profile reads to a person: weights with their unit, and function names as a table or a
 * flame graph shows them (C++ parameter lists and return types cut, a JS function as `name file:line`).
 * Used by `top()` and the folded/SVG exports, so a name reads the same in each.
 */
import type { Frame } from './types'

/** A weight with its unit: `3.10 s`, `12.5 ms` for `ns`; `16 384 page faults` for events. */
export function formatWeight(v: number, unit: string, event?: string): string {
  if (unit === 'ns') {
    if (v >= 1e9) return `${(v / 1e9).toFixed(2)} s`
    if (v >= 1e6) return `${(v / 1e6).toFixed(1)} ms`
    if (v >= 1e3) return `${(v / 1e3).toFixed(1)} µs`
    return `${Math.round(v)} ns`
  }
  const n = groupDigits(Math.round(v))
  if (event === undefined) return `${n} ${unit}`
  // `page-faults` → `page faults`; a tracepoint or raw event keeps its name and says `events`.
  return /^[a-z]+(?:-[a-z]+)*$/.test(event) ? `${n} ${event.replace(/-/g, ' ')}` : `${n} ${event} events`
}

/** `16384` → `16 384` (a space every three digits, as SI writes them). */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')
}

const OPEN: Record<string, string> = { ')': '(', '>': '<', ']': '[', '}': '{' }
const CLOSE: Record<string, string> = { '(': ')', '<': '>', '[': ']', '{': '}' }

/**
 * A demangled C++ name without its parameter list, return type and qualifiers:
 * `v8::internal::JsonStringifier::Result v8::internal::JsonStringifier::Serialize_<false>(v8::internal::Handle<…>, bool)`
 * → `v8::internal::JsonStringifier::Serialize_<false>`. Template arguments stay. A name whose
 * brackets do not balance (`operator<`…) is returned as it is.
 */
export function shortCppName(name: string): string {
  let s = name.replace(/(?:\s+(?:const|volatile|&&|&|noexcept))+$/, '')
  if (s.endsWith(')')) {
    const open = matchBackward(s, s.length - 1)
    if (open <= 0) return name
    s = s.slice(0, open)
  }
  // The return type: everything before the last space outside brackets.
  const stack: string[] = []
  let cut = -1
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c in CLOSE && !(c === '<' && s.slice(Math.max(0, i - 8), i).endsWith('operator'))) stack.push(c)
    else if (c in OPEN && stack.length && stack[stack.length - 1] === OPEN[c]) stack.pop()
    else if (c === ' ' && stack.length === 0) cut = i
  }
  if (stack.length) return name
  const out = s.slice(cut + 1)
  return out === '' ? name : out
}

/** Index of the bracket that opens the one closing at `end`, or -1. */
function matchBackward(s: string, end: number): number {
  const want: string[] = []
  for (let i = end; i >= 0; i--) {
    const c = s[i]
    if (c in OPEN) want.push(OPEN[c])
    else if (c in CLOSE && want.length && want[want.length - 1] === c) {
      want.pop()
      if (want.length === 0) return i
    }
  }
  return -1
}

/**
 * A frame's name for a table row or a flame graph box: a JS function as `name file:line` (no tier
 * mark: the tiers of one function are one row/box), a native frame without C++ parameter lists unless
 * `signatures`, other frames as their label.
 */
export function displayName(f: Frame, signatures = false): string {
  if (f.kind === 'js') return f.file === undefined ? f.name : `${f.name} ${f.file}:${f.line}`
  if (!signatures && (f.kind === 'native' || f.kind === 'unknown') && f.label.includes('(')) return shortCppName(f.label)
  return f.label
}

/**
 * Whether time under this frame belongs to it in a JS-first view: a JS function, or a compiled
 * regular expression (V8's `RegExp:` code, which `node --cpu-prof` also shows as its own node).
 */
export function isJsLevel(f: Frame): boolean {
  return f.kind === 'js' || (f.kind === 'builtin' && f.name.startsWith('RegExp:'))
}
