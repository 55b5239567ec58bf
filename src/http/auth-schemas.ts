/** The HTTP schemas of the auth routes (TypeBox: validation, handler types and OpenAPI in one). */
import { Type } from 'typebox';
import { ROLES } from '@memkv/client/protocol';
import { MAX_KEY_PATTERN_LENGTH, MAX_KEY_PATTERNS } from '../auth/key-patterns.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USERNAME_PATTERN } from '../auth/users.js';

const Username = Type.String({
  pattern: USERNAME_PATTERN,
  description: '1 to 64 letters, digits, ".", "_", "@" or "-".',
  examples: ['alice'],
});

const NewPassword = Type.String({
  minLength: MIN_PASSWORD_LENGTH,
  maxLength: MAX_PASSWORD_LENGTH,
  description: `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`,
});

const Role = Type.Enum(ROLES, {
  description: 'readonly reads; readwrite also writes; admin also manages users and the database.',
});

const KeyPatterns = Type.Array(Type.String({ minLength: 1, maxLength: MAX_KEY_PATTERN_LENGTH }), {
  minItems: 1,
  maxItems: MAX_KEY_PATTERNS,
  description: 'Keys the user may read or write, as patterns: `*` any run of characters, `?` one character, `\\` escapes. Default `["*"]`.',
  examples: [['cache:*', 'session:?']],
});

export const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const LoginBody = Type.Object(
  {
    // Loose on purpose: a name that could not exist gets the same answer as a wrong password.
    username: Type.String({ maxLength: 256 }),
    password: Type.String({ maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);

export const RefreshBody = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 4096, description: 'The refresh token of the last login or refresh.' }) },
  { additionalProperties: false },
);

export const LogoutBody = Type.Object(
  { refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Also revoke this refresh token.' })) },
  { additionalProperties: false },
);

export const RegisterBody = Type.Object(
  { username: Username, password: NewPassword, role: Role, keys: Type.Optional(KeyPatterns) },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object({ password: NewPassword }, { additionalProperties: false });

export const TokenPair = Type.Object(
  {
    access_token: Type.String({ description: 'Send as `Authorization: Bearer <access_token>`.' }),
    refresh_token: Type.String({ description: 'Trade for a new pair at /auth/refresh; works once.' }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Lifetime of the access token, in seconds.' }),
  },
  { additionalProperties: false },
);

export const User = Type.Object(
  {
    username: Type.String(),
    role: Role,
    keys: Type.Array(Type.String()),
    created_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

export const Users = Type.Object({ users: Type.Array(User) }, { additionalProperties: false });
