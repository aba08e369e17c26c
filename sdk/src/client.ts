// The client: typed calls over a Transport, with the Bearer token, single-flight refresh,
// retries that are safe (backoff + jitter, Retry-After honoured, the same Idempotency-Key on
// every resend, never a resend of a request the server refused) and the outbox for writes.
import { Auth, REFRESHABLE_CODES, type AuthEvents, type LoginResult, type SignedIn } from './auth.js';
import { ApiError, isRetryable } from './errors.js';
import { Emitter } from './events.js';
import { TODAY_KEY } from './officer.js';
import { Outbox, Queue, type OutboxEntry, type QueueEvents } from './queue.js';
import type { Storage } from './storage.js';
import type { DownloadResponse, Transport, TransportMethod } from './transport.js';
import type { ApiResponse, HttpMethod, JsonBody, OptionsArg, PathsFor, SuccessOf } from './types.js';
import { uuidv4 } from './uuid.js';
import { attachNetworkWatcher, safeWrite, type Queued } from './writes.js';
import type { WxLike } from './wx.js';

export interface ClientOptions {
  /** e.g. `https://zhuqi.example.gov.cn` (no trailing `/api/v1`: paths carry it). */
  baseUrl: string;
  transport: Transport;
  storage: Storage;
  /** Jitter and the UUID fallback where `crypto.getRandomValues` is missing. Default Math.random. */
  random?: () => number;
  /** How to wait between retries; tests inject one that records and returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Epoch ms; used for token expiry and outbox timestamps. */
  now?: () => number;
  /** For `loginWithWeChat()` (only `wx.login` is used). */
  wx?: Pick<WxLike, 'login'>;
  /** Tries per request, the first included. Default 5. */
  maxAttempts?: number;
  /** First backoff step; doubles each retry, up to maxDelayMs. Defaults 500 / 30000. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for in-line: the error surfaces (a queued write stays queued). Default 60. */
  maxRetryAfterSeconds?: number;
  /** Per-request timeout. Default 15000 (wx.request's own default is 60 s: too long on a bad network). */
  timeoutMs?: number;
}

export type ClientEvents = AuthEvents & QueueEvents;

/** One request as the client executes it (path concrete, body already serialized). */
interface Call {
  method: TransportMethod;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  auth: boolean;
  timeoutMs?: number;
  maxAttempts?: number;
  upload?: { filePath: string; name: string; formData?: Record<string, string> };
  download?: true;
}

export interface UploadFile {
  /** A local path, e.g. from `wx.chooseMessageFile`. */
  filePath: string;
  /** The multipart field name; default `file`. */
  name?: string;
  formData?: Record<string, string>;
}

export class ZhuqiClient {
  readonly baseUrl: string;
  readonly storage: Storage;
  readonly auth: Auth;
  readonly queue: Queue;
  private readonly events = new Emitter<ClientEvents>();
  private readonly transport: Transport;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterSeconds: number;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.transport = options.transport;
    this.storage = options.storage;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 60;
    this.timeoutMs = options.timeoutMs ?? 15_000;

