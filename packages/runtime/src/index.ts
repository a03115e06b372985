export * from './aws.js';
export * from './config.js';
export * from './errors.js';
export * from './event.js';
export * from './http.js';
export * from './logger.js';
export * from './metrics.js';
export type { LambdaHandler, Observability } from './middleware.js';
export * from './redact.js';
