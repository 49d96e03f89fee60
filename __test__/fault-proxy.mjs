// A fault-injecting HTTP proxy of our own, on 127.0.0.1, in front of an object store emulator: it
// forwards every request, except those an armed rule matches, which it answers with a fault.
//   'drop-response'     forward the request, let the store apply it, then close the connection
//                       without a response (a timeout or reset after the write happened)
//   'reset-mid-upload'  read part of the request body, then reset the connection (nothing forwarded)
//   'precondition'      answer 412 Precondition Failed without forwarding (another writer took it)
//   'stall'             take the request and never answer (an upload hanging mid-way)
import http from 'node:http'

const PRECONDITION =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>'

export async function startFaultProxy(targetPort) {
  const rules = []
  const hits = []
  const server = http.createServer((req, res) => {
    const rule = rules.find((r) => r.times > 0 && r.method === req.method && r.path.test(req.url))
    if (rule) {
      rule.times--
      hits.push({ fault: rule.fault, method: req.method, url: req.url })
    }
    const fault = rule?.fault
    if (fault === 'precondition') {
      req.resume()
      req.on('end', () => res.writeHead(412, { 'content-type': 'application/xml' }).end(PRECONDITION))
      return
    }
    if (fault === 'stall') {
      req.resume()
      return
    }
    if (fault === 'reset-mid-upload') {
      let seen = 0
      req.on('data', (chunk) => {
        seen += chunk.length
        if (seen > 0) req.socket.destroy()
      })
      req.on('end', () => req.socket.destroy())
      return
    }
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      if (fault === 'drop-response') {
        upRes.resume()
        upRes.on('end', () => req.socket.destroy())
        return
      }
      res.writeHead(upRes.statusCode, upRes.headers)
      upRes.pipe(res)
    })
    up.on('error', () => req.socket.destroy())
    req.pipe(up)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    /** Fault the next `times` requests of `method` whose path matches `path`. */
    arm(fault, method, path, times = 1) {
      rules.push({ fault, method, path, times })
    },
    disarm() {
      rules.length = 0
    },
    hits,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(resolve)
      }),
  }
}

/** A commit file of the Delta log (not a checkpoint, not a temporary file). */
export const LOG_COMMIT = /\/_delta_log\/\d{20}\.json(\?|$)/
/** A data file. */
export const DATA_FILE = /\.parquet(\?|$)/
