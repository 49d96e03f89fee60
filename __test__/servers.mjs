// What starting a server on 127.0.0.1 takes, without the tests' helpers (which only `npm test` can
// load): the tests' emulators.mjs and the bench's storms (bench/storm.mjs) both use it.
import net from 'node:net'

/** A port nothing listens on now. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Storage options for the S3 emulator (moto) at `endpoint`. moto accepts any credentials; these
 *  only have to look like AWS's. */
export const motoStorageOptions = (endpoint) => ({
  AWS_ENDPOINT_URL: endpoint,
  AWS_ALLOW_HTTP: 'true',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing-key-id',
  AWS_SECRET_ACCESS_KEY: 'testing-secret-key-0123456789',
})
