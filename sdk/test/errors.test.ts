import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, isApiErrorOf, isRetryable, NetworkError } from '../src/errors.js';
import type { ErrorCodeOf } from '../src/types.js';
import { apiError, harness } from './helpers.js';

test('an error answer maps to a typed ApiError: code, message, details, request id', async () => {
  const h = harness(async () =>
    apiError(422, 'signin.out_of_range', { 'X-Request-Id': 'req-42' }, { distance_m: 812.4, geofence_m: 500 }),
  );
  const signIn = { enterprise_id: 'e1', lat: 27.8, lng: 113.1, coord: 'gcj02', accuracy_m: 20 } as const;
  try {
    await h.client.post('/api/v1/sign-ins', signIn);
    assert.fail('should reject');
  } catch (e) {
    assert.ok(isApiErrorOf(e, '/api/v1/sign-ins', 'post'));
    // `e.code` is the union of the operation's codes: this switch is checked against the spec.
    let advice: string;
    switch (e.code) {
      case 'signin.out_of_range':
        advice = `too far: ${String(e.details['distance_m'])} m`;
        break;
      case 'signin.inaccurate':
        advice = 'move into the open';
        break;
      default:
        advice = e.code;
    }
    assert.equal(advice, 'too far: 812.4 m');
    assert.equal(e.status, 422);
    assert.equal(e.requestId, 'req-42');
    assert.equal(e.message, 'message of signin.out_of_range');
    assert.equal(e.retryAfterSeconds, undefined);
  }
  // Compile-time: report.closed is not a code of POST /sign-ins, signin.busy is.
  type SignInCode = ErrorCodeOf<'/api/v1/sign-ins', 'post'>;
  const busy: SignInCode = 'signin.busy';
  // @ts-expect-error not an error code of this operation
  const closed: SignInCode = 'report.closed';
  void [busy, closed];
});

test('isRetryable: network, 503, 429, 409 in_progress, a proxy 502; never other 4xx', () => {
  const err = (status: number, code: string) => new ApiError({ status, code, message: code });
  assert.equal(isRetryable(new NetworkError('offline')), true);
  assert.equal(isRetryable(err(503, 'database.unavailable')), true);
  assert.equal(isRetryable(err(429, 'wechat.rate_limited')), true);
  assert.equal(isRetryable(err(409, 'idempotency.in_progress')), true);
  assert.equal(isRetryable(err(502, 'http.502')), true);
  assert.equal(isRetryable(err(502, 'wechat.error')), false);
  for (const [s, c] of [[400, 'idempotency.key_invalid'], [401, 'auth.token_missing'], [403, 'auth.role_required'], [404, 'not_found'], [409, 'idempotency.not_replayable'], [409, 'report.in_progress'], [422, 'idempotency.key_reused'], [500, 'internal']] as const) {
    assert.equal(isRetryable(err(s, c)), false, `${s} ${c}`);
  }
  assert.equal(isRetryable(new Error('bug')), false);
});

test('ApiError.fromResponse: Retry-After, details.retry_after_s and non-API bodies', () => {
  const a = ApiError.fromResponse({ status: 503, headers: { 'retry-after': '2' }, body: { error: { code: 'auth.busy', message: 'm', details: {} } } });
  assert.equal(a.retryAfterSeconds, 2);
  const b = ApiError.fromResponse({ status: 429, headers: {}, body: { error: { code: 'auth.too_many_attempts', message: 'm', details: { retry_after_s: 600 } } } });
  assert.equal(b.retryAfterSeconds, 600);
  const c = ApiError.fromResponse({ status: 502, headers: {}, body: '<html>Bad Gateway</html>' });
  assert.deepEqual([c.code, c.fromApi, c.message], ['http.502', false, 'HTTP 502']);
});
