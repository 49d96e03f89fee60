'use strict'
const { createApi } = require('./lib/api')
// apache-arrow is most of `require('zoopipe')`'s time (50-60 ms of ~70): it is required when the API
// first uses it (a read, a write, a schema), so code that requires zoopipe but touches no data (the
// CLI's help, a handler's cold path) does not pay it. (index.mjs imports it statically: ES modules
// cannot load it later synchronously.)
let arrow
const lazyArrow = new Proxy(
  {},
  {
    get: (_, key) => {
      arrow ??= require('apache-arrow')
      return arrow[key]
    },
  },
)
module.exports = createApi(lazyArrow)
