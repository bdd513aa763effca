/** Argument checks: every bad argument becomes `Expected X for Y but received Z`. */

/** A short, safe description of a received value (never calls user code such as `toString`). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return value.length > 80 ? `a string of ${value.length} characters` : `the string ${JSON.stringify(value)}`
  if (typeof value === 'bigint') return `the bigint ${value}n`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return typeof value
}

export function typeError(expected: string, name: string, value: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(value)}`)
}

export function rangeError(expected: string, name: string, value: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(value)}`)
}
