/**
 * What a subcommand declares (its usage lines, its options with one line each, its `run`), and what
 * is derived from that: its `--help`, its parsing (node:util parseArgs, `-h/--help` added to every
 * subcommand) and the options that take a value (for the missing-`--` check).
 * @packageDocumentation
 */
import { parseArgs } from 'node:util'
import { EXIT_CODES_TEXT } from './conventions'

/** One option: a node:util parseArgs entry plus what `--help` says of it. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** The value's name in `--help` (`-e, --event ev`); string options only. */
  arg?: string
  /** One line for `--help`. */
  description: string
}

/** The parsed value of one option. */
type ValueOf<S extends OptionSpec> = S['type'] extends 'string' ? (S['multiple'] extends true ? string[] : string) : S['multiple'] extends true ? boolean[] : boolean

/** The parsed options of a subcommand (absent when not given). */
export type Values<O extends Record<string, OptionSpec>> = { [K in keyof O]?: ValueOf<O[K]> }

/** One way to call a subcommand (after its name), and what it does, for the top-level help. */
export interface UsageLine {
  /** The options that matter for this form (`[-e ev,...] [--json]`); its own `--help` writes `[options]`. */
  options: string
  /** What follows them (`-- cmd [args...]`, `-p pid`, `[filter]`; `''` for none). */
  operands: string
  summary: string
}

/** A subcommand, as declared in its own file under lib/cli/. */
export interface Command<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string
  /** Its ways to be called; the first line of each subcommand's `--help`, and of the top-level help. */
  usage: readonly UsageLine[]
  /** Paragraphs printed by its `--help` after the usage lines. */
  about?: string
  options: O
  /** It takes positional arguments (a filter, or a command after `--`). */
  positionals: boolean
  /** It runs a command given after `--` (the missing-`--` check applies). */
  runsCommand?: boolean
  /** Text after the options in its `--help` (e.g. the output formats). */
  notes?: () => string
  run(values: Values<O>, positionals: string[]): number | Promise<number>
}

/** Declares a subcommand (keeps its option table's exact type for `run`). */
export function defineCommand<const O extends Record<string, OptionSpec>>(command: Command<O>): Command<O> {
  return command
}

/** The option every subcommand has. */
const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'print this text (usage, options, exit codes) and exit' }

function withHelp(options: Record<string, OptionSpec>): Record<string, OptionSpec> {
  return { ...options, help: HELP }
}

/** `-e, --event ev` as `--help` shows it. */
function spelling(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'value'}` : ''}`
}

/** The usage lines of a subcommand's own help (`Usage: perf-event-open stat [options] -- cmd [args...]`, then the other forms). */
export function usageOf(command: Command): string {
  return command.usage.map((u, i) => `${i === 0 ? 'Usage: ' : '       '}${['perf-event-open', command.name, '[options]', u.operands].filter(Boolean).join(' ')}`).join('\n')
}

/** Where the summaries start in the top-level list of commands. */
const SUMMARY_COLUMN = 57

/** One line of the top-level help: `  form   summary`, the summary aligned (on the next line when the form is long). */
export function aligned(form: string, summary: string): string {
  const left = `  ${form}`
  return left.length + 2 <= SUMMARY_COLUMN ? `${left.padEnd(SUMMARY_COLUMN)}${summary}` : `${left}\n${' '.repeat(SUMMARY_COLUMN)}${summary}`
}

/** A subcommand's lines in the top-level help: each form in full with its summary. */
export function synopsisOf(command: Command): string[] {
  return command.usage.map((u) => aligned([command.name, u.options, u.operands].filter(Boolean).join(' '), u.summary))
}

/** A subcommand's `--help`: its usage, what it does, each option with its line, its notes, the exit codes. */
export function helpOf(command: Command): string {
  const options = Object.entries(withHelp(command.options))
  const width = Math.max(...options.map(([name, o]) => spelling(name, o).length)) + 2
  const parts = [usageOf(command)]
  if (command.about) parts.push(command.about)
  parts.push(['Options:', ...options.map(([name, o]) => `  ${spelling(name, o).padEnd(width)}${o.description}`)].join('\n'))
  if (command.notes) parts.push(command.notes())
  parts.push(EXIT_CODES_TEXT)
  return parts.join('\n\n')
}

/** Short and long spellings of the options that take a value (`-e`, `--event`…). */
export function valueOptions(command: Command): string[] {
  return Object.entries(command.options).flatMap(([name, o]) => (o.type === 'string' ? [...(o.short ? [`-${o.short}`] : []), `--${name}`] : []))
}

/** Parses `argv` against the subcommand's options; `help` is true for `-h`/`--help`. */
export function parseCommand<O extends Record<string, OptionSpec>>(command: Command<O>, argv: string[]): { values: Values<O>; positionals: string[]; help: boolean } {
  const options = Object.fromEntries(Object.entries(withHelp(command.options)).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]))
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: command.positionals, options })
  const { help, ...rest } = values as Record<string, unknown>
  return { values: rest as Values<O>, positionals, help: help === true }
}
