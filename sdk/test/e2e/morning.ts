// An officer's first morning through the SDK against a real zhuqi server. Not run by `npm test`:
// the server's test suite (tests/api/sdk.rs) starts a server, rosters an officer and runs
//   node build/test/e2e/morning.js
// with ZHUQI_BASE_URL, ZHUQI_WX_CODE, ZHUQI_PHONE, ZHUQI_INVITE, ZHUQI_LAT, ZHUQI_LNG, then checks
// in the database that exactly one sign-in, one report (one revision) and the problems exist.
// The "phone" is the fake wx of test/fake-wx.ts whose wx.request goes to the server with fetch,
// and whose network can lose an answer or be switched off. Exit 0 and one JSON summary line on
// stdout on success; non-zero with the reason on stderr otherwise.
import { ApiError, createClient, isQueued, locate, officer, OUTBOX_KEY, wxStorage, wxTransport } from '../../src/index.js';
import type { Client, OutboxEntry, Schema } from '../../src/index.js';
import { createFakeWx, header, keyOf, type FakeReply, type FakeRequest, type FakeWx } from '../fake-wx.js';

class Failure extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Failure(message);
}

function env(name: string): string {
  const value = process.env[name];
  check(value !== undefined && value !== '', `environment variable ${name} is not set`);
  return value;
}

/** What the "network" does with the next requests. */
type Mode = 'online' | 'offline';

interface Exchange {
  method: string;
  path: string;
  status: number;
  key: string | undefined;
  replayed: boolean;
  bytes: number;
  /** The answer reached the server but was not handed to the SDK. */
  lost: boolean;
}

const utf8 = (s: string | undefined): number => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
const headerBytes = (headers: Record<string, string>): number =>
  Object.entries(headers).reduce((n, [k, v]) => n + utf8(k) + utf8(v) + 4, 0); // "k: v\r\n"

/** A phone whose wx.request really goes to the server, with a network the script controls. */
class Network {
  mode: Mode = 'online';
  /** Lose the answer of the next PUT after the server has handled it. */
  loseNextPutAnswer = false;
  /** Lose the answer of the next upload after the server has kept the file. */
  loseNextUploadAnswer = false;
  counting = false;
  readonly log: Exchange[] = [];
  readonly host: string;
  /** The phone's temporary files (text), shared by every phone of the script. */
  readonly files = new Map<string, string>();

  constructor(readonly baseUrl: string) {
    this.host = new URL(baseUrl).host;
  }

  phone(): FakeWx {
    const phone = createFakeWx((req) => this.handle(req));
    phone.files = this.files;
    return phone;
  }

  private async handle(req: FakeRequest): Promise<FakeReply> {
    if (this.mode === 'offline') return { fail: 'network is down' }; // never leaves the phone
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.api === 'uploadFile' ? { body: this.form(req) } : req.raw !== undefined ? { body: req.raw } : {}),
    });
    const text = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    const lostPut = this.loseNextPutAnswer && req.method === 'PUT';
    if (lostPut) this.loseNextPutAnswer = false;
    const lostUpload = this.loseNextUploadAnswer && req.api === 'uploadFile';
    if (lostUpload) this.loseNextUploadAnswer = false;
    const lost = lostPut || lostUpload;
    if (this.counting) {
      // Rough bytes on the wire: request line, headers (with Host), body; status line, headers, body.
      const out = utf8(`${req.method} ${req.path} HTTP/1.1\r\n`) + headerBytes({ ...req.headers, Host: this.host }) + 2 + utf8(req.raw);
      const back = utf8(`HTTP/1.1 ${res.status} \r\n`) + headerBytes(headers) + 2 + utf8(text);
      this.log.push({
        method: req.method,
        path: req.path,
        status: res.status,
        key: keyOf(req),
        replayed: headers['idempotent-replayed'] === 'true',
        bytes: out + back,
        lost,
      });
    }
    if (lost) return { fail: 'timeout' }; // the server did the work; the phone never hears of it
    return { status: res.status, headers, text };
  }
  /** The multipart form `wx.uploadFile` sends: the file as the part named `name`. */
  private form(req: FakeRequest): FormData {
    const path = req.filePath ?? '';
    const form = new FormData();
    form.append(req.name ?? 'file', new Blob([this.files.get(path) ?? '']), path.split('/').pop() ?? 'file');
    return form;
  }
}

