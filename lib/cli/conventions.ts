/**
 * Conventions every subcommand of the CLI shares: exit codes, `--version`, usage errors, the `--`
 * before a command, and why a listing came back empty. Kept out of the subcommands' files so that each
 * rule has one place (README "CLI" documents the same table).
 * @packageDocumentation
 */
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TRACEFS_ROOTS } from '../system/paths'
import { exists } from '../system/files'
import { emptyListReason as emptyListText } from '../errors/hints'

/** Exit codes of every subcommand. */
export const EXIT = {
  /** Success; for `stat`/`record -- cmd`, the command's own exit code instead (128 + signal when it was killed). */
  ok: 0,
  /** Counting or profiling failed (the kernel refused, the symbolizer is missing…), or a listing is empty: the message says why. */
  failed: 1,
  /** Usage error: unknown command, option, event or output extension; a missing `--`; conflicting options. */
  usage: 2,
  /** The command to run is not executable (as a shell says). */
  notExecutable: 126,
  /** The command to run was not found (as a shell says). */
  notFound: 127,
} as const

/** The exit-code table printed by `--help` (the README has the same). */
export const EXIT_CODES_TEXT = `Exit codes (every command):
  0     success; stat/record -- cmd exit with the command's own code (128+signal when it was killed)
  1     counting or profiling failed, or a listing is empty (the message on stderr says why)
  2     usage error: unknown command, option, event or output extension, a missing --, conflicting options
  126   the command to run is not executable
  127   the command to run was not found`

/** A mistake in what was typed: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** The package's version (from its package.json). */
export function packageVersion(): string {
  // dist/cli/conventions.js → ../package.json; lib/ (tests through tsx) likewise.
  for (const p of [join(__dirname, '..', '..', 'package.json'), join(__dirname, '..', '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'perf-event-open' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // try the next
    }
  }
  return 'unknown'
}

/**
 * Throws a UsageError when a command was given without `--` and options follow its first word
 * (`stat node -e 1`: the `-e 1` would be taken as perf-event-open's event "1"). Without `--`, a
 * command with no options after it (`stat ls /tmp`) is accepted. `takesValue`: the subcommand's
 * options that take a value, short and long spellings (their values are not the command).
 */
export function checkDashDash(command: string, takesValue: readonly string[], argv: readonly string[]): void {
  if (argv.includes('--')) return
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a.startsWith('-') && a.length > 1) {
      if (takesValue.includes(a)) i++ // its value
      continue
    }
    const after = argv.slice(i + 1).filter((x) => x.startsWith('-') && x.length > 1)
    if (after.length === 0) return
    const before = argv.slice(0, i)
    throw new UsageError(
      `Expected -- before the command: without it, ${after.map((x) => JSON.stringify(x)).join(', ')} after ${JSON.stringify(a)} would be read as perf-event-open ${command}'s own option${after.length > 1 ? 's' : ''}. Write: perf-event-open ${command} ${[...before, '--', ...argv.slice(i)].join(' ')}`,
    )
  }
}

/** Whether `path` can be read (and, for a directory, listed) by this process. */
function readable(path: string): boolean {
  try {
    accessSync(path, fsConstants.R_OK | fsConstants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Why `list [filter]` found nothing, and what to try (the text: hints.ts). */
export function emptyListReason(filter: string | undefined): string {
  const root = TRACEFS_ROOTS.find((r) => exists(r))
  return emptyListText(filter, root === undefined ? undefined : { root, readable: readable(join(root, 'events')) }, TRACEFS_ROOTS[0])
}
