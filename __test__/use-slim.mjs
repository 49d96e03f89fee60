// Imported first by tests of the slim build: lib/native.js then loads slim/zoopipe.<platform>.node.
process.env.ZOOPIPE_VARIANT = 'slim'
