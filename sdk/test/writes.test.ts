import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../src/errors.js';
import { OUTBOX_KEY, type OutboxEntry } from '../src/queue.js';
import { isQueued } from '../src/writes.js';
import { keyOf, type FakeRequest } from './fake-wx.js';
import type { JsonBody } from '../src/types.js';
import { apiError, harness, problemDetail } from './helpers.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const problem: JsonBody<'/api/v1/problems', 'POST'> = {
  enterprise_id: 'e1',
  description: '园区频繁停电',
  urgency: 'normal',
  departments_requested: [],
};
const signIn: JsonBody<'/api/v1/sign-ins', 'POST'> = { enterprise_id: 'e1', lat: 27.8, lng: 113.1, coord: 'gcj02', accuracy_m: 20 };
const report: JsonBody<'/api/v1/daily-reports/{enterprise_id}/{day}', 'PUT'> = {
  work_done: '走访车间',
  production: { status: 'normal', capacity_pct: 90, staff_on_duty: 9, staff_total: 10, staff_shortage: 0 },
  difficulties: null,
  problems: [],
};

async function outbox(h: { storage: { get(k: string): Promise<string | undefined> } }): Promise<OutboxEntry[]> {
  return JSON.parse((await h.storage.get(OUTBOX_KEY)) ?? '[]') as OutboxEntry[];
}

test('a write is stored with its key before the first send, and its retry resends the same key', async () => {
  let storedAtFirstSend: OutboxEntry[] = [];
  const h = harness(async () => {
    if (h.wx.requests.length === 1) {
      storedAtFirstSend = await outbox(h);
      return { fail: 'timeout' }; // reached nobody, or the answer was lost: unknowable
    }
    return { status: 201, body: problemDetail('p1') };
  });
  const answer = await h.client.write('POST', '/api/v1/problems', problem);
  assert.deepEqual(answer, problemDetail('p1'));
  const [first, second] = h.wx.requests as [FakeRequest, FakeRequest];
  assert.match(keyOf(first) ?? '', UUID_V4);
  assert.equal(keyOf(second), keyOf(first), 'the retry carries the same Idempotency-Key');
  assert.equal(second.raw, first.raw, 'and the same bytes');
  assert.equal(storedAtFirstSend.length, 1);
  assert.equal(storedAtFirstSend[0]?.key, keyOf(first));
  assert.deepEqual(storedAtFirstSend[0]?.body, problem);
  assert.equal(h.sleeps.length, 1);
  assert.deepEqual(await outbox(h), [], 'sent → removed');
  assert.deepEqual(h.events.filter(([n]) => n === 'change'), [['change', 1], ['change', 0]]);
  assert.deepEqual(h.events.find(([n]) => n === 'sent')?.[2], problemDetail('p1'));
});

test('queued offline, replayed in order with the original keys by a new client after a restart', async () => {
  const offline = harness(async () => ({ fail: 'offline' }));
  const a = await offline.client.write('POST', '/api/v1/sign-ins', signIn);
  const b = await offline.client.write('PUT', '/api/v1/daily-reports/{enterprise_id}/{day}', report, {
    params: { enterprise_id: 'e1', day: '2026-11-21' },
  });
  assert.ok(isQueued(a) && isQueued(b));
  const stored = await outbox(offline);
  assert.deepEqual(
    stored.map((e) => [e.id, e.method, e.path]),
    [
      [a.id, 'POST', '/api/v1/sign-ins'],
      [b.id, 'PUT', '/api/v1/daily-reports/e1/2026-11-21'],
    ],
  );
  assert.ok(offline.sleeps.length >= 4, 'tried with backoff before giving up');
  // Each write triggered a flush; both stopped at the head, which the second write never overtook.
  assert.deepEqual(
    stored.map((e) => e.attempts),
    [2, 0],
  );

  // Restart: a new client over the same storage, network back.
  const online = harness(
    async (req) =>
      req.method === 'POST' ? { status: 201, body: { id: 's1' } } : { status: 201, body: { id: 'r1', revision: 1 } },
    { storage: offline.storage },
  );
  assert.equal((await online.client.queue.pending()).length, 2);
  const result = await online.client.flush();
  assert.deepEqual(result, { sent: 2, failed: 0, waiting: 0 });
  assert.deepEqual(
    online.wx.requests.map((r) => [r.method, r.path, keyOf(r)]),
    [
      ['POST', '/api/v1/sign-ins', stored[0]?.key],
      ['PUT', '/api/v1/daily-reports/e1/2026-11-21', stored[1]?.key],
    ],
  );
  assert.deepEqual(online.wx.requests[1]?.body, report);
  assert.deepEqual(await outbox(online), []);
  assert.deepEqual(
    online.events.filter(([n]) => n === 'sent').map(([, id]) => id),
    [a.id, b.id],
  );
  assert.deepEqual(online.events.filter(([n]) => n === 'change').at(-1), ['change', 0]);
});