    this.auth = new Auth({
      storage: this.storage,
      events: this.events,
      now: this.now,
      sleep: this.sleep,
      retryDelay: (e, attempt) => this.retryDelay(e, attempt),
      call: async (req) =>
        this.execute({
          method: req.method,
          path: req.path,
          body: JSON.stringify(req.body),
          auth: false,
          ...(req.maxAttempts !== undefined ? { maxAttempts: req.maxAttempts } : {}),
        }),
      // Another user may sign in next: the cached home screen is per user.
      onSessionChange: () => this.storage.remove(TODAY_KEY),
      wx: options.wx,
    });
    this.queue = new Queue({
      outbox: new Outbox(this.storage),
      events: this.events,
      sender: async () => {
        const session = await this.auth.session();
        return session === undefined ? undefined : (session.user?.id ?? null);
      },
      send: async (entry) =>
        (
          await this.execute({
            method: entry.method,
            path: entry.path,
            body: JSON.stringify(entry.body),
            headers: { 'Idempotency-Key': entry.key },
            auth: true,
          })
        ).body,
    });
    // Writes made while signed out were waiting for this.
    this.events.on('login', () => {
      this.queue.flush().catch(() => undefined);
    });
  }

  /** Subscribes to `login`, `logout`, `change`, `sent`, `failed`; returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  // ---- typed calls -------------------------------------------------------------------------

  /** The whole answer (status, headers, data), e.g. to see a 304 or an ETag. */
  async request<M extends HttpMethod, P extends PathsFor<M>>(
    method: M,
    path: P,
    ...[options]: OptionsArg<P, M, { body?: JsonBody<P, M> }>
  ): Promise<ApiResponse<SuccessOf<P, M>>> {
    const o = loose(options);
    const headers = { ...o?.headers };
    if (method !== 'GET' && method !== 'DELETE') this.addKey(path, headers);
    const res = await this.execute({
      method,
      path: fillPath(path, o?.params, o?.query),
      ...(o?.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      headers,
      auth: true,
      ...(o?.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
    return { status: res.status, headers: res.headers, data: res.body as SuccessOf<P, M> | undefined };
  }

  async get<P extends PathsFor<'GET'>>(path: P, ...[options]: OptionsArg<P, 'GET'>): Promise<SuccessOf<P, 'GET'>> {
    const args = [options] as unknown as OptionsArg<P, 'GET', { body?: JsonBody<P, 'GET'> }>;
    return (await this.request('GET', path, ...args)).data as SuccessOf<P, 'GET'>;
  }

  /** A POST with its own fresh Idempotency-Key, reused by every retry of this call. */
  async post<P extends PathsFor<'POST'>>(
    path: P,
    body: JsonBody<P, 'POST'>,
    ...[options]: OptionsArg<P, 'POST'>
  ): Promise<SuccessOf<P, 'POST'>> {
    const args = [{ ...loose(options), body }] as unknown as OptionsArg<P, 'POST', { body?: JsonBody<P, 'POST'> }>;
    return (await this.request('POST', path, ...args)).data as SuccessOf<P, 'POST'>;
  }

  /** A PUT with its own fresh Idempotency-Key, reused by every retry of this call. */
  async put<P extends PathsFor<'PUT'>>(
    path: P,
    body: JsonBody<P, 'PUT'>,
    ...[options]: OptionsArg<P, 'PUT'>
  ): Promise<SuccessOf<P, 'PUT'>> {
    const args = [{ ...loose(options), body }] as unknown as OptionsArg<P, 'PUT', { body?: JsonBody<P, 'PUT'> }>;
    return (await this.request('PUT', path, ...args)).data as SuccessOf<P, 'PUT'>;
  }

  /**
   * A safe write through the outbox: recorded in Storage with a new Idempotency-Key before it
   * is sent. Resolves with the answer, rejects when the server refuses it (4xx), and resolves
   * to `{queued: true, id}` when it cannot be sent yet (it is sent by a later `flush()`).
   */
  async write<M extends 'POST' | 'PUT', P extends PathsFor<M>>(
    method: M,
    path: P,
    body: JsonBody<P, M>,
    ...[options]: OptionsArg<P, M>
  ): Promise<SuccessOf<P, M> | Queued> {
    const o = loose(options);
    const entry: OutboxEntry = {
      id: uuidv4(this.random),
      key: headerValue(o?.headers, 'idempotency-key') ?? uuidv4(this.random),
      method,
      path: fillPath(path, o?.params, o?.query),
      body,
      createdAt: this.now(),
      attempts: 0,
    };
    const owner = (await this.auth.session())?.user?.id;
    if (owner !== undefined) entry.owner = owner;
    return (await safeWrite(this.queue, entry)) as SuccessOf<P, M> | Queued;
  }

  /**
   * Uploads a file (`wx.uploadFile`): a photo or document to `/api/v1/attachments` (then attach
   * it with `post('/api/v1/problems/{id}/attachments', {attachment_ids: [id]})`), a roster to
   * `/api/v1/admin/import/{kind}`. Like `post`, it carries an Idempotency-Key that its retries
   * reuse, so a photo whose answer was lost is not kept twice.
   */
  async upload<P extends PathsFor<'POST'>>(
    path: P,
    file: UploadFile,
    ...[options]: OptionsArg<P, 'POST'>
  ): Promise<SuccessOf<P, 'POST'>> {
    const o = loose(options);
    const headers = { ...o?.headers };
    this.addKey(path, headers);
    const res = await this.execute({
      method: 'POST',
      path: fillPath(path, o?.params, o?.query),
      headers,
      auth: true,
      upload: { filePath: file.filePath, name: file.name ?? 'file', ...(file.formData ? { formData: file.formData } : {}) },
    });
    return res.body as SuccessOf<P, 'POST'>;
  }

  /** Downloads a file (`wx.downloadFile`), e.g. an `.xlsx` ledger; resolves to its temp path. */
  async download<P extends PathsFor<'GET'>>(path: P, ...[options]: OptionsArg<P, 'GET'>): Promise<{ tempFilePath: string }> {
    const o = loose(options);
    const res: DownloadResponse = await this.execute({
      method: 'GET',
      path: fillPath(path, o?.params, o?.query),
      headers: { ...o?.headers },
      auth: true,
      download: true,
    });
    return { tempFilePath: res.tempFilePath ?? '' };
  }

  // ---- auth, outbox ------------------------------------------------------------------------

  loginWithWeChat(wx?: Pick<WxLike, 'login'>): Promise<LoginResult> {
    return this.auth.loginWithWeChat(wx);
  }
  bind(bindToken: string, phone: string, inviteCode: string): Promise<SignedIn> {
    return this.auth.bind(bindToken, phone, inviteCode);
  }
  loginWithPassword(username: string, password: string): Promise<SignedIn> {
    return this.auth.loginWithPassword(username, password);
  }
  logout(): Promise<void> {
    return this.auth.logout();
  }
  /** Sends the queued writes in order; see Queue.flush. */
  flush(): ReturnType<Queue['flush']> {
    return this.queue.flush();
  }
  /** Flushes the outbox when the network comes back; returns the function that stops it. */
  attachNetworkWatcher(wx: Parameters<typeof attachNetworkWatcher>[0]): () => void {
    return attachNetworkWatcher(wx, this.queue);
  }

  // ---- execution ---------------------------------------------------------------------------

  /** Delay before the next try, or undefined when this error must not (or no longer) be retried. */
  retryDelay(error: unknown, attempt: number, maxAttempts: number = this.maxAttempts): number | undefined {
    if (!isRetryable(error) || attempt >= maxAttempts) return undefined;
    if (error instanceof ApiError && error.retryAfterSeconds !== undefined) {
      return error.retryAfterSeconds > this.maxRetryAfterSeconds ? undefined : error.retryAfterSeconds * 1000;
    }
    // Exponential backoff with "equal jitter": phones that lost the network together must not
    // all come back in the same millisecond.
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  private async execute(call: Call): Promise<DownloadResponse> {
    const maxAttempts = call.maxAttempts ?? this.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(call);
      } catch (e) {
        const delay = this.retryDelay(e, attempt, maxAttempts);
        if (delay === undefined) throw e;
        await this.sleep(delay);
      }
    }
  }

  /** One try: with the token, and once more with a refreshed one if the server rejected it. */
  private async attempt(call: Call): Promise<DownloadResponse> {
    const token = call.auth ? await this.auth.accessToken() : undefined;
    let res = await this.transmit(call, token);
    if (res.status === 401 && token !== undefined && REFRESHABLE_CODES.has(ApiError.fromResponse(res).code)) {
      res = await this.transmit(call, await this.auth.tokenAfterRejection(token));
    }
    if ((res.status >= 200 && res.status < 300) || res.status === 304) return res;
    throw ApiError.fromResponse(res);
  }

  private transmit(call: Call, token: string | undefined): Promise<DownloadResponse> {
    // A download asks for the file (an .xlsx), everything else for JSON.
    const headers: Record<string, string> = { ...(call.download ? {} : { Accept: 'application/json' }), ...call.headers };
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const url = this.baseUrl + call.path;
    const timeoutMs = call.timeoutMs ?? this.timeoutMs;
    if (call.upload) {
      if (!this.transport.upload) throw new Error('this transport cannot upload files');
      return this.transport.upload({ url, headers, timeoutMs, ...call.upload });
    }
    if (call.download) {
      if (!this.transport.download) throw new Error('this transport cannot download files');
      return this.transport.download({ url, headers, timeoutMs });
    }
    const req = { method: call.method, url, headers, timeoutMs };
    return this.transport.request(call.body !== undefined ? { ...req, body: call.body } : req);
  }

  /** Gives a write its own Idempotency-Key unless the caller chose one (auth/* honour none). */
  private addKey(path: string, headers: Record<string, string>): void {
    if (path.startsWith('/api/v1/auth/') || headerValue(headers, 'idempotency-key') !== undefined) return;
    headers['Idempotency-Key'] = uuidv4(this.random);
  }
}

export type Client = ZhuqiClient;

export function createClient(options: ClientOptions): Client {
  return new ZhuqiClient(options);
}

// ---- helpers -------------------------------------------------------------------------------

interface LooseOptions {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, string>;
  timeoutMs?: number;
  body?: unknown;
}

/** The typed options seen as plain data (their typing was checked at the call site). */
function loose(options: unknown): LooseOptions | undefined {
  return options as LooseOptions | undefined;
}

function headerValue(headers: Record<string, string> | undefined, lowerName: string): string | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) if (name.toLowerCase() === lowerName) return value;
  return undefined;
}

/** Fills `{name}` placeholders from params and appends the query (no URLSearchParams in wx). */
export function fillPath(template: string, params?: Record<string, unknown>, query?: Record<string, unknown>): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter '${name}' for ${template}`);
    return encodeURIComponent(String(value));
  });
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(v))}`);
    }
  }
  return parts.length ? `${path}?${parts.join('&')}` : path;
}
