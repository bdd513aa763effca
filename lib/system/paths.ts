/** Where the kernel shows its perf devices (no imports: hint texts name these paths too). */

/** Where dynamic PMUs are listed. */
export const PMU_ROOT = '/sys/bus/event_source/devices'
/** Where tracefs may be mounted, in the order looked at. */
export const TRACEFS_ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']
