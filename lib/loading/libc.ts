/**
 * The C library of this process (which decides the binaries it can load), for the loader and
 * the symbolizer's loader. No dependencies on the rest of the facade.
 */
import { readFileSync } from 'node:fs'

/** The C library of this process, and what told the loader. */
export interface LibcDetection {
  libc: 'glibc' | 'musl'
  /** `/proc/self/maps`, `process.report`, `/usr/bin/ldd` or `default`. */
  source: string
}

let detected: LibcDetection | undefined

/**
 * The libc this process runs on (which decides the binary it can load), from the most direct
 * source that answers: the dynamic loader and libc mapped into this process (`/proc/self/maps`:
 * musl's `ld-musl-<arch>.so.1` / `libc.musl-<arch>.so.1`, glibc's `ld-linux-*` / `libc.so.6`),
 * then `process.report` (glibc's version, or musl among the shared objects), then the text of
 * `/usr/bin/ldd` (Alpine's mentions musl). No child process, no network.
 */
export function detectLibc(): LibcDetection {
  if (detected) return detected
  const kind = (file: string): 'glibc' | 'musl' | undefined => {
    const name = file.slice(file.lastIndexOf('/') + 1)
    if (/^(ld-musl-|libc\.musl-)/.test(name)) return 'musl'
    if (/^(ld-linux[-.]|libc\.so\.6$|libc-2\.)/.test(name)) return 'glibc'
    return undefined
  }
  try {
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const file = line.slice(line.indexOf('/'))
      const libc = line.includes('/') ? kind(file) : undefined
      if (libc) return (detected = { libc, source: `/proc/self/maps (${file})` })
    }
  } catch {
    // no /proc (or no permission to read it): the next source
  }
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string }; sharedObjects?: string[] } | undefined
    if (report?.header?.glibcVersionRuntime) return (detected = { libc: 'glibc', source: `process.report (glibc ${report.header.glibcVersionRuntime})` })
    const musl = report?.sharedObjects?.find((f) => kind(f) === 'musl')
    if (musl) return (detected = { libc: 'musl', source: `process.report (${musl})` })
  } catch {
    // a runtime without process.report: the next source
  }
  try {
    const musl = readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
    return (detected = { libc: musl ? 'musl' : 'glibc', source: '/usr/bin/ldd' })
  } catch {
    return (detected = { libc: 'glibc', source: 'default (no /proc/self/maps, process.report or /usr/bin/ldd)' })
  }
}
