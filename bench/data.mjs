// The benchmark's rows: 10 columns of mixed types and a low-cardinality partition column `part`
// (8 values), generated deterministically from the row index. Strings are encoded straight into
// Arrow's offsets and bytes (no JS string per row): the generator then holds little more than the
// batch itself, so the streamed-write figures measure the writer, not V8's garbage (JS string
// arrays made the generator alone peak at 407 MB for 5 M rows).
import { Bool, makeData, makeVector, Table, TimestampMicrosecond, Utf8 } from 'apache-arrow'

// One scratch buffer for encoding, copied out at the exact size: a batch's strings then allocate
// only what the batch keeps.
let scratch = new Uint8Array(0)
const enc = new TextEncoder()

/** A Utf8 vector of n strings, text(i) each, encoded once into one buffer. */
function strings(n, maxBytes, text) {
  const offsets = new Int32Array(n + 1)
  if (scratch.length < n * maxBytes) scratch = new Uint8Array(n * maxBytes)
  let at = 0
  for (let i = 0; i < n; i++) {
    at += enc.encodeInto(text(i), scratch.subarray(at)).written
    offsets[i + 1] = at
  }
  const bytes = scratch.slice(0, at)
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: bytes }))
}

/** Rows [start, start + n) as an apache-arrow Table. */
export function chunk(start, n) {
  let seed = start + 1
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const id = new BigInt64Array(n),
    user = new Int32Array(n),
    qty = new Int32Array(n)
  const amount = new Float64Array(n),
    score = new Float64Array(n),
    ts = new BigInt64Array(n)
  const flag = new Uint8Array((n + 7) >> 3)
  const t0 = 1_704_067_200_000_000n
  for (let i = 0; i < n; i++) {
    const k = start + i
    id[i] = BigInt(k)
    user[i] = Math.floor(rand() * 1e6)
    qty[i] = 1 + Math.floor(rand() * 9)
    amount[i] = Math.round(rand() * 1e6) / 100
    score[i] = rand()
    ts[i] = t0 + BigInt(k) * 1_000_000n
    if (k % 3 === 0) flag[i >> 3] |= 1 << (i & 7)
  }
  const x = 'x'.repeat(22)
  return new Table({
    id: makeVector(id),
    ts: makeVector({ type: new TimestampMicrosecond('UTC'), data: ts }),
    user_id: makeVector(user),
    amount: makeVector(amount),
    quantity: makeVector(qty),
    score: makeVector(score),
    name: strings(n, 40, (i) => `customer-${user[i]}-${x.slice(0, (start + i) % 23)}`),
    category: strings(n, 8, (i) => `cat-${(start + i) % 50}`),
    flag: makeVector(makeData({ type: new Bool(), length: n, nullCount: 0, data: flag })),
    part: strings(n, 4, (i) => `p${(start + i) % 8}`),
  })
}
