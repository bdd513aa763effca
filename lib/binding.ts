import { arch, platform } from 'node:process'
import type * as Native from '../index'
import { PerfEventError } from './errors'

/** The generated native module (index.js / index.d.ts). */
export type NativeBinding = typeof Native

let current: NativeBinding | undefined

function load(): NativeBinding {
  if (platform !== 'linux') {
    throw new PerfEventError(
      `perf-event-open works only on Linux: perf_event_open(2) is a Linux system call, and this is ${platform}.`,
      'ERR_NATIVE_LOAD',
      { hint: 'Run it on Linux (a VM, WSL2 or a container works; hardware counters may be missing there).' },
    )
  }
  if (arch !== 'x64' && arch !== 'arm64') {
    throw new PerfEventError(`perf-event-open has prebuilt binaries for x64 and arm64 Linux, not ${arch}.`, 'ERR_NATIVE_LOAD', {
      hint: 'Build from source: install Rust (rustup.rs), then run `npm run build` in node_modules/perf-event-open.',
    })
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../index.js') as NativeBinding
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
    throw new PerfEventError(`Could not load the perf-event-open native binary for linux-${arch}: ${detail}`, 'ERR_NATIVE_LOAD', {
      cause,
      hint: [
        'Possible solutions:',
        `- Install optional dependencies: npm install --include=optional perf-event-open (npm skips the platform package perf-event-open-linux-${arch}-gnu with --omit=optional or on an engines mismatch).`,
        '- Delete node_modules and package-lock.json and install again (npm bug with optional dependencies: npm/cli#4828).',
        '- For Electron, unpack *.node from asar (asarUnpack: ["**/*.node"]).',
        '- Build from source with Rust installed: npm run build.',
        '- Point NAPI_RS_NATIVE_LIBRARY_PATH at a .node file you built.',
      ].join('\n'),
    })
  }
}

/** The native module, loaded on first use. */
export function binding(): NativeBinding {
  return (current ??= load())
}

/** Replaces the native module (tests use a fake; `undefined` restores the real one). Not part of the public API. */
export function setBinding(b: NativeBinding | undefined): void {
  current = b
}
