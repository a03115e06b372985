export { type FakeKms, installFakeKms } from './fake-kms.js';
