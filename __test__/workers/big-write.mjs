// A separate process writing ROWS rows of incompressible text (about 70 bytes each) in one
// writeDelta, so its data file goes up as a multipart upload: node big-write.mjs URI ROWS
// ZOOPIPE_TEST_STORAGE: storage options as JSON. Prints 'done' when the write returned.
import crypto from 'node:crypto'
import { writeDelta } from '../../index.mjs'
const storageOptions = JSON.parse(process.env.ZOOPIPE_TEST_STORAGE || '{}')
const [uri, rows] = process.argv.slice(2)
const data = Array.from({ length: Number(rows) }, (_, i) => ({ id: BigInt(1000 + i), name: crypto.randomBytes(32).toString('hex') }))
await writeDelta(uri, data, { storageOptions })
console.log('done')
