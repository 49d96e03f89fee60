// examples/lambda handlers on the slim build: what a size-limited bundle with zoopipe-slim-<platform> runs.
import './use-slim.mjs' // first: selects the slim addon before zoopipe loads
import { lambdaTests } from './lambda-cases.mjs'

lambdaTests()
