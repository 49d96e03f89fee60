'use strict'
const { createApi } = require('./lib/api')
module.exports = createApi(require('apache-arrow'))
