#!/usr/bin/env node
/**
 * `npx perf-event-open <command>`: a dispatcher over the subcommands, each declared in its own file
 * (lib/cli/stat.ts, record.ts, list.ts, doctor.ts: usage, options, run). The top-level help, each
 * subcommand's `--help`, its parsing and the list of commands in errors are derived from those
 * declarations: a new subcommand is one file plus one entry in COMMANDS.
 * @packageDocumentation
 */
import { aligned, helpOf, parseCommand, synopsisOf, usageOf, valueOptions, type Command } from './command'
import { EXIT, EXIT_CODES_TEXT, UsageError, checkDashDash, packageVersion } from './conventions'
import { doctor } from './doctor'
import { list } from './list'
import { record } from './record'
import { stat } from './stat'

/** Every subcommand, in the order the help and the errors list them. */
export const COMMANDS: readonly Command[] = [stat, record, list, doctor]

/** `stat, record, list or doctor`. */
function commandNames(): string {
  const names = COMMANDS.map((c) => c.name)
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('')
}

/** The top-level help. */
function usage(): string {
  return `Usage: perf-event-open <command> [options]

Commands:
${[...COMMANDS.flatMap(synopsisOf), aligned('--version, -V', 'print the version')].join('\n')}

Events use the library's grammar: task-clock, page-faults, instructions:u, L1-dcache-load-misses,
syscalls:sys_enter_write, msr/tsc/ ... ('perf-event-open list' shows them).
Tables go to stderr (the command's output stays alone on stdout); --json goes to stdout (or -o file).
${EXIT_CODES_TEXT}
'perf-event-open <command> --help' describes a command's options.`
}

/** The package's own argument errors ("Expected … but received …", "Unknown …"), not a TypeError from a bug. */
function isArgumentError(e: unknown): boolean {
  return (e instanceof TypeError || e instanceof RangeError) && /^(Expected|Unknown) /.test(e.message)
}

/** Runs one subcommand: the missing-`--` check, its options, `--help`, then its `run`. */
async function runCommand(command: Command, argv: string[]): Promise<number> {
  if (command.runsCommand) checkDashDash(command.name, valueOptions(command), argv)
  const { values, positionals, help } = parseCommand(command, argv)
  if (help) {
    process.stdout.write(`${helpOf(command)}\n`)
    return EXIT.ok
  }
  return await command.run(values, positionals)
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage()}\n`)
    return EXIT.ok
  }
  if (name === '-V' || name === '--version' || name === 'version') {
    process.stdout.write(`perf-event-open ${packageVersion()}\n`)
    return EXIT.ok
  }
  if (name === undefined) {
    // Misuse: the usage goes to stderr (stdout stays for what was asked for), exit 2.
    process.stderr.write(`perf-event-open: Expected a command (${commandNames()})\n\n${usage()}\n`)
    return EXIT.usage
  }
  const command = COMMANDS.find((c) => c.name === name)
  try {
    if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}: expected ${commandNames()}`)
    return await runCommand(command, rest)
  } catch (e) {
    // Every subcommand: what was typed wrong (an unknown event, a bad option value) is a usage error, exit 2.
    const code = (e as { code?: string }).code
    if (e instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS') || code === 'ERR_UNKNOWN_EVENT' || isArgumentError(e)) {
      const help = command ? `${usageOf(command)}\nRun 'perf-event-open ${command.name} --help' for its options.` : usage()
      process.stderr.write(`perf-event-open: ${(e as Error).message}\n\n${help}\n`)
      return EXIT.usage
    }
    process.stderr.write(`perf-event-open: ${e instanceof Error ? e.message : String(e)}\n`)
    return EXIT.failed
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code
  })
}
