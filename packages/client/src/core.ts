// The dependency-free part of the client: formats, key rules, the ZK envelope's shape and the wire
// types. The server imports this entry, so it never loads the HTTP client or the Argon2 WASM.
export * from './formats.js';
export * from './keys.js';
export * from './zk-envelope.js';
export * from './wire.js';
