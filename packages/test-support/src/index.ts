export { type FakeKms, installFakeKms } from './fake-kms.js';
export { type LambdaContextOptions, lambdaContext } from './lambda-context.js';
export {
  type DigestAlgorithm,
  derSignature,
  type LocalKey,
  localKey,
  localSymmetricKms,
} from './local-kms.js';
