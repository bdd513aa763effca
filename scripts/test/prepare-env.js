// Before the tests: tracepoint tests need tracefs. Root can mount it; others get a clear note.
const { existsSync } = require('node:fs')
const { execFileSync } = require('node:child_process')

if (!existsSync('/sys/kernel/tracing/events') && !existsSync('/sys/kernel/debug/tracing/events')) {
  if (process.getuid && process.getuid() === 0) {
    try {
      execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: 'inherit' })
      console.log('mounted tracefs at /sys/kernel/tracing')
    } catch (e) {
      console.warn(`could not mount tracefs: ${e.message}`)
    }
  } else {
    console.warn('tracefs is not mounted; tracepoint tests will fail. As root: mount -t tracefs nodev /sys/kernel/tracing')
  }
}
