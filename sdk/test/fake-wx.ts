// A fake `wx` for tests: the callback APIs the SDK uses, backed by a scripted handler (unit
// tests) or by real fetch (the e2e script). Callbacks fire asynchronously, as on a phone.
import type {
  WxCallbacks,
  WxDownloadFileOptions,
  WxGetLocationOptions,
  WxLike,
  WxLoginSuccess,
  WxNetworkStatus,
  WxRequestOptions,
  WxStorageGetSuccess,
  WxUploadFileOptions,
} from '../src/wx.js';

export interface FakeRequest {
  api: 'request' | 'uploadFile' | 'downloadFile';
  method: string;
  url: string;
  /** Path and query, without the origin. */
  path: string;
  /** As sent (original case). */
  headers: Record<string, string>;
  /** The raw body string, and its parsed JSON. */
  raw: string | undefined;
  body: unknown;
  filePath?: string;
  name?: string;
}

/** What the scripted server answers: a status with a JSON body (or raw text), or a failure (no answer). */
export type FakeReply =
  | { status: number; headers?: Record<string, string>; body?: unknown; text?: string }
  | { fail: string };

export type Handler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeWx extends WxLike {
  handler: Handler;
  /** Every request that reached the handler, in order. */
  requests: FakeRequest[];
  storage: Map<string, unknown>;
  files: Map<string, string>;
  /** What the next `wx.login()` returns; numbered `-1`, `-2`… when `numberCodes` is set. */
  loginCode: string;
  numberCodes: boolean;
  location: { latitude: number; longitude: number; accuracy?: number };
  locationOptions: WxGetLocationOptions[];
  /** Fires `onNetworkStatusChange` listeners. */
  setNetwork(isConnected: boolean): void;
}

const later = (fn: () => void): void => {
  setTimeout(fn, 0);
};

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

function parse(raw: string | undefined): unknown {
  if (raw === undefined || raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function replyText(reply: { body?: unknown; text?: string }): string {
  if (reply.text !== undefined) return reply.text;
  return reply.body === undefined ? '' : JSON.stringify(reply.body);
}

export function createFakeWx(handler: Handler = () => ({ status: 404, body: {} })): FakeWx {
  const listeners: Array<(s: WxNetworkStatus) => void> = [];
  let codes = 0;
  let temps = 0;

  const run = async (
    api: FakeRequest['api'],
    o: { url: string; method?: string; header?: Record<string, string>; data?: string; filePath?: string; name?: string },
  ): Promise<FakeReply> => {
    const url = new URL(o.url);
    const req: FakeRequest = {
      api,
      method: o.method ?? (api === 'uploadFile' ? 'POST' : 'GET'),
      url: o.url,
      path: url.pathname + url.search,
      headers: { ...o.header },
      raw: o.data,
      body: parse(o.data),
      ...(o.filePath !== undefined ? { filePath: o.filePath } : {}),
      ...(o.name !== undefined ? { name: o.name } : {}),
    };
    fake.requests.push(req);
    return fake.handler(req);
  };

  const fake: FakeWx = {
    handler,
    requests: [],
    storage: new Map(),
    files: new Map(),
    loginCode: 'code-test',
    numberCodes: false,
    location: { latitude: 27.8271, longitude: 113.1342, accuracy: 35 },
    locationOptions: [],

    request(o: WxRequestOptions) {
      run('request', o).then(
        (reply) =>
          later(() => {
            if ('fail' in reply) return o.fail?.({ errMsg: `request:fail ${reply.fail}` });
            // dataType 'json' (the default): wx parses JSON bodies and leaves others as strings.
            const text = replyText(reply);
            o.success?.({ statusCode: reply.status, header: { ...reply.headers }, data: parse(text) ?? '' });
          }),
        (e: unknown) => later(() => o.fail?.({ errMsg: `request:fail ${String(e)}` })),
      );
      return { abort() {} };
    },

    uploadFile(o: WxUploadFileOptions) {
      run('uploadFile', o).then((reply) =>
        later(() => {
          if ('fail' in reply) return o.fail?.({ errMsg: `uploadFile:fail ${reply.fail}` });
          // uploadFile hands the body back as a string, always.
          o.success?.({ statusCode: reply.status, data: replyText(reply) });
        }),
      );
      return {};
    },

    downloadFile(o: WxDownloadFileOptions) {
      run('downloadFile', o).then((reply) =>
        later(() => {
          if ('fail' in reply) return o.fail?.({ errMsg: `downloadFile:fail ${reply.fail}` });
          // Whatever came back (the file, or the JSON error) is written to a temp file.
          const tempFilePath = `wxfile://tmp_${++temps}`;
          fake.files.set(tempFilePath, replyText(reply));
          o.success?.({ statusCode: reply.status, tempFilePath });
        }),
      );
      return {};
    },

    getFileSystemManager() {
      return {
        readFileSync(filePath: string, _encoding: 'utf8') {
          const content = fake.files.get(filePath);
          if (content === undefined) throw new Error(`readFileSync:fail no such file ${filePath}`);
          return content;
        },
      };
    },

    getStorage(o: { key: string } & WxCallbacks<WxStorageGetSuccess>) {
      later(() => {
        if (!fake.storage.has(o.key)) return o.fail?.({ errMsg: 'getStorage:fail data not found' });
        o.success?.({ data: fake.storage.get(o.key) });
      });
    },
    setStorage(o: { key: string; data: unknown } & WxCallbacks<unknown>) {
      later(() => {
        fake.storage.set(o.key, o.data);
        o.success?.({ errMsg: 'setStorage:ok' });
      });
    },
    removeStorage(o: { key: string } & WxCallbacks<unknown>) {
      later(() => {
        fake.storage.delete(o.key);
        o.success?.({ errMsg: 'removeStorage:ok' });
      });
    },

    login(o: WxCallbacks<WxLoginSuccess>) {
      const code = fake.numberCodes ? `${fake.loginCode}-${++codes}` : fake.loginCode;
      later(() => o.success?.({ code }));
    },

    getLocation(o: WxGetLocationOptions) {
      fake.locationOptions.push({ ...o });
      later(() => o.success?.({ ...fake.location }));
    },

    onNetworkStatusChange(listener) {
      listeners.push(listener);
    },
    offNetworkStatusChange(listener) {
      const i = listeners.indexOf(listener);
      if (i >= 0) listeners.splice(i, 1);
    },

    setNetwork(isConnected) {
      for (const l of [...listeners]) l({ isConnected, networkType: isConnected ? 'wifi' : 'none' });
    },
  };
  return fake;
}

/** The `Idempotency-Key` a request carried. */
export function keyOf(req: FakeRequest): string | undefined {
  return header(req.headers, 'idempotency-key');
}

/** The bearer token a request carried. */
export function tokenOf(req: FakeRequest): string | undefined {
  return header(req.headers, 'authorization')?.replace(/^Bearer /, '');
}

export { header };
