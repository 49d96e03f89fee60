// Must NOT compile: index.d.ts rejects a mode that does not exist.
import { DeltaOutputAdapter } from 'zoopipe'
export const out = new DeltaOutputAdapter('/tmp/x', { mode: 'bogus' })
