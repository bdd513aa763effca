/**
 * `perf-event-open list`: the events of this machine and whether they open here, in perf list's
 * layout (lib/cli/format.ts) or as JSON.
 * @packageDocumentation
 */
import { listEvents } from '../discovery/list'
import { defineCommand } from './command'
import { EXIT, UsageError, emptyListReason } from './conventions'
import { listLines } from './format'

export const list = defineCommand({
  name: 'list',
  usage: [{ options: '[--json]', operands: '[filter]', summary: 'events of this machine and whether they open here' }],
  about: `Lists the events this machine has (hardware, software, cache, tracepoints, PMU events) and marks
those that do not open here. The filter is a kind (hardware, software, cache, tracepoint, pmu), a
substring of names or categories (syscalls), or a glob (*fault*).`,
  options: {
    json: { type: 'boolean', short: 'j', description: 'print the events as one JSON array on stdout' },
  },
  positionals: true,
  run(values, positionals) {
    if (positionals.length > 1) throw new UsageError(`Expected at most one filter but received ${positionals.length}`)
    const events = listEvents(positionals[0])
    if (events.length === 0) {
      // An empty result says why (tracefs unreadable, not mounted, or the filter matches nothing).
      if (values.json) process.stdout.write('[]\n')
      process.stderr.write(`perf-event-open: ${emptyListReason(positionals[0])}\n`)
      return EXIT.failed
    }
    process.stdout.write(`${values.json ? JSON.stringify(events) : listLines(events)}\n`)
    return EXIT.ok
  },
})
