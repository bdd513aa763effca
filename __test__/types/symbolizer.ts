// The facade's hand-written view of the symbolizer addon (lib/profile/symbolizer.ts, kept free of
// imports from symbolize/ so the published typings stand alone) must match the generated typings of
// symbolize/index.d.ts in both directions (the unwinder's part is in lib/profile/unwind.ts): a field or function on one side only fails here.
import type * as Generated from '../../symbolize/index.js'
import type { SymbolizerBinding } from '../../dist/profile/symbolizer.js'
import type { UnwinderBinding } from '../../dist/profile/unwind.js'

type Native = Omit<typeof Generated, '__napiBindingTarget'>
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const check: Same<SymbolizerBinding & UnwinderBinding, Native> = true
void check
