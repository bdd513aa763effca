/** Tracepoints by name: the id under tracefs, or an error that says why it could not be read. */

import { PerfEventError } from '../errors/perf-event-error'
import { LOOKUP_HINTS } from '../errors/hints'
import { accessCode, exists, listDir as list, readText as read } from '../system/files'
import { TRACEFS_ROOTS, tracefsRoot } from '../system/kernel'
import { closestNames, suggest, unknown } from './unknown'

export function tracepointId(sys: string, name: string, label: string): bigint {
  const looked: string[] = []
  for (const root of TRACEFS_ROOTS) {
    const path = `${root}/events/${sys}/${name}/id`
    looked.push(path)
    const id = read(path)
    if (id !== undefined) return BigInt(id)
  }
  // Not found, not mounted, or not readable by this user (tracefs is often mode 700): say which.
  const readable = TRACEFS_ROOTS.some((r) => accessCode(`${r}/events`) === undefined)
  const denied = readable
    ? undefined
    : TRACEFS_ROOTS.find((r) => {
        const code = accessCode(r)
        return code === 'EACCES' || code === 'EPERM'
      })
  if (denied !== undefined)
    throw new PerfEventError(`Cannot read tracepoint ${sys}:${name}: ${denied} is not readable by this user (EACCES)`, 'EACCES', {
      syscall: 'open',
      errno: 13,
      hint: LOOKUP_HINTS.tracefsDenied(denied),
    })
  const root = tracefsRoot()
  let near = ''
  if (root !== undefined) {
    // Did you mean: another tracepoint of this subsystem, or the same name in the closest subsystems.
    const inSys = list(`${root}/events/${sys}`).filter((n) => exists(`${root}/events/${sys}/${n}/id`))
    if (inSys.length) near = suggest(closestNames(name, inSys).map((n) => `${sys}:${n}`))
    else {
      const systems = closestNames(sys, list(`${root}/events`).filter((n) => exists(`${root}/events/${n}/${name}/id`) || exists(`${root}/events/${n}/enable`)))
      near = suggest(systems.map((s2) => (exists(`${root}/events/${s2}/${name}/id`) ? `${s2}:${name}` : `${s2}:…`)))
    }
  }
  throw unknown(label, [`no tracepoint ${sys}:${name} (looked for ${looked.join(' and ')})`],
    root !== undefined ? LOOKUP_HINTS.tracepoints(near.trim() ? `${near.trim()} ` : '', sys, root) : LOOKUP_HINTS.tracefsNotMounted())
}
