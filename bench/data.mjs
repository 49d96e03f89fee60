// The benchmark's rows: 10 columns of mixed types and a low-cardinality partition column `part`
// (8 values), generated deterministically from the row index.
import { Bool, makeVector, Table, TimestampMicrosecond, Utf8, vectorFromArray } from 'apache-arrow'

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
  const name = new Array(n),
    category = new Array(n),
    flag = new Array(n),
    part = new Array(n)
  const t0 = 1_704_067_200_000_000n
  for (let i = 0; i < n; i++) {
    const k = start + i
    id[i] = BigInt(k)
    user[i] = Math.floor(rand() * 1e6)
    qty[i] = 1 + Math.floor(rand() * 9)
    amount[i] = Math.round(rand() * 1e6) / 100
    score[i] = rand()
    ts[i] = t0 + BigInt(k) * 1_000_000n
    name[i] = `customer-${user[i]}-${'x'.repeat(k % 23)}`
    category[i] = `cat-${k % 50}`
    flag[i] = k % 3 === 0
    part[i] = `p${k % 8}`
  }
  return new Table({
    id: makeVector(id),
    ts: makeVector({ type: new TimestampMicrosecond('UTC'), data: ts }),
    user_id: makeVector(user),
    amount: makeVector(amount),
    quantity: makeVector(qty),
    score: makeVector(score),
    name: vectorFromArray(name, new Utf8()),
    category: vectorFromArray(category, new Utf8()),
    flag: vectorFromArray(flag, new Bool()),
    part: vectorFromArray(part, new Utf8()),
  })
}
