/**
 * Names in a profile come from files a profiled program controls (its perf map, its ELF symbols,
 * its thread names): they may hold control characters. JSON and pprof keep them exact; text meant
 * for a terminal or an XML document gets them escaped here.
 */

/**
 * C0 controls, DEL, C1 controls (ESC, BEL, CSI…), line and paragraph separators, bidirectional
 * overrides and isolates (they reorder what a terminal shows), U+FFFE/U+FFFF (not XML characters)
 * and lone surrogates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

function escape(c: string): string {
  const n = c.charCodeAt(0)
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`
}

/** `s` with each unsafe character written as `\xHH` / `\uHHHH` (visible, and never a terminal control sequence). */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, escape)
}

/** Whether `s` holds a character `escapeControls` would escape. */
export function hasControls(s: string): boolean {
  UNSAFE.lastIndex = 0
  const r = UNSAFE.test(s)
  UNSAFE.lastIndex = 0
  return r
}
