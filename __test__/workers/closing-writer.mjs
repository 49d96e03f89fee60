// Writes a few batches into one DeltaOutputAdapter, says 'closing' and closes it: the commit that a
// test kills at the log write (ZOOPIPE_TEST_PAUSE_BEFORE_LOG_WRITE_MS holds it there).
import { DeltaOutputAdapter } from '../../index.mjs'
const out = new DeltaOutputAdapter(process.argv[2], { mode: 'append' })
for (let i = 0; i < 4; i++) await out.write(Array.from({ length: 5000 }, (_, j) => ({ id: 100 + i * 5000 + j, name: `killed-${i}` })))
process.stdout.write('closing\n')
await out.close()
process.stdout.write('closed\n')
