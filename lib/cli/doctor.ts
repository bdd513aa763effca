/**
 * `perf-event-open doctor`: what works on this machine, and the exact fix for what does not
 * (lib/discovery/doctor.ts), as text or JSON.
 * @packageDocumentation
 */
import { doctor as diagnose, formatDoctor } from '../discovery/doctor'
import { defineCommand } from './command'
import { EXIT } from './conventions'

export const doctor = defineCommand({
  name: 'doctor',
  usage: [{ options: '[--json]', operands: '', summary: 'what works here, and the exact fix for what does not' }],
  about: `Checks the kernel and the addon's build, perf_event_open itself, perf_event_paranoid, capabilities,
hardware counters, tracefs and tracepoints, probes, the locked-memory limit, the sample rate and the
symbolizer, and prints the fix for each that fails. Exits 1 when perf_event_open itself does not work.`,
  options: {
    json: { type: 'boolean', short: 'j', description: 'print the report as one JSON object on stdout' },
  },
  positionals: false,
  run(values) {
    const report = diagnose()
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatDoctor(report)}\n`)
    return report.checks.some((c) => c.id === 'syscall' && c.status === 'fail') ? EXIT.failed : EXIT.ok
  },
})
