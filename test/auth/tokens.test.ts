import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/auth/auth-error.js';
import { TokenSigner } from '../../src/auth/tokens.js';
import { createManualClock } from '../../src/engine/clock.js';
import { EPOCH, SECRET, decodePart, replacePart } from '../helpers/auth-app.js';

const subject = { userId: 'u1', sessionId: 's1', username: 'alice', role: 'readwrite' } as const;

function signer(clock = createManualClock(EPOCH), secret: string = SECRET) {
  return new TokenSigner({ secret, accessTtlMs: 60_000, refreshTtlMs: 3_600_000, clock });
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).status).toBe(401);
    return (error as AuthError).reason;
  }
  throw new Error('expected the token to be refused');
}

describe('tokens', () => {
  it('carry sub, sid, jti, iat, exp, name, role and use, signed with HS256', async () => {
    const clock = createManualClock(EPOCH);
    const tokens = signer(clock);
    const { token, jti, expiresAtMs } = await tokens.sign(subject, 'access');
    expect(decodePart(token, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = await tokens.verify(token, 'access');
    expect(claims).toMatchObject({ sub: 'u1', sid: 's1', jti, name: 'alice', role: 'readwrite', use: 'access' });
    expect(claims.iat).toBe(Math.floor(EPOCH / 1000));
    expect(claims.exp).toBe(claims.iat + 60);
    expect(expiresAtMs).toBe(claims.exp * 1000);
    expect(tokens.accessTtlSeconds).toBe(60);
  });

  it('expire by the injected clock', async () => {
    const clock = createManualClock(EPOCH);
    const tokens = signer(clock);
    const { token } = await tokens.sign(subject, 'access');
    clock.advance(59_000);
    await expect(tokens.verify(token, 'access')).resolves.toBeTruthy();
    clock.advance(1_000);
    expect(await reason(tokens.verify(token, 'access'))).toBe('token_expired');
  });

  it('refuse alg none, another algorithm, another secret, a tampered payload and garbage', async () => {
    const tokens = signer();
    const { token } = await tokens.sign(subject, 'access');
    const payload = decodePart(token, 1);

    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${token.split('.')[1]}.`;
    expect(await reason(tokens.verify(none, 'access'))).toBe('algorithm_not_allowed');

    const hs512 = await new SignJWT(payload).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET));
    expect(await reason(tokens.verify(hs512, 'access'))).toBe('algorithm_not_allowed');

    const other = await signer(createManualClock(EPOCH), 'another-secret-another-secret-another').sign(subject, 'access');
    expect(await reason(tokens.verify(other.token, 'access'))).toBe('bad_signature');

    const tampered = replacePart(token, 1, { ...payload, role: 'admin' });
    expect(await reason(tokens.verify(tampered, 'access'))).toBe('bad_signature');

    for (const garbage of ['', 'abc', 'a.b.c', `${token}x`.repeat(200)]) {
      expect(await reason(tokens.verify(garbage, 'access'))).toMatch(/token_malformed|bad_signature/);
    }
  });

  it('tell access and refresh tokens apart', async () => {
    const tokens = signer();
    const refresh = await tokens.sign(subject, 'refresh');
    expect(await reason(tokens.verify(refresh.token, 'access'))).toBe('wrong_token_type');
    await expect(tokens.verify(refresh.token, 'refresh')).resolves.toMatchObject({ use: 'refresh', exp: Math.floor(EPOCH / 1000) + 3600 });
  });

  it('refuse a validly signed token with missing or odd claims', async () => {
    const key = new TextEncoder().encode(SECRET);
    const iat = Math.floor(EPOCH / 1000);
    const noRole = await new SignJWT({ sid: 's', name: 'n', use: 'access' })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('memkv').setSubject('u').setJti('j').setIssuedAt(iat).setExpirationTime(iat + 60).sign(key);
    expect(await reason(signer().verify(noRole, 'access'))).toBe('claims_invalid');
    const noExp = await new SignJWT({ sid: 's', name: 'n', role: 'admin', use: 'access' })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('memkv').setSubject('u').setJti('j').setIssuedAt(iat).sign(key);
    expect(await reason(signer().verify(noExp, 'access'))).toBe('claims_invalid');
    const otherIssuer = await new SignJWT({ sid: 's', name: 'n', role: 'admin', use: 'access' })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('someone').setSubject('u').setJti('j').setIssuedAt(iat).setExpirationTime(iat + 60).sign(key);
    expect(await reason(signer().verify(otherIssuer, 'access'))).toBe('claims_invalid');
  });

  it('need a secret of 32 bytes and lifetimes of a second', () => {
    expect(() => signer(createManualClock(), 'short')).toThrow(/at least 32 bytes/);
    expect(() => new TokenSigner({ secret: SECRET, accessTtlMs: 10, refreshTtlMs: 60_000 })).toThrow(/accessTtlMs/);
  });
});
