// The one seam between the SDK and the network. A Transport only moves bytes: it never throws
// on an HTTP status (the client decides what a 401 or a 503 means) and throws NetworkError
// when no answer came back. Swapping it is how tests, Node and the console reuse the SDK.
import { NetworkError } from './errors.js';
import { callWx, failureMessage, type WxLike } from './wx.js';

export type TransportMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TransportRequest {
  method: TransportMethod;
  url: string;
  headers: Record<string, string>;
  /** Serialized once by the client so every resend is byte-for-byte the same (idempotency). */
  body?: string;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
}

export interface UploadRequest {
  url: string;
  headers: Record<string, string>;
  filePath: string;
  /** The multipart field name of the file (the roster import wants `file`). */
  name: string;
  formData?: Record<string, string>;
  timeoutMs?: number;
}

export interface DownloadRequest {
  url: string;
  headers: Record<string, string>;
  timeoutMs?: number;
}

/** A download: on 2xx the file is at `tempFilePath`; on 4xx/5xx `body` is the parsed error. */
export interface DownloadResponse extends RawResponse {
  tempFilePath?: string;
}

export interface Transport {
  request(req: TransportRequest): Promise<RawResponse>;
  upload?(req: UploadRequest): Promise<RawResponse>;
  download?(req: DownloadRequest): Promise<DownloadResponse>;
}

export function lowerCaseHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined && value !== null) out[name.toLowerCase()] = String(value);
  }
  return out;
}

/** Parses an answer body: JSON when it is JSON, the text otherwise, undefined when empty. */
export function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data === null ? undefined : data;
  if (data.trim() === '') return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** A Transport over `wx.request`, `wx.uploadFile` and `wx.downloadFile`. */
export function wxTransport(
  wx: Pick<WxLike, 'request'> & Partial<Pick<WxLike, 'uploadFile' | 'downloadFile' | 'getFileSystemManager'>>,
): Transport {
  const transport: Transport = {
    async request(req) {
      try {
        const res = await callWx((o: Parameters<WxLike['request']>[0]) => wx.request(o), {
          url: req.url,
          // wx.request has no PATCH: those operations are console-only (`x-console-only`).
          method: req.method as 'GET' | 'POST' | 'PUT' | 'DELETE',
          header: req.headers,
          ...(req.body !== undefined ? { data: req.body } : {}),
          ...(req.timeoutMs !== undefined ? { timeout: req.timeoutMs } : {}),
        });
        return { status: res.statusCode, headers: lowerCaseHeaders(res.header), body: parseBody(res.data) };
      } catch (e) {
        throw new NetworkError(failureMessage(e), e);
      }
    },
  };
  const { uploadFile, downloadFile, getFileSystemManager } = wx;
  if (uploadFile) {
    transport.upload = async (req) => {
      try {
        const res = await callWx((o: Parameters<WxLike['uploadFile']>[0]) => uploadFile.call(wx, o), {
          url: req.url,
          filePath: req.filePath,
          name: req.name,
          header: req.headers,
          ...(req.formData ? { formData: req.formData } : {}),
          ...(req.timeoutMs !== undefined ? { timeout: req.timeoutMs } : {}),
        });
        // uploadFile hands back the body as a string, answers and errors alike.
        return { status: res.statusCode, headers: {}, body: parseBody(res.data) };
      } catch (e) {
        throw new NetworkError(failureMessage(e), e);
      }
    };
  }
  if (downloadFile) {
    transport.download = async (req) => {
      let res: { statusCode: number; tempFilePath: string };
      try {
        res = await callWx((o: Parameters<WxLike['downloadFile']>[0]) => downloadFile.call(wx, o), {
          url: req.url,
          header: req.headers,
          ...(req.timeoutMs !== undefined ? { timeout: req.timeoutMs } : {}),
        });
      } catch (e) {
        throw new NetworkError(failureMessage(e), e);
      }
      if (res.statusCode < 400) return { status: res.statusCode, headers: {}, body: undefined, tempFilePath: res.tempFilePath };
      // On an error the JSON error body is what got written to the temp file.
      let body: unknown;
      try {
        const text = getFileSystemManager?.call(wx).readFileSync(res.tempFilePath, 'utf8');
        body = typeof text === 'string' ? parseBody(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, headers: {}, body };
    };
  }
  return transport;
}

/**
 * The slice of the WHATWG fetch this SDK uses (Node 18+, browsers, the console). Kept free of DOM
 * types so the declarations compile in a mini-program project (no DOM lib); the abort signal the
 * transport adds for timeouts is passed through untyped.
 */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{
  status: number;
  headers: { forEach(callback: (value: string, name: string) => void): void };
  text(): Promise<string>;
}>;

/** A Transport over `fetch`, for Node, tests and the console. */
export function fetchTransport(fetchFn: FetchLike = globalThis.fetch): Transport {
  return {
    async request(req) {
      const controller =
        req.timeoutMs !== undefined && typeof AbortController !== 'undefined' ? new AbortController() : undefined;
      const timer = controller ? setTimeout(() => controller.abort(), req.timeoutMs) : undefined;
      const init: { method: string; headers: Record<string, string>; body?: string; signal?: unknown } = {
        method: req.method,
        headers: req.headers,
      };
      if (req.body !== undefined) init.body = req.body;
      if (controller) init.signal = controller.signal;
      try {
        const res = await fetchFn(req.url, init);
        const headers: Record<string, string> = {};
        res.headers.forEach((value, name) => {
          headers[name.toLowerCase()] = value;
        });
        // Reading the body can fail too (connection cut mid-answer): still a network error.
        return { status: res.status, headers, body: parseBody(await res.text()) };
      } catch (e) {
        throw new NetworkError(controller?.signal.aborted ? `timeout after ${req.timeoutMs} ms` : failureMessage(e), e);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    },
  };
}
