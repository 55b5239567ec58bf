/** Public entry of @memkv/client. */
export * from './protocol.js';
