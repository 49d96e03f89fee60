// Deterministic synthetic order events as CSV (a seeded PRNG: the same rows on every machine).
import fs from 'node:fs'

const REGIONS = ['eu', 'us', 'apac', 'latam']
const SKUS = Array.from({ length: 500 }, (_, i) => `SKU-${String(i).padStart(4, '0')}`)
const STATUSES = ['paid', 'paid', 'paid', 'shipped', 'shipped', 'cancelled']

function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Write `rows` orders starting at `firstId`, spread over `days` days from `startDay` (YYYY-MM-DD). */
export async function writeOrdersCsv(
  file: string,
  firstId: number,
  rows: number,
  startDay: string,
  days: number,
  seed: number,
): Promise<number> {
  const rand = mulberry32(seed)
  const start = Date.parse(`${startDay}T00:00:00Z`)
  const out = fs.createWriteStream(file)
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())))
  await write('order_id,ordered_at,day,customer_id,region,sku,quantity,unit_price,status\n')
  const chunk: string[] = []
  for (let i = 0; i < rows; i++) {
    const t = start + Math.floor(rand() * days * 86_400_000)
    const iso = new Date(t).toISOString()
    const price = (Math.floor(rand() * 20000) / 100 + 1).toFixed(2)
    chunk.push(
      `${firstId + i},${iso},${iso.slice(0, 10)},C${Math.floor(rand() * 50_000)},${REGIONS[Math.floor(rand() * REGIONS.length)]},` +
        `${SKUS[Math.floor(rand() * SKUS.length)]},${1 + Math.floor(rand() * 5)},${price},${STATUSES[Math.floor(rand() * STATUSES.length)]}`,
    )
    if (chunk.length === 10_000) {
      await write(`${chunk.join('\n')}\n`)
      chunk.length = 0
    }
  }
  if (chunk.length) await write(`${chunk.join('\n')}\n`)
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  return fs.statSync(file).size
}
