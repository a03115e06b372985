export * from './context.js';
export * from './decrypt.js';
export * from './encrypt.js';
export * from './envelope.js';
export * from './errors.js';
export * from './materials.js';
