// Writes batches forever (until killed) into one DeltaOutputAdapter that is never closed.
import { DeltaOutputAdapter } from '../../index.mjs'
const out = new DeltaOutputAdapter(process.argv[2], { mode: 'append' })
for (let i = 0; ; i++) {
  await out.write(Array.from({ length: 5000 }, (_, j) => ({ id: i * 5000 + j, name: `killed-${i}` })))
  if (i === 3) process.stdout.write('writing\n')
}
