// Storage options for the S3 emulator (moto) at `endpoint`: the tests' emulators.mjs and the bench's
// storms (bench/storm.mjs, which cannot load the tests' helpers) both start one. moto accepts any
// credentials; these only have to look like AWS's.
export const motoStorageOptions = (endpoint) => ({
  AWS_ENDPOINT_URL: endpoint,
  AWS_ALLOW_HTTP: 'true',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing-key-id',
  AWS_SECRET_ACCESS_KEY: 'testing-secret-key-0123456789',
})
