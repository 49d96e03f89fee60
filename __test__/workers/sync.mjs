// An incremental pipe in a separate process, to be killed: node sync.mjs SOURCE TARGET
// One target commit per source version, each batch held 40 ms in its transform so that a kill can
// land anywhere in the run. Prints "done" at the end.
import { DeltaChangesInputAdapter, DeltaOutputAdapter, Pipe } from '../../index.mjs'
const [source, target] = process.argv.slice(2)
await new Pipe({
  input: new DeltaChangesInputAdapter(source),
  transform: async (batch) => {
    await new Promise((r) => setTimeout(r, 40))
    return batch
  },
  output: new DeltaOutputAdapter(target, { commitProperties: { appId: 'silver' } }),
  maxVersionsPerCommit: 1,
}).run()
console.log('done')
