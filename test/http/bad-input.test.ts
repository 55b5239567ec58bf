import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ app: { maxBodyBytes: 4096 } });
  t.store.set('s', 'original');
  t.store.set('l', ['a']);
});
afterEach(async () => {
  await t.close();
});

/** After every refused request, the data must be exactly as before. */
function expectUnchanged(): void {
  expect(t.store.size).toBe(2);
  expect(t.store.get('s')?.value).toBe('original');
  expect(t.store.get('l')?.value).toEqual(['a']);
}

const json = { 'content-type': 'application/json' };

describe('invalid_json', () => {
  it.each([
    ['truncated', '{"key": "k", "value": '],
    ['not JSON at all', 'hello'],
    ['trailing garbage', '{"key":"k","value":"v"} x'],
    ['single quotes', "{'key':'k'}"],
  ])('answers 400 invalid_json for a %s body', async (_name, payload) => {
    const res = await t.request({ method: 'POST', url: '/api/v1/set', headers: json, payload });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'invalid_json', message: 'the request body is not valid JSON' });
    expectUnchanged();
  });

  it('answers 400 invalid_json for an empty body declared as JSON', async () => {
    const res = await t.request({ method: 'PATCH', url: '/api/v1/s', headers: json, payload: '' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_json');
    expectUnchanged();
  });

  it('refuses prototype poisoning', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/set',
      headers: json,
      payload: '{"key":"k","value":"v","__proto__":{"polluted":true}}',
    });
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectUnchanged();
  });
});

describe('invalid_request', () => {
  const cases: [string, string, string, unknown, RegExp][] = [
    ['set without key', 'POST', '/api/v1/set', { value: 'v' }, /^key is required$/],
    ['set without value', 'POST', '/api/v1/set', { key: 'k' }, /^value is required$/],
    ['set with an empty key', 'POST', '/api/v1/set', { key: '', value: 'v' }, /^key must not be empty$/],
    ['set with a numeric key', 'POST', '/api/v1/set', { key: 5, value: 'v' }, /^key must be a string$/],
    ['set with a number value', 'POST', '/api/v1/set', { key: 'k', value: 5 }, /value must be a string or an array of strings/],
    ['set with a boolean value', 'POST', '/api/v1/set', { key: 'k', value: true }, /value must be a string or an array/],
    ['set with a null value', 'POST', '/api/v1/set', { key: 'k', value: null }, /value must be a string or an array/],
    ['set with an object value', 'POST', '/api/v1/set', { key: 'k', value: { a: 1 } }, /value must be a string or an array/],
    ['set with a nested array', 'POST', '/api/v1/set', { key: 'k', value: [['a']] }, /value must be a string or an array/],
    ['set with a number in the list', 'POST', '/api/v1/set', { key: 'k', value: ['a', 1] }, /value must be a string or an array/],
    ['set with a numeric ttl', 'POST', '/api/v1/set', { key: 'k', value: 'v', ttl: 60 }, /ttl must be a duration/],
    ['set with a word ttl', 'POST', '/api/v1/set', { key: 'k', value: 'v', ttl: 'soon' }, /ttl must be a duration/],
    ['set with days', 'POST', '/api/v1/set', { key: 'k', value: 'v', ttl: '1d' }, /ttl must be a duration/],
    ['set with a negative ttl', 'POST', '/api/v1/set', { key: 'k', value: 'v', ttl: '-1h' }, /ttl must be a duration/],
    ['set with a zero ttl', 'POST', '/api/v1/set', { key: 'k', value: 'v', ttl: '0s' }, /ttl must be a positive duration/],
    ['set with a huge ttl', 'POST', '/api/v1/set', { key: 'k', value: 'v', ttl: '9999999999h' }, /ttl must be a positive duration/],
    ['set with an unknown field', 'POST', '/api/v1/set', { key: 'k', value: 'v', tll: '1h' }, /unknown field "tll"/],
    ['set with an array body', 'POST', '/api/v1/set', ['k', 'v'], /must be a JSON object/],
    ['set with a string body', 'POST', '/api/v1/set', '"k"', /must be a JSON object/],
    ['update with a number', 'PATCH', '/api/v1/s', { value: 1 }, /value must be a string or an array/],
    ['update without value', 'PATCH', '/api/v1/s', { ttl: '1h' }, /^value is required$/],
    ['update with a bad ttl', 'PATCH', '/api/v1/s', { value: 'v', ttl: '1 hour' }, /ttl must be a duration/],
    ['push of an empty list', 'PATCH', '/api/v1/l/push', { value: [] }, /value must not be an empty array/],
    ['push of a number', 'PATCH', '/api/v1/l/push', { value: 7 }, /value must be a string or an array/],
    ['push with null', 'PATCH', '/api/v1/l/push', { value: null }, /value must be a string or an array/],
    ['push without body', 'PATCH', '/api/v1/l/push', undefined, /must be a JSON object/],
  ];

  it.each(cases)('%s: 400 invalid_request with a clear message', async (_name, method, url, payload, message) => {
    const res = await t.request({
      method: method as 'POST',
      url,
      headers: payload === undefined ? {} : json,
      payload: typeof payload === 'string' || payload === undefined ? (payload as string | undefined) : JSON.stringify(payload),
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
    expect(res.body.message).toMatch(message);
    expectUnchanged();
  });

  it('never coerces types: the number 5 is not stored as "5"', async () => {
    await t.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'n', value: 5 } });
    expect(t.store.get('n')).toBeUndefined();
  });
});

describe('payload_too_large and unsupported_media_type', () => {
  it('answers 413 for a body over MAX_BODY_BYTES', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'big', value: 'x'.repeat(5000) } });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ code: 'payload_too_large', message: 'the request body is larger than the limit of 4096 bytes' });
    expectUnchanged();
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x'])(
    'answers 415 for a %s body',
    async (type) => {
      const res = await t.request({ method: 'POST', url: '/api/v1/set', headers: { 'content-type': type }, payload: 'key=k&value=v' });
      expect(res.status).toBe(415);
      expect(res.body.code).toBe('unsupported_media_type');
      expectUnchanged();
    },
  );

  it('accepts JSON with a charset parameter', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/set',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: '{"key":"k","value":"v"}',
    });
    expect(res.status).toBe(200);
  });
});

describe('server errors', () => {
  it('a bug becomes 500 internal_server_error without details, and the server keeps serving', async () => {
    const broken = await createTestApp({
      store: {
        journal: (m) => {
          if (m.type === 'set' && m.key === 'boom') throw new TypeError('secret internal detail');
        },
      },
    });
    try {
      const res = await broken.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'boom', value: 'v' } });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ code: 'internal_server_error', message: 'internal server error' });
      expect(res.raw).not.toContain('secret');
      const ok = await broken.request({ method: 'POST', url: '/api/v1/set', payload: { key: 'fine', value: 'v' } });
      expect(ok.status).toBe(200);
      expect(broken.store.get('boom')).toBeUndefined();
    } finally {
      await broken.close();
    }
  });
});
