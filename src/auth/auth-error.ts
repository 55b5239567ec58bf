/**
 * AuthError: one precise reason per authentication failure. Every reason answers 401 with the same
 * code; the reason is for the logs, and the public message never tells whether a user exists.
 */
import { MemkvError } from '../errors.js';

/** Why a request or a login was not authenticated. */
export type AuthFailure =
  | 'token_missing'
  | 'header_malformed'
  | 'token_malformed'
  | 'token_expired'
  | 'bad_signature'
  | 'algorithm_not_allowed'
  | 'claims_invalid'
  | 'wrong_token_type'
  | 'token_revoked'
  | 'refresh_token_reused'
  | 'bad_credentials';

const INVALID_TOKEN = 'the token is not valid; log in again';

const MESSAGES: { readonly [R in AuthFailure]: string } = {
  token_missing: 'a bearer token is required: send "Authorization: Bearer <access_token>"',
  header_malformed: 'the Authorization header must be "Bearer <access_token>"',
  token_malformed: INVALID_TOKEN,
  token_expired: 'the token has expired; refresh it or log in again',
  bad_signature: INVALID_TOKEN,
  algorithm_not_allowed: INVALID_TOKEN,
  claims_invalid: INVALID_TOKEN,
  wrong_token_type: INVALID_TOKEN,
  token_revoked: INVALID_TOKEN,
  refresh_token_reused: INVALID_TOKEN,
  bad_credentials: 'invalid username or password',
};

/** The `WWW-Authenticate` challenge of every 401 answer (RFC 6750). */
export const BEARER_CHALLENGE = 'Bearer realm="memkv"';

/** A failed authentication: code `unauthorized` (401), with the precise `reason` for the logs. */
export class AuthError extends MemkvError {
  readonly reason: AuthFailure;

  constructor(reason: AuthFailure, options?: { cause?: unknown }) {
    super('unauthorized', MESSAGES[reason], options);
    this.reason = reason;
  }

  /** The `WWW-Authenticate` header value for this failure (RFC 6750 section 3). */
  get challenge(): string {
    switch (this.reason) {
      case 'token_missing':
      case 'bad_credentials':
        return BEARER_CHALLENGE;
      case 'header_malformed':
        return `${BEARER_CHALLENGE}, error="invalid_request"`;
      default:
        return `${BEARER_CHALLENGE}, error="invalid_token"`;
    }
  }
}
