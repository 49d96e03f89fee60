// The slim build (no DataFusion) measured like the full one, in its own process (the loader picks
// slim/ with ZOOPIPE_VARIANT=slim). Prints { scenario: [seconds...] } as JSON.
// Usage: node bench/slim.mjs TABLE RUNS LO HI APPEND_ROWS OUT PART_LO PART_HI
import fs from 'node:fs'
process.env.ZOOPIPE_VARIANT = 'slim'
const { readDelta, writeDelta } = await import('../index.mjs')
const [table, runs, lo, hi, appendRows, out, plo, phi] = process.argv.slice(2)
async function timed(fn) {
  await fn()
  const xs = []
  for (let i = 0; i < Number(runs); i++) {
    const t = performance.now()
    await fn()
    xs.push((performance.now() - t) / 1000)
  }
  return xs
}
const src = (await readDelta(table, { version: 0 })).slice(0, Number(appendRows))
const partSrc = await readDelta(table, {
  filter: [
    ['id', '>=', Number(plo)],
    ['id', '<', Number(phi)],
  ],
})
console.log(
  JSON.stringify({
    read_full: await timed(() => readDelta(table)),
    read_filtered: await timed(() =>
      readDelta(table, {
        filter: [
          ['part', '=', 'p3'],
          ['id', '>=', Number(lo)],
          ['id', '<', Number(hi)],
        ],
      }),
    ),
    append_table: await timed(async () => {
      fs.rmSync(out, { recursive: true, force: true })
      await writeDelta(out, src)
    }),
    append_partitioned: await timed(async () => {
      fs.rmSync(out, { recursive: true, force: true })
      await writeDelta(out, partSrc, { partitionBy: ['part'] })
    }),
  }),
)
