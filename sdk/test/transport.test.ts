import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ApiError, NetworkError } from '../src/errors.js';
import { memoryStorage, wxStorage } from '../src/storage.js';
import { fetchTransport, wxTransport } from '../src/transport.js';
import { createFakeWx } from './fake-wx.js';
import { apiError, BASE, harness } from './helpers.js';

const importReport = { kind: 'users', dry_run: false, created: 3, updated: 0, unchanged: 1 };

test('upload: the string body of wx.uploadFile is parsed, answers and errors alike', async () => {
  const h = harness(async (req) => {
    assert.equal(req.api, 'uploadFile');
    assert.equal(req.name, 'file');
    assert.equal(req.filePath, 'wxfile://roster.csv');
    return req.path.endsWith('dry_run=true')
      ? apiError(422, 'import.invalid_rows', {}, { errors: [{ row: 3, field: 'phone', code: 'invalid', message: '手机号无效' }] })
      : { status: 200, body: importReport };
  });
  const ok = await h.client.upload('/api/v1/admin/import/{kind}', { filePath: 'wxfile://roster.csv' }, { params: { kind: 'users' } });
  assert.deepEqual(ok, importReport);
  await assert.rejects(
    h.client.upload('/api/v1/admin/import/{kind}', { filePath: 'wxfile://roster.csv' }, { params: { kind: 'users' }, query: { dry_run: true } }),
    (e: unknown) =>
      e instanceof ApiError &&
      e.status === 422 &&
      e.code === 'import.invalid_rows' &&
      Array.isArray(e.details['errors']) &&
      e.message === 'message of import.invalid_rows',
  );
});

test('download: a 4xx error body is read from the temp file into an ApiError', async () => {
  const h = harness(async (req) =>
    req.path.includes('problems.xlsx')
      ? apiError(403, 'stats.forbidden')
      : { status: 200, text: 'PK\u0003\u0004…xlsx bytes' },
  );
  await assert.rejects(
    h.client.download('/api/v1/exports/problems.xlsx'),
    (e: unknown) => e instanceof ApiError && e.status === 403 && e.code === 'stats.forbidden' && e.message === 'message of stats.forbidden',
  );
  const { tempFilePath } = await h.client.download('/api/v1/exports/daily-reports.xlsx');
  assert.equal(h.wx.files.get(tempFilePath), 'PK\u0003\u0004…xlsx bytes');
});

test('wxTransport: lower-cases headers, parses JSON, turns wx failures into NetworkError', async () => {
  const wx = createFakeWx(async (req) =>
    req.path === '/down' ? { fail: 'timeout' } : { status: 200, headers: { ETag: '"e1"', 'X-Request-Id': 'r1' }, body: { a: 1 } },
  );
  const t = wxTransport(wx);
  const res = await t.request({ method: 'POST', url: `${BASE}/x`, headers: { 'Content-Type': 'application/json' }, body: '{"b":2}' });
  assert.deepEqual(res, { status: 200, headers: { etag: '"e1"', 'x-request-id': 'r1' }, body: { a: 1 } });
  assert.equal(wx.requests[0]?.raw, '{"b":2}', 'the body goes out as the exact string');
  await assert.rejects(t.request({ method: 'GET', url: `${BASE}/down`, headers: {} }), (e: unknown) => e instanceof NetworkError && /timeout/.test(e.message));
});

test('fetchTransport: real HTTP on loopback; a closed port is a NetworkError', async () => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/304') {
        res.writeHead(304, { ETag: '"x"' });
        return res.end();
      }
      res.writeHead(201, { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' });
      res.end(JSON.stringify({ echo: JSON.parse(body), key: req.headers['idempotency-key'] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const t = fetchTransport();
    const res = await t.request({
      method: 'POST',
      url: `http://127.0.0.1:${port}/x`,
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'k1' },
      body: '{"a":1}',
      timeoutMs: 5000,
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers['idempotent-replayed'], 'true');
    assert.deepEqual(res.body, { echo: { a: 1 }, key: 'k1' });
    const notModified = await t.request({ method: 'GET', url: `http://127.0.0.1:${port}/304`, headers: {} });
    assert.deepEqual([notModified.status, notModified.body], [304, undefined]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  await assert.rejects(fetchTransport().request({ method: 'GET', url: `http://127.0.0.1:${port}/gone`, headers: {} }), NetworkError);
});

test('wxStorage over the callback API: missing keys are undefined', async () => {
  const wx = createFakeWx();
  const s = wxStorage(wx);
  assert.equal(await s.get('k'), undefined);
  await s.set('k', '{"v":1}');
  assert.equal(await s.get('k'), '{"v":1}');
  await s.remove('k');
  assert.equal(await s.get('k'), undefined);
});

test('wxStorage over promise-style wrappers', async () => {
  const map = new Map<string, unknown>();
  const s = wxStorage({
    getStorage: ({ key }) => (map.has(key) ? Promise.resolve({ data: map.get(key) }) : Promise.reject({ errMsg: 'getStorage:fail data not found' })),
    setStorage: ({ key, data }) => Promise.resolve(void map.set(key, data)),
    removeStorage: ({ key }) => Promise.resolve(void map.delete(key)),
  });
  assert.equal(await s.get('a'), undefined);
  await s.set('a', 'x');
  assert.equal(await s.get('a'), 'x');
  const m = memoryStorage({ b: 'y' });
  assert.equal(await m.get('b'), 'y');
});
