import { load, type BuildInfo, type NativeBinding } from './loader'
import { wrapDenoPermission } from '../system/files'

export type { NativeBinding, BuildInfo }

let current: NativeBinding | undefined
let info: BuildInfo | undefined

function loadOnce(): NativeBinding {
  let loaded: ReturnType<typeof load>
  try {
    loaded = load()
  } catch (e) {
    // Deno without -A: choosing and loading the binary reads env, sys info and files.
    throw wrapDenoPermission(e, '', 'what loading the native module needs')
  }
  info = loaded.info
  return loaded.binding
}

/** The native module, loaded on first use. */
export function binding(): NativeBinding {
  return (current ??= loadOnce())
}

/** Which build was loaded (loads it if needed). */
export function buildInfo(): BuildInfo {
  binding()
  return { ...(info ?? { variant: 'custom', kernel: '', target: '', path: '' }) }
}

/** Replaces the native module (tests use a fake; `undefined` restores the real one). Not part of the public API. */
export function setBinding(b: NativeBinding | undefined): void {
  current = b
}
