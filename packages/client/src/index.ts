/** Public entry of @memkv/client: the client, its errors, its row types and the wire types. */
export { createClient, MemkvClient, CLIENT_DEFAULTS } from './client.js';
export type {
  CallOptions,
  ClientOptions,
  ConditionalOptions,
  TxnOptions,
  DeletePrefixOptions,
  FetchFunction,
  KeysOptions,
  KeysPageOptions,
  PopOptions,
  PushOptions,
  Ttl,
  WireCalls,
  WriteOptions,
} from './client.js';
export type { WatchOptions } from './watch.js';
export {
  MemkvClientError,
  NotFoundError,
  WrongTypeError,
  ListEmptyError,
  ValidationError,
  UnauthorizedError,
  ForbiddenError,
  ConnectionError,
  TimeoutError,
  UnexpectedResponseError,
  PreconditionFailedError,
  TxnConflictError,
  HistoryCompactedError,
} from './errors.js';
export type { ClientErrorCode, MemkvClientErrorOptions } from './errors.js';
export type { Row, StringRow, ListRow, PopRow, MinimalListRow, MinimalPopRow, RangeRow, Expiry } from './row.js';
export * from './protocol.js';
