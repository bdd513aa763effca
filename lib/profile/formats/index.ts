/**
 * The export formats of a profile, in one registry: `Profile.write()` picks the entry whose extension
 * ends the path, and the CLI lists and checks `-o` from the same entries. A new format is one entry
 * here (its converter in a file of its own beside this one).
 */
import { writeFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import type { ProfileData } from '../types'
import { toPprof } from './pprof'
import { toFirefox } from './firefox'
import { toCpuProfile } from './cpuprofile'
import { toFolded } from './folded'
import { toSvg } from './svg'

export type { CpuProfile } from './cpuprofile'
export type { FoldedOptions } from './folded'

/** One export format. */
export interface ProfileFormat {
  /** Its id: `pprof`, `firefox`, `cpuprofile`, `folded`, `svg`. */
  readonly name: string
  /** What it is, in a few words (`Firefox Profiler`): for "wrote x.json (Firefox Profiler)". */
  readonly title: string
  /** File name endings that pick it, the usual one first (`.pb.gz`). */
  readonly extensions: readonly string[]
  /** One line for help texts: what it is and what reads it. */
  readonly description: string
  /** Writes `profile` to `options.path`; `options.extension` is the ending that picked this format. */
  write(profile: ProfileData, options: { path: string; extension: string }): Promise<void>
}

/** Every format, in the order help texts list them. */
export const FORMATS: readonly ProfileFormat[] = [
  {
    name: 'pprof',
    title: 'pprof',
    extensions: ['.pb.gz', '.pprof'],
    description: 'pprof (go tool pprof, Pyroscope, Parca, Grafana)',
    write: (p, o) => writeFile(o.path, toPprof(p)),
  },
  {
    name: 'firefox',
    title: 'Firefox Profiler',
    extensions: ['.json', '.json.gz'],
    description: 'Firefox Profiler (profiler.firefox.com)',
    write: async (p, o) => {
      const json = await toFirefox(p)
      await writeFile(o.path, o.extension.endsWith('.gz') ? gzipSync(json) : json)
    },
  },
  {
    name: 'cpuprofile',
    title: 'Chrome/V8 .cpuprofile',
    extensions: ['.cpuprofile'],
    description: 'Chrome/V8 (DevTools, VS Code, speedscope)',
    write: (p, o) => writeFile(o.path, JSON.stringify(toCpuProfile(p))),
  },
  {
    name: 'folded',
    title: 'folded stacks',
    extensions: ['.folded'],
    description: 'folded stacks (flamegraph.pl, inferno, speedscope)',
    write: (p, o) => writeFile(o.path, toFolded(p)),
  },
  {
    name: 'svg',
    title: 'flame graph SVG',
    extensions: ['.svg'],
    description: 'flame graph (open it in a browser)',
    write: async (p, o) => writeFile(o.path, await toSvg(p)),
  },
]

/** Every extension of every format, e.g. for "Expected a path ending in …". */
export function formatExtensions(): string[] {
  return FORMATS.flatMap((f) => f.extensions)
}

/**
 * The format whose extension ends `path` (the longest such ending: `x.json.gz` is gzipped Firefox
 * JSON, `x.fx.json` plain), with that extension; undefined when none does or nothing comes before it
 * (`.svg` alone is not a file name with an extension).
 */
export function formatFor(path: string): { format: ProfileFormat; extension: string } | undefined {
  let best: { format: ProfileFormat; extension: string } | undefined
  for (const format of FORMATS)
    for (const extension of format.extensions)
      if (path.endsWith(extension) && path.length > extension.length && !path.endsWith(`/${extension}`) && extension.length > (best?.extension.length ?? 0)) best = { format, extension }
  return best
}

/** The formats as help lines: extensions in a column `width` wide, then the description (`indent` before each). */
export function formatsHelp(indent = '', width = 21): string {
  return FORMATS.map((f) => `${indent}${f.extensions.join(', ').padEnd(width)}${f.description}`).join('\n')
}