test('flush stops at the first write that still cannot be sent, keeping order', async () => {
  let up = false;
  const h = harness(async (req) => (up || req.path !== '/api/v1/sign-ins' ? { status: 201, body: { id: req.path } } : { fail: 'offline' }));
  await h.client.write('POST', '/api/v1/sign-ins', signIn);
  await h.client.write('POST', '/api/v1/problems', problem);
  assert.equal(h.wx.requests.filter((r) => r.path === '/api/v1/problems').length, 0, 'never overtakes the sign-in');
  assert.equal((await outbox(h)).length, 2);
  up = true;
  assert.deepEqual(await h.client.flush(), { sent: 2, failed: 0, waiting: 0 });
  assert.deepEqual(
    h.wx.requests.slice(-2).map((r) => r.path),
    ['/api/v1/sign-ins', '/api/v1/problems'],
  );
});

test('a 422 is never retried: the write is dropped, rejected and reported as failed', async () => {
  const h = harness(async () => apiError(422, 'validation.failed', {}, { errors: [{ field: 'description', code: 'required', message: '不能为空' }] }));
  await assert.rejects(
    h.client.write('POST', '/api/v1/problems', problem),
    (e: unknown) => e instanceof ApiError && e.status === 422 && e.code === 'validation.failed',
  );
  assert.equal(h.wx.requests.length, 1);
  assert.deepEqual(h.sleeps, []);
  assert.deepEqual(await outbox(h), []);
  const failed = h.events.find(([n]) => n === 'failed');
  assert.ok(failed && failed[2] instanceof ApiError);
});

test('plain calls never retry other 4xx (nor a 500)', async () => {
  for (const [status, code] of [
    [400, 'request.invalid_body'],
    [403, 'auth.role_required'],
    [404, 'not_found'],
    [409, 'report.in_progress'],
    [422, 'report.closed'],
    [500, 'internal'],
  ] as const) {
    const h = harness(async () => apiError(status, code));
    await assert.rejects(h.client.post('/api/v1/problems', problem), { status, code });
    assert.equal(h.wx.requests.length, 1, `${status} ${code} sent once`);
    assert.deepEqual(h.sleeps, []);
  }
});

test('503 is retried after Retry-After seconds with the same key; 409 in_progress too', async () => {
  const replies = [
    apiError(503, 'database.unavailable', { 'Retry-After': '2' }),
    apiError(409, 'idempotency.in_progress'),
    apiError(503, 'signin.busy', { 'Retry-After': '2' }),
    { status: 201, body: { id: 's1' } },
  ];
  const h = harness(async () => replies.shift() ?? apiError(500, 'internal'));
  const answer = await h.client.write('POST', '/api/v1/sign-ins', signIn);
  assert.deepEqual(answer, { id: 's1' });
  // Retry-After honoured exactly; the 409 (no Retry-After) waits the 2nd backoff step with jitter 0.5.
  assert.deepEqual(h.sleeps, [2000, 750, 2000]);
  assert.equal(new Set(h.wx.requests.map(keyOf)).size, 1);
});

test('backoff grows exponentially with jitter and gives up after maxAttempts (then the write waits)', async () => {
  const h = harness(async () => ({ fail: 'offline' }), { random: () => 1, baseDelayMs: 100 });
  const res = await h.client.write('POST', '/api/v1/problems', problem);
  assert.ok(isQueued(res));
  assert.equal(h.wx.requests.length, 5);
  assert.deepEqual(h.sleeps, [100, 200, 400, 800]);
});

