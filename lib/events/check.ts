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

/** A u64 value: a bigint, or a non-negative safe integer. */
export type U64 = bigint | number

/** Checks and converts a u64 value (an option, a field of a typed event): a bigint in [0, 2^64). */
/** An optional integer option: TypeError for another type or a fraction, RangeError outside [min, max]. */
export function optionalInt(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(`an integer from ${min} to ${max}`, name, v)
  if (v < min || v > max) throw rangeError(`an integer from ${min} to ${max}`, name, v)
  return v
}

export function toU64(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 64n) throw rangeError('a bigint in [0, 2^64)', name, value)
    return value
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw rangeError('a non-negative safe integer or a bigint', name, value)
    return BigInt(value)
  }
  throw typeError('a bigint or a non-negative integer', name, value)
}

/** Parses a u64 written in decimal or 0x-hex. */
export function parseU64(text: string, what: string): bigint {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new TypeError(`Expected a decimal or 0x-hex number for ${what} but received ${JSON.stringify(text)}`)
  const v = BigInt(text)
  if (v >= 1n << 64n) throw new RangeError(`Expected a value below 2^64 for ${what} but received ${text}`)
  return v
}
