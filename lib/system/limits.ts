/** This process's resource limits (/proc/self/limits) and open file descriptors. */
import { listDir, readText } from './files'

/** A soft limit of /proc/self/limits (`Max open files`, `Max locked memory`): a number, `Infinity` for unlimited, `undefined` when unknown. */
export function softLimit(name: 'Max open files' | 'Max locked memory'): number | undefined {
  const line = (readText('/proc/self/limits') ?? '').split('\n').find((l) => l.startsWith(name))
  const soft = line?.slice(name.length).trim().split(/\s+/)[0]
  if (soft === undefined || soft === '') return undefined
  return soft === 'unlimited' ? Infinity : Number(soft)
}

/** Open files this process may still open (RLIMIT_NOFILE soft limit minus open fds), or Infinity when unknown. */
export function fdRoom(): number {
  const limit = softLimit('Max open files')
  if (limit === undefined || limit === Infinity) return Infinity
  const open = listDir('/proc/self/fd').length
  return open === 0 ? Infinity : limit - open
}
