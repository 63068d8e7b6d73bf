export * from './formats.js';
export * from './keys.js';
export * from './zk-envelope.js';
export * from './wire.js';
