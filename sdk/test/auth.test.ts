import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../src/errors.js';
import { TOKENS_KEY } from '../src/auth.js';
import { keyOf, tokenOf } from './fake-wx.js';
import { apiError, delay, harness } from './helpers.js';

const pair = (n: number) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: 'Bearer',
  expires_in: 7200,
});
const user = { id: 'u1', username: 'zhangwei', name: '张伟', roles: ['officer'], region_code: '430211', unit_id: null, enterprise_id: null };

test('five requests hitting an expired token share exactly one refresh, then all succeed', async () => {
  let refreshes = 0;
  const h = harness(async (req) => {
    if (req.path === '/api/v1/auth/refresh') {
      refreshes++;
      assert.deepEqual(req.body, { refresh_token: 'refresh-1' });
      await delay(20); // the other 401s arrive while this is in flight
      return { status: 200, body: pair(2) };
    }
    if (tokenOf(req) === 'access-1') return apiError(401, 'auth.token_expired');
    return { status: 200, body: { ok: tokenOf(req) } };
  });
  const answers = await Promise.all(Array.from({ length: 5 }, () => h.client.get('/api/v1/me')));
  assert.equal(refreshes, 1);
  assert.deepEqual(answers, Array(5).fill({ ok: 'access-2' }));
  const meCalls = h.wx.requests.filter((r) => r.path === '/api/v1/me');
  assert.equal(meCalls.length, 10, 'each request sent once with the old token and replayed once');
  const stored = JSON.parse((await h.storage.get(TOKENS_KEY)) ?? '{}');
  assert.equal(stored.refreshToken, 'refresh-2');
  // A later expiry refreshes again, with the rotated token.
  assert.equal(h.sleeps.length, 0);
});

test('a reused refresh token logs out: tokens cleared, logout event, the call rejects', async () => {
  const h = harness(async (req) => {
    if (req.path === '/api/v1/auth/refresh') return apiError(401, 'auth.refresh_reused');
    return apiError(401, 'auth.token_expired');
  });
  await assert.rejects(h.client.get('/api/v1/me'), (e: unknown) => e instanceof ApiError && e.code === 'auth.refresh_reused');
  assert.equal(await h.storage.get(TOKENS_KEY), undefined);
  assert.deepEqual(
    h.events.filter(([n]) => n === 'logout'),
    [['logout', 'auth.refresh_reused']],
  );
  assert.equal(await h.client.auth.isSignedIn(), false);
  assert.equal(h.wx.requests.filter((r) => r.path === '/api/v1/auth/refresh').length, 1, 'a 401 refresh is never retried');
});

test('an invalid refresh token logs out too', async () => {
  const h = harness(async (req) =>
    req.path === '/api/v1/auth/refresh' ? apiError(401, 'auth.refresh_invalid') : apiError(401, 'auth.token_invalid'),
  );
  await assert.rejects(h.client.get('/api/v1/me'), { code: 'auth.refresh_invalid' });
  assert.equal(await h.storage.get(TOKENS_KEY), undefined);
  assert.equal(h.events.filter(([n]) => n === 'logout').length, 1);
});

test('a refresh that meets a lost answer is resent (same refresh token) and the call goes through', async () => {
  let refreshes = 0;
  const h = harness(async (req) => {
    if (req.path === '/api/v1/auth/refresh') {
      refreshes++;
      assert.deepEqual(req.body, { refresh_token: 'refresh-1' });
      return refreshes === 1 ? { fail: 'timeout' } : { status: 200, body: pair(2) };
    }
    return tokenOf(req) === 'access-2' ? { status: 200, body: { ok: true } } : apiError(401, 'auth.session_ended');
  });
  assert.deepEqual(await h.client.get('/api/v1/me'), { ok: true });
  assert.equal(refreshes, 2);
  assert.equal(h.events.filter(([n]) => n === 'logout').length, 0);
});

test('an access token about to expire is refreshed before the request', async () => {
  const h = harness(
    async (req) => (req.path === '/api/v1/auth/refresh' ? { status: 200, body: pair(2) } : { status: 200, body: { t: tokenOf(req) } }),
    { signedIn: { expiresAt: Date.now() + 10_000 } },
  );
  assert.deepEqual(await h.client.get('/api/v1/me'), { t: 'access-2' });
  assert.deepEqual(
    h.wx.requests.map((r) => r.path),
    ['/api/v1/auth/refresh', '/api/v1/me'],
  );
});

test('loginWithWeChat: bind required, then bind signs in and stores the session', async () => {
  const h = harness(
    async (req) => {
      if (req.path === '/api/v1/auth/wechat/login') {
        assert.deepEqual(req.body, { code: 'code-o-officer' });
        assert.equal(keyOf(req), undefined, 'auth/* takes no Idempotency-Key');
        return { status: 200, body: { bind_required: true, bind_token: 'bt', expires_in: 600 } };
      }
      if (req.path === '/api/v1/auth/wechat/bind') {
        assert.deepEqual(req.body, { bind_token: 'bt', phone: '13800138000', invite_code: '7KQ4M2XH9P' });
        return { status: 200, body: { bind_required: false, ...pair(1), user } };
      }
      return { status: 200, body: { t: tokenOf(req) } };
    },
    { signedIn: false },
  );
  h.wx.loginCode = 'code-o-officer';
  const first = await h.client.loginWithWeChat();
  assert.deepEqual(first, { signedIn: false, bindRequired: true, bindToken: 'bt', expiresIn: 600 });
  assert.equal(await h.client.auth.isSignedIn(), false);
  const bound = await h.client.bind('bt', '13800138000', '7KQ4M2XH9P');
  assert.deepEqual(bound, { signedIn: true, bindRequired: false, user });
  assert.deepEqual(h.events.filter(([n]) => n === 'login'), [['login', user]]);
  assert.deepEqual(await h.client.get('/api/v1/me'), { t: 'access-1' });
});

test('loginWithWeChat: a bound user is signed in; a lost answer is retried with a fresh code', async () => {
  const codes: unknown[] = [];
  const h = harness(
    async (req) => {
      codes.push(req.body);
      return codes.length === 1 ? { fail: 'timeout' } : { status: 200, body: { bind_required: false, ...pair(1), user } };
    },
    { signedIn: false },
  );
  h.wx.loginCode = 'code-o-officer';
  h.wx.numberCodes = true;
  const result = await h.client.loginWithWeChat();
  assert.equal(result.signedIn, true);
  assert.deepEqual(codes, [{ code: 'code-o-officer-1' }, { code: 'code-o-officer-2' }]);
  assert.equal(h.sleeps.length, 1);
});

test('loginWithPassword signs in; logout revokes on the server and forgets the tokens', async () => {
  const h = harness(
    async (req) => {
      if (req.path === '/api/v1/auth/login') return { status: 200, body: { bind_required: false, ...pair(5), user } };
      if (req.path === '/api/v1/auth/logout') {
        assert.deepEqual(req.body, { refresh_token: 'refresh-5' });
        return { status: 204 };
      }
      return apiError(404, 'route.not_found');
    },
    { signedIn: false },
  );
  await h.client.loginWithPassword('admin_zz', 'secret');
  assert.equal(await h.client.auth.isSignedIn(), true);
  await h.client.logout();
  assert.equal(await h.client.auth.isSignedIn(), false);
  assert.deepEqual(h.events.filter(([n]) => n === 'logout'), [['logout', 'logout']]);
});
