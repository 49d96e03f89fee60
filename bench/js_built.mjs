// Writes of the tables JS users build (issue: writes from JS-built tables): apache-arrow's
// `tableFromArrays`, which makes JS strings a Dictionary<Int32, Utf8> column, and plain row objects,
// beside Python `write_deltalake` and Polars writing the same rows (saved as Arrow IPC, plain strings),
// and zoopipe writing the same rows with the strings as plain Utf8, alternating with the dictionary
// table (what the dictionary costs).
import fs from 'node:fs'
import path from 'node:path'
import { makeVector, Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow'
import { writeDelta } from '../index.mjs'

/** The rows: id, amount, qty and a customer-N string of 100,000 distinct values. */
function columns(n) {
  const id = new BigInt64Array(n)
  const amount = new Float64Array(n)
  const qty = new Int32Array(n)
  const customer = new Array(n)
  for (let i = 0; i < n; i++) {
    id[i] = BigInt(i)
    amount[i] = (i % 100_000) / 100
    qty[i] = 1 + (i % 9)
    customer[i] = `customer-${(i * 7919) % 100_000}`
  }
  return { id, amount, qty, customer }
}

/** Runs the scenarios for each row count through run.mjs's `scenario` (zoopipe runs split around the peers'). */
export async function jsBuiltScenarios({ runs, sizes, data, scenario, saveIpc, timed, results }) {
  const out = path.join(data, 'js-built-out')
  const write = (t) => async () => {
    fs.rmSync(out, { recursive: true, force: true })
    await writeDelta(out, t)
  }
  for (const n of sizes) {
    const c = columns(n)
    const dict = tableFromArrays(c)
    const plain = new Table({
      id: dict.getChild('id'),
      amount: dict.getChild('amount'),
      qty: dict.getChild('qty'),
      customer: vectorFromArray(c.customer, new Utf8()),
    })
    const peerOut = path.join(data, 'js-built-out-py')
    await scenario(
      `append a JS-built table: tableFromArrays, strings as Dictionary<Int32, Utf8> (${n.toLocaleString()} rows × 4 columns)`,
      n,
      write(dict),
      'append_table',
      { src: saveIpc(plain, path.join(data, 'js-built-src.arrow')), out: peerOut },
      'peers write the same rows with plain strings',
    )
    // What the dictionary costs: dictionary and plain runs alternating, so both see the same
    // conditions (the scenario's own runs are split around the peers' processes).
    const alternating = { dict: [], plain: [] }
    for (let i = 0; i < runs; i++) {
      alternating.dict.push(...(await timed(write(dict), 1, i === 0)))
      alternating.plain.push(...(await timed(write(plain), 1, i === 0)))
    }
    results.at(-1).peers['zoopipe, the same rows with plain Utf8 strings'] = alternating.plain
    results.at(-1).peers['zoopipe, dictionary strings, alternating with plain Utf8'] = alternating.dict
    // Row objects as a user has them: numbers, not bigints (zoopipe stores whole numbers as long).
    const objects = Array.from({ length: n }, (_, i) => ({ id: i, amount: c.amount[i], qty: c.qty[i], customer: c.customer[i] }))
    const same = new Table({
      ...Object.fromEntries(['id', 'amount', 'customer'].map((k) => [k, plain.getChild(k)])),
      qty: makeVector(BigInt64Array.from(c.qty, BigInt)),
    })
    await scenario(
      `append ${n.toLocaleString()} JS row objects { id, amount, qty, customer }`,
      n,
      write(objects),
      'append_rows',
      { src: saveIpc(same.select(['id', 'amount', 'qty', 'customer']), path.join(data, 'js-built-src.arrow')), out: peerOut },
      'peers write the same rows from a list of dicts (Python) / DataFrame(rows) (Polars); Python from an Arrow table beside',
    )
  }
  fs.rmSync(out, { recursive: true, force: true })
}
