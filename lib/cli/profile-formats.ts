/**
 * The profile formats `record -o` writes, picked by the output file's extension: the one list the
 * CLI checks `-o` against, names in "Wrote …" and shows in `record --help`.
 * @packageDocumentation
 */

/** One output format of `record`. */
export interface ProfileFormat {
  /** The extension that picks it (`.pb.gz`). */
  extension: string
  /** Its name in "Wrote file (name)". */
  name: string
  /** What reads it, for `record --help`. */
  readers: string
}

const FORMATS: readonly ProfileFormat[] = [
  { extension: '.pb.gz', name: 'pprof', readers: 'go tool pprof, Pyroscope, Parca, Grafana' },
  { extension: '.pprof', name: 'pprof', readers: 'go tool pprof, Pyroscope, Parca, Grafana' },
  { extension: '.json.gz', name: 'Firefox Profiler, gzipped', readers: 'profiler.firefox.com' },
  { extension: '.json', name: 'Firefox Profiler', readers: 'profiler.firefox.com' },
  { extension: '.cpuprofile', name: 'Chrome/V8 .cpuprofile', readers: 'DevTools, VS Code, speedscope' },
  { extension: '.folded', name: 'folded stacks', readers: 'flamegraph.pl, inferno, speedscope' },
  { extension: '.svg', name: 'flame graph SVG', readers: 'open it in a browser' },
]

/** The formats `Profile.write` picks by extension, in the order `-o` is checked against them. */
export function profileFormats(): readonly ProfileFormat[] {
  return FORMATS
}

/** The format `path` names by its extension (not the extension alone), or undefined. */
export function formatOfPath(path: string): ProfileFormat | undefined {
  return profileFormats().find((f) => path.endsWith(f.extension) && path.length > f.extension.length)
}