test('a long Retry-After (429) is not waited for in-line', async () => {
  const h = harness(async () => apiError(429, 'auth.too_many_attempts', { 'Retry-After': '600' }), { signedIn: false });
  await assert.rejects(h.client.loginWithPassword('a', 'b'), (e: unknown) => e instanceof ApiError && e.retryAfterSeconds === 600);
  assert.equal(h.wx.requests.length, 1);
});

test('post/put get their own Idempotency-Key, reused on retry', async () => {
  const replies = [{ fail: 'timeout' }, { status: 200, body: { id: 'r1' } }];
  const h = harness(async () => replies.shift() ?? apiError(500, 'internal'));
  await h.client.put('/api/v1/daily-reports/{enterprise_id}/{day}', report, { params: { enterprise_id: 'e1', day: '2026-11-21' } });
  const [k1, k2] = h.wx.requests.map(keyOf);
  assert.match(k1 ?? '', UUID_V4);
  assert.equal(k2, k1);
});

test('the network watcher flushes queued writes when the phone is back online', async () => {
  let up = false;
  const h = harness(async () => (up ? { status: 201, body: problemDetail('p9') } : { fail: 'offline' }));
  const stop = h.client.attachNetworkWatcher(h.wx);
  const queued = await h.client.write('POST', '/api/v1/problems', problem);
  assert.ok(isQueued(queued));
  const sent = new Promise<unknown[]>((resolve) => h.client.on('sent', (...args) => resolve(args)));
  h.wx.setNetwork(false); // offline notifications do nothing
  up = true;
  h.wx.setNetwork(true);
  assert.deepEqual(await sent, [queued.id, problemDetail('p9')]);
  assert.deepEqual(await outbox(h), []);
  stop();
});

test('writes made while signed out wait, and go out after sign-in', async () => {
  const h = harness(
    async (req) =>
      req.path === '/api/v1/auth/login'
        ? { status: 200, body: { bind_required: false, access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 7200, user: { id: 'u' } } }
        : { status: 201, body: problemDetail('p2') },
    { signedIn: false },
  );
  const res = await h.client.write('POST', '/api/v1/problems', problem);
  assert.ok(isQueued(res));
  assert.equal(h.wx.requests.length, 0);
  const sent = new Promise((resolve) => h.client.on('sent', resolve));
  await h.client.loginWithPassword('u', 'p');
  assert.equal(await sent, res.id);
});

test("another officer signing in on the phone never sends the previous one's queued writes", async () => {
  const user = (id: string) => ({ id, username: id, name: id, roles: ['officer' as const], region_code: '430200', unit_id: null, enterprise_id: null });
  const offline = harness(async () => ({ fail: 'offline' }), { signedIn: { user: user('officer-a') } });
  const queued = await offline.client.write('POST', '/api/v1/sign-ins', signIn);
  assert.ok(isQueued(queued));
  assert.equal((await outbox(offline))[0]?.owner, 'officer-a', 'the write records who made it');

  // Officer B signs in on the same phone: A's sign-in waits, B's own go out.
  const b = harness(
    async (req) =>
      req.path === '/api/v1/auth/login'
        ? {
            status: 200,
            body: { access_token: 'access-b', refresh_token: 'refresh-b', token_type: 'Bearer', expires_in: 7200, user: user('officer-b') },
          }
        : { status: 201, body: { id: 's-b' } },
    { storage: offline.storage },
  );
  await b.client.loginWithPassword('officer-b', 'secret');
  const result = await b.client.flush();
  assert.deepEqual(result.sent, 0, "A's write is not B's to send");
  assert.equal(b.wx.requests.filter((r) => r.path === '/api/v1/sign-ins').length, 0);
  const own = await b.client.write('POST', '/api/v1/sign-ins', { ...signIn, enterprise_id: 'e2' });
  assert.deepEqual(own, { id: 's-b' });
  assert.equal(b.wx.requests.filter((r) => r.path === '/api/v1/sign-ins').length, 1, "only B's own went out");
  assert.deepEqual(
    (await outbox(b)).map((e) => e.owner),
    ['officer-a'],
    "A's write still waits for A",
  );
});
