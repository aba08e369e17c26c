import assert from 'node:assert/strict';
import { test } from 'node:test';
import { locate } from '../src/location.js';
import { officer, TODAY_KEY } from '../src/officer.js';
import { header, keyOf } from './fake-wx.js';
import { harness } from './helpers.js';

const screen = (unread: number) => ({ day: '2026-11-21', working_day: true, unread_notifications: unread, items: [] });

test('today(): the ETag is sent back and a 304 answers from the cache', async () => {
  let version = 1;
  const h = harness(async (req) => {
    const etag = `"v${version}"`;
    if (header(req.headers, 'if-none-match') === etag) return { status: 304, headers: { ETag: etag } };
    return { status: 200, headers: { ETag: etag }, body: screen(version) };
  });
  const o = officer(h.client);
  assert.deepEqual(await o.today(), screen(1));
  assert.equal(header(h.wx.requests[0]?.headers ?? {}, 'if-none-match'), undefined);
  assert.deepEqual(await o.today(), screen(1));
  assert.equal(header(h.wx.requests[1]?.headers ?? {}, 'if-none-match'), '"v1"');
  version = 2; // something changed on the server
  assert.deepEqual(await o.today(), screen(2));
  assert.deepEqual(JSON.parse((await h.storage.get(TODAY_KEY)) ?? '{}').etag, '"v2"');
  // The cached screen belongs to the user: signing out drops it.
  await h.client.logout();
  assert.equal(await h.storage.get(TODAY_KEY), undefined);
});

test('locate() asks for high-accuracy GCJ-02 and signIn sends it as lat/lng/coord/accuracy_m', async () => {
  const h = harness(async (req) => ({ status: 201, body: { id: 's1', ...(req.body as object) } }));
  h.wx.location = { latitude: 27.8271, longitude: 113.1342, accuracy: 35 };
  const where = await locate(h.wx);
  assert.deepEqual(where, { lat: 27.8271, lng: 113.1342, accuracy: 35 });
  assert.equal(h.wx.locationOptions[0]?.type, 'gcj02');
  assert.equal(h.wx.locationOptions[0]?.isHighAccuracy, true);
  await officer(h.client).signIn('e1', where, { device_id: 'wx-7f3a' });
  const req = h.wx.requests[0];
  assert.equal(req?.path, '/api/v1/sign-ins');
  assert.deepEqual(req?.body, { enterprise_id: 'e1', lat: 27.8271, lng: 113.1342, coord: 'gcj02', accuracy_m: 35, device_id: 'wx-7f3a' });
  assert.ok(keyOf(req!));
});

test('fileReport PUTs to the enterprise and day; fileProblem POSTs with the enterprise id', async () => {
  const h = harness(async (req) => ({ status: 201, body: { id: req.method } }));
  const o = officer(h.client);
  await o.fileReport('e1', '2026-11-21', {
    work_done: '走访车间',
    production: { status: 'partial', capacity_pct: 80, staff_on_duty: 90, staff_total: 100 },
    problems: [{ description: '急需熟练焊工三十名' }],
  });
  await o.fileProblem('e1', { description: '园区频繁停电', urgency: 'urgent' });
  assert.deepEqual(
    h.wx.requests.map((r) => [r.method, r.path, r.body]),
    [
      [
        'PUT',
        '/api/v1/daily-reports/e1/2026-11-21',
        {
          work_done: '走访车间',
          production: { status: 'partial', capacity_pct: 80, staff_on_duty: 90, staff_total: 100 },
          problems: [{ description: '急需熟练焊工三十名' }],
        },
      ],
      ['POST', '/api/v1/problems', { enterprise_id: 'e1', description: '园区频繁停电', urgency: 'urgent' }],
    ],
  );
  await o.draft('e1', '2026-11-21');
  await o.notifications({ unread: true, limit: 10 });
  assert.deepEqual(
    h.wx.requests.slice(2).map((r) => r.path),
    ['/api/v1/daily-reports/e1/2026-11-21/draft', '/api/v1/me/notifications?unread=true&limit=10'],
  );
});