function describe(e: unknown): string {
  if (e instanceof ApiError) return `${e.status} ${e.code}: ${e.message} (request ${e.requestId ?? '?'})`;
  return e instanceof Error ? e.message : String(e);
}

async function main(): Promise<void> {
  const baseUrl = env('ZHUQI_BASE_URL');
  const net = new Network(baseUrl);
  const wx = net.phone();
  wx.loginCode = env('ZHUQI_WX_CODE');
  wx.location = { latitude: Number(env('ZHUQI_LAT')), longitude: Number(env('ZHUQI_LNG')), accuracy: 15 };
  const storage = wxStorage(wx);
  // Everything a client keeps lives in the phone's wx storage, which survives the restart.
  const newClient = (phone: FakeWx): Client =>
    // Short backoff: the offline phase retries a few times before queueing, and a test waits for it.
    createClient({ baseUrl, transport: wxTransport(phone), storage: wxStorage(phone), wx: phone, baseDelayMs: 50 });

  // 1. First sign-in: WeChat login says bind first; bind with phone and invite code.
  const client = newClient(wx);
  const login = await client.loginWithWeChat();
  check(login.bindRequired, `a new officer must be asked to bind, got ${JSON.stringify(login)}`);
  const bound = await client.bind(login.bindToken, env('ZHUQI_PHONE'), env('ZHUQI_INVITE'));
  check(bound.user.roles.includes('officer'), `bound user is not an officer: ${JSON.stringify(bound.user)}`);
  const me = officer(client);

  // 2. The morning, counted: home screen twice (the second a 304), sign-in, report.
  net.counting = true;
  const today = await me.today();
  const first = today.items[0];
  check(first, `today() lists no enterprise for the officer: ${JSON.stringify(today)}`);
  const again = await me.today();
  const second = net.log.at(-1);
  check(second?.status === 304, `the unchanged home screen should be a 304, got ${second?.status}`);
  check(JSON.stringify(again) === JSON.stringify(today), 'the 304 did not answer with the cached home screen');

  const where = await locate(wx);
  const signIn = await me.signIn(first.id, where);
  check(!isQueued(signIn), 'the sign-in was queued although the network is up');
  check(signIn.enterprise_id === first.id && signIn.within_geofence, `unexpected sign-in ${JSON.stringify(signIn)}`);

  // The report with a new problem; the server files it but its answer is lost on the way back.
  net.loseNextPutAnswer = true;
  const draft = first.draft;
  const report = await me.fileReport(first.id, today.day, {
    work_done: 'SDK 端到端：走访总装车间，了解订单和用工情况',
    production: draft.production ?? { status: 'normal', capacity_pct: 90, staff_on_duty: 90, staff_total: 100 },
    difficulties: '熟练焊工短缺',
    problems: [{ description: 'SDK 端到端：急需熟练焊工三十名，请人社部门协助对接职业院校' }],
  });
  check(!isQueued(report), 'the report was queued although its retry could reach the server');
  net.counting = false;
  const puts = net.log.filter((x) => x.method === 'PUT');
  check(puts.length === 2, `expected the lost PUT and one retry, saw ${puts.length}`);
  const [lostPut, retry] = puts as [Exchange, Exchange];
  check(lostPut.lost && lostPut.status === 201, `the first PUT should have filed the report (201), got ${lostPut.status}`);
  check(retry.key !== undefined && retry.key === lostPut.key, 'the retry did not resend the same Idempotency-Key');
  check(retry.replayed && retry.status === 201, `the retry should be the replayed 201, got ${retry.status} replayed=${retry.replayed}`);
  check(report.revision === 1 && report.problem_ids.length === 1, `unexpected report ${JSON.stringify(report)}`);

  // 2b. A document about the report's problem, uploaded as wx.uploadFile sends it (its answer
  // lost once: the retry's key makes it one upload), then attached to the problem.
  net.files.set('wxfile://tmp/现场情况说明.pdf', '%PDF-1.4\n% SDK e2e: a scanned note\n%%EOF\n');
  net.loseNextUploadAnswer = true;
  const doc = await client.upload('/api/v1/attachments', { filePath: 'wxfile://tmp/现场情况说明.pdf' });
  check(doc.media_type === 'application/pdf' && doc.file_name === '现场情况说明.pdf', `unexpected upload ${JSON.stringify(doc)}`);
  const problemId = report.problem_ids[0] ?? '';
  const attached = await client.post(
    '/api/v1/problems/{id}/attachments',
    { attachment_ids: [doc.id] },
    { params: { id: problemId } },
  );
  check(attached.items.length === 1 && attached.items[0]?.attached_role === 'officer', `unexpected attachments ${JSON.stringify(attached)}`);

  // 3. A problem written with no network at all: it waits in the outbox.
  net.mode = 'offline';
  const reached = net.log.length;
  const offline = await me.fileProblem(first.id, {
    description: 'SDK 端到端（离线）：园区近一周频繁停电，请供电公司协调',
    urgency: 'urgent',
  });
  check(isQueued(offline), `the offline problem should be queued, got ${JSON.stringify(offline)}`);
  const outbox = JSON.parse((await storage.get(OUTBOX_KEY)) ?? '[]') as OutboxEntry[];
  check(outbox.length === 1 && outbox[0]?.id === offline.id, `the outbox should hold the problem: ${JSON.stringify(outbox)}`);
  check(net.log.length === reached, 'an offline request reached the server');

  // 4. The app restarts with the network back: a new client over the same storage sends it.
  net.mode = 'online';
  const phone2 = net.phone();
  phone2.storage = wx.storage;
  const restarted = newClient(phone2);
  let filed: Schema<'ProblemDetail'> | undefined;
  restarted.on('sent', (id, answer) => {
    if (id === offline.id) filed = answer as Schema<'ProblemDetail'>;
  });
  const flushed = await restarted.flush();
  check(flushed.sent === 1 && flushed.waiting === 0, `flush after restart: ${JSON.stringify(flushed)}`);
  check(filed?.id, 'the restarted client did not report the queued problem as sent');
  const sentWith = phone2.requests.find((r) => r.path === '/api/v1/problems');
  check(sentWith && keyOf(sentWith) === outbox[0]?.key, 'the queued problem was not sent with its stored key');
  check(header(sentWith.headers, 'authorization'), 'the restarted client did not use the stored session');
  check((await restarted.queue.pending()).length === 0, 'the outbox is not empty after the flush');

  const morning = net.log;
  const summary = {
    enterprise_id: first.id,
    day: today.day,
    report_id: report.id,
    attachment_id: doc.id,
    problem_ids: [...report.problem_ids, filed.id],
    round_trips: morning.length,
    bytes: morning.reduce((n, x) => n + x.bytes, 0),
  };
  for (const x of morning) {
    process.stderr.write(`${x.method} ${x.path} → ${x.status}${x.replayed ? ' (replayed)' : ''}${x.lost ? ' (answer lost)' : ''} ${x.bytes} B\n`);
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

const guard = setTimeout(() => {
  process.stderr.write('e2e morning FAILED: timed out after 120 s\n');
  process.exit(2);
}, 120_000);
guard.unref();

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`e2e morning FAILED: ${describe(e)}\n`);
    if (!(e instanceof Failure) && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  },
);
