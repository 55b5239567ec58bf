import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DOCUMENTED_PATHS, createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let doc: any;

beforeAll(async () => {
  t = await createTestApp();
  const res = await t.request({ method: 'GET', url: '/api/v1/docs/swagger.json' });
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await t.close();
});

describe('the served OpenAPI document', () => {
  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it('documents every data and db route and hides the docs routes', () => {
    expect(Object.keys(doc.paths).sort()).toEqual([...DOCUMENTED_PATHS].sort());
    expect(Object.keys(doc.paths['/api/v1/{key}']).sort()).toEqual(['delete', 'get', 'patch']);
  });

  it('documents the Prefer header of push and pop, both answer shapes and Preference-Applied', () => {
    for (const path of ['/api/v1/{key}/push', '/api/v1/{key}/pop']) {
      const operation = doc.paths[path].patch;
      expect(operation.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'prefer', required: false }));
      const ok = operation.responses['200'];
      expect(Object.keys(ok.headers)).toEqual(['Preference-Applied', 'ETag', 'Idempotent-Replayed']);
      const shapes = ok.content['application/json'].schema.anyOf as { properties: Record<string, unknown> }[];
      expect(shapes.map((shape) => Object.keys(shape.properties).includes('value'))).toEqual([true, false]);
      expect(shapes.map((shape) => Object.keys(shape.properties).includes('length'))).toEqual([false, true]);
    }
  });

  it('is also served as YAML with the same content', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/docs/swagger.yaml' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/yaml/);
    expect(parseYaml(res.raw)).toEqual(doc);
  });

  it('serves Swagger UI at the seed design address', async () => {
    const redirect = await t.request({ method: 'GET', url: '/api/v1/docs/swagger/index.html' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/api/v1/docs/swagger/');
    const page = await t.request({ method: 'GET', url: '/api/v1/docs/swagger/' });
    expect(page.status).toBe(200);
    expect(page.raw).toContain('swagger-ui');
  });
});

describe('responses conform to the document', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);

  /** Validates one live response against the schema the document gives for its path, method and status. */
  async function check(method: string, url: string, path: string, payload?: unknown, headers?: Record<string, string>): Promise<number> {
    const res = await t.request({
      method: method.toUpperCase() as 'GET',
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      ...(headers === undefined ? {} : { headers }),
    });
    const operation = doc.paths[path]?.[method];
    expect(operation, `${method} ${path} is documented`).toBeDefined();
    const response = operation.responses[String(res.status)];
    expect(response, `${method} ${path} documents status ${res.status}`).toBeDefined();
    const schema = response.content['application/json'].schema;
    const valid = ajv.validate(schema, res.body);
    expect(valid, `${method} ${url} ${res.status}: ${ajv.errorsText()} in ${res.raw}`).toBe(true);
    return res.status;
  }

  it('for successes and errors of every route', async () => {
    const statuses = [
      await check('post', '/api/v1/set', '/api/v1/set', { key: 's', value: 'v', ttl: '1h' }),
      await check('post', '/api/v1/set', '/api/v1/set', { key: 'l', value: ['a', 'b'] }),
      await check('post', '/api/v1/set', '/api/v1/set', { key: 1 }),
      await check('get', '/api/v1/s', '/api/v1/{key}'),
      await check('get', '/api/v1/l', '/api/v1/{key}'),
      await check('get', '/api/v1/missing', '/api/v1/{key}'),
      await check('patch', '/api/v1/s', '/api/v1/{key}', { value: ['x'] }),
      await check('patch', '/api/v1/missing', '/api/v1/{key}', { value: 'x' }),
      await check('patch', '/api/v1/l/push', '/api/v1/{key}/push', { value: ['c'] }),
      await check('patch', '/api/v1/s/push', '/api/v1/{key}/push', { value: 'c' }),
      await check('post', '/api/v1/set', '/api/v1/set', { key: 'str', value: 'v' }),
      await check('patch', '/api/v1/str/push', '/api/v1/{key}/push', { value: 'c' }),
      await check('patch', '/api/v1/l/pop', '/api/v1/{key}/pop'),
      await check('patch', '/api/v1/l/push', '/api/v1/{key}/push', { value: ['d'] }, { prefer: 'return=minimal' }),
      await check('patch', '/api/v1/l/pop', '/api/v1/{key}/pop', undefined, { prefer: 'return=minimal' }),
      await check('patch', '/api/v1/str/pop', '/api/v1/{key}/pop'),
      await check('patch', '/api/v1/missing/pop', '/api/v1/{key}/pop'),
      await check('delete', '/api/v1/s', '/api/v1/{key}'),
      await check('delete', '/api/v1/s', '/api/v1/{key}'),
      await check('get', '/api/v1/db/keys?limit=1', '/api/v1/db/keys'),
      await check('get', '/api/v1/db/keys?limit=5000', '/api/v1/db/keys'),
      await check('get', '/api/v1/db/keys?delimiter=%3A', '/api/v1/db/keys'),
      await check('post', '/api/v1/db/delete-prefix', '/api/v1/db/delete-prefix', { prefix: 'l', dry_run: true }),
      await check('post', '/api/v1/db/delete-prefix', '/api/v1/db/delete-prefix', { prefix: 'l' }),
      await check('post', '/api/v1/db/delete-prefix', '/api/v1/db/delete-prefix', { prefix: '' }),
      await check('get', '/api/v1/db/size', '/api/v1/db/size'),
      await check('get', '/api/v1/db/stats', '/api/v1/db/stats'),
      await check('post', '/api/v1/db/flush', '/api/v1/db/flush'),
      await check('post', '/api/v1/db/compact', '/api/v1/db/compact'), // 409: this app has no persistence
    ];
    expect(new Set(statuses)).toEqual(new Set([200, 400, 404, 409]));
  });
});
