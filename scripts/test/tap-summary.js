// Passes ava's TAP output through and ends with one plain line: "ava: N passed, N failed, N skipped".
let passed = 0, failed = 0, skipped = 0, buf = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => {
  process.stdout.write(d)
  buf += d
  const lines = buf.split('\n')
  buf = lines.pop()
  for (const l of lines) {
    let m
    if ((m = /^# pass (\d+)/.exec(l))) passed = +m[1]
    else if ((m = /^# fail (\d+)/.exec(l))) failed = +m[1]
    else if ((m = /^# skip (\d+)/.exec(l))) skipped = +m[1]
  }
})
process.stdin.on('end', () => {
  console.log(`ava: ${passed} passed, ${failed} failed, ${skipped} skipped`)
  if (failed > 0 || passed === 0) process.exitCode = 1
})
