/**
 * How `record -- cmd` starts a Node program so that its JS frames get names: V8's perf map flags
 * after `node` (or after the interpreter of a script whose `#!` line runs node), and in NODE_OPTIONS
 * for Node programs the command starts.
 * @packageDocumentation
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs'
import { basename, delimiter, join, resolve } from 'node:path'

/** Flags that make V8 name JS frames in /tmp/perf-<pid>.map (interpreted ones too). */
export const NODE_PERF_FLAGS = ['--perf-basic-prof', '--interpreted-frames-native-stack']

/** The path `cmd` runs: itself when it has a slash, else the first executable of that name on PATH. */
function which(cmd: string): string | undefined {
  const candidates = cmd.includes('/') ? [resolve(cmd)] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, cmd))
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c
    } catch {
      // not there
    }
  }
  return undefined
}

/** Whether `path` is a Node binary: named node (node, nodejs, node22…) or the same file as this Node. */
function isNodeBinary(path: string): boolean {
  if (/^node(js)?[\d.-]*$/.test(basename(path))) return true
  try {
    return realpathSync(path) === realpathSync(process.execPath)
  } catch {
    return false
  }
}

/** The interpreter of a script's `#!` line (`#!/usr/bin/env node`, `#!/usr/bin/env -S node --flag`, `#!/opt/node/bin/node`). */
function shebang(path: string): string[] | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const buf = Buffer.alloc(256)
    const n = readSync(fd, buf, 0, buf.length, 0)
    const line = buf.subarray(0, n).toString('utf8').split('\n')[0]
    if (!line.startsWith('#!')) return undefined
    const words = line.slice(2).trim().split(/\s+/)
    if (basename(words[0]) === 'env') {
      words.shift()
      while (words[0]?.startsWith('-')) words.shift() // env -S
    }
    return words.length ? words : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The argv that starts `cmd` with V8's perf map on: flags after node, or, for a script whose `#!`
 * runs node, node with the flags, the script's own interpreter flags and the script. Other commands
 * run as given. `node` is true when the flags were added.
 */
export function nodeCommand(cmd: string[]): { argv: string[]; node: boolean } {
  const [file, ...args] = cmd
  const add = (flags: string[]) => [...NODE_PERF_FLAGS.filter((f) => !flags.includes(f)), ...flags]
  const path = which(file)
  if (isNodeBinary(file) || (path !== undefined && isNodeBinary(path))) return { argv: [file, ...add(args)], node: true }
  const interp = path === undefined ? undefined : shebang(path)
  if (interp && isNodeBinary(interp[0])) return { argv: [interp[0], ...add(interp.slice(1)), path!, ...args], node: true }
  return { argv: cmd, node: false }
}

/** The environment of the command: NODE_OPTIONS with the perf map flags added (Node programs it starts, npm, npx, scripts, name their JS frames too). */
export function nodePerfEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const nodeOptions = [env.NODE_OPTIONS ?? '', ...NODE_PERF_FLAGS.filter((f) => !(env.NODE_OPTIONS ?? '').split(/\s+/).includes(f))].join(' ').trim()
  return { ...env, NODE_OPTIONS: nodeOptions }
}
