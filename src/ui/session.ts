/**
 * The dashboard's session: the memkv client it calls the API with, the token pair kept in
 * sessionStorage (gone when the tab closes) and refreshed by the client as any client's is, and
 * what the page may offer the user. The role read from the token only hides controls; the server
 * checks every request itself.
 */
import { MemkvClientError, UnauthorizedError, createClient, type MemkvClient, type TokenPairJson } from '@memkv/client';

const STORAGE_KEY = 'memkv.dashboard.tokens';

export type Role = 'admin' | 'readwrite' | 'readonly';

export interface Session {
  client: MemkvClient;
  /** Whether the server needs a login (AUTH_ENABLED). */
  authEnabled: boolean;
  /** The user's name, or `null` with auth off. */
  username: string | null;
  /** With auth off, every request is allowed: `admin`. */
  role: Role;
}

interface StoredTokens {
  access_token: string;
  refresh_token: string;
}

/** Claims of an access token, read without checking it (the server does). */
function claimsOf(token: string): { name?: unknown; role?: unknown } {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as { name?: unknown; role?: unknown };
  } catch {
    return {};
  }
}

function readStored(): StoredTokens | undefined {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<StoredTokens> | null;
    return typeof stored?.access_token === 'string' && typeof stored.refresh_token === 'string' ? (stored as StoredTokens) : undefined;
  } catch {
    return undefined;
  }
}

function store(tokens: TokenPairJson): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ access_token: tokens.access_token, refresh_token: tokens.refresh_token }));
}

/** Forgets the stored tokens (logout, or a session the server ended). */
export function forgetTokens(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

function newClient(tokens?: StoredTokens): MemkvClient {
  return createClient({
    url: location.origin,
    token: tokens?.access_token,
    refreshToken: tokens?.refresh_token,
    onTokens: store,
    timeoutMs: 15_000,
  });
}

function sessionFrom(client: MemkvClient, token: string): Session {
  const claims = claimsOf(token);
  const role: Role = claims.role === 'admin' || claims.role === 'readwrite' ? claims.role : 'readonly';
  return { client, authEnabled: true, username: typeof claims.name === 'string' ? claims.name : null, role };
}

/**
 * The session to start with: auth off (the API answers without a token), the stored tokens
 * (refreshed if need be), or `null` when the user must log in.
 */
export async function resumeSession(): Promise<Session | null> {
  const stored = readStored();
  const client = newClient(stored);
  try {
    // A probe of bounded cost on any backend (the exact size is a count of every key on Redis).
    await client.listKeys({ limit: 1 });
  } catch (error) {
    if (error instanceof UnauthorizedError) {
      forgetTokens();
      return null;
    }
    throw error;
  }
  if (stored === undefined) return { client, authEnabled: false, username: null, role: 'admin' };
  return sessionFrom(client, readStored()?.access_token ?? stored.access_token);
}

/** Logs in through `POST /api/v1/auth/login`. @throws MemkvClientError (401 for a wrong name or password). */
export async function login(username: string, password: string): Promise<Session> {
  const client = newClient();
  const tokens = await client.login(username, password);
  return sessionFrom(client, tokens.access_token);
}

/** Logs out on the server (best effort) and forgets the tokens. */
export async function logout(session: Session): Promise<void> {
  try {
    await session.client.logout();
  } finally {
    forgetTokens();
  }
}

/** Whether `error` means the session is over and the user must log in again. */
export function isSessionOver(error: unknown): boolean {
  return error instanceof UnauthorizedError;
}

/** A readable one-line message for an error from the API or the network. */
export function errorText(error: unknown): string {
  if (error instanceof MemkvClientError) return `${error.message} (${error.code}${error.status === undefined ? '' : `, ${error.status}`})`;
  return error instanceof Error ? error.message : String(error);
}
