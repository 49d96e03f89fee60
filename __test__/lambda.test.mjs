// examples/lambda handlers on the full build (the cases are in lambda-cases.mjs).
import { lambdaTests } from './lambda-cases.mjs'

lambdaTests()
