export { CryptoError } from '../errors.js';
export * from './algorithms.js';
export * from './der.js';
export * from './errors.js';
export * from './jws.js';
export * from './message.js';
export * from './schemas.js';
