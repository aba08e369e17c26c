// The two ways a call fails. ApiError: the server answered with an error status (its body is
// `{"error": {code, message, details}}`). NetworkError: no answer at all, so the request may
// or may not have been applied (which is why writes carry an Idempotency-Key).
import type { RawResponse } from './transport.js';
import type { ErrorCodeOf, LowerMethod, HttpMethod, paths } from './types.js';

export class ApiError<C extends string = string> extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  /** The stable dotted code to switch on; `http.<status>` when the body was not an API error. */
  readonly code: C;
  readonly details: Record<string, unknown>;
  /** `X-Request-Id` of the answer: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** `Retry-After` (or `details.retry_after_s`), in seconds, when the server said when to retry. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    status: number;
    code: C;
    message: string;
    details?: Record<string, unknown>;
    requestId?: string | undefined;
    retryAfterSeconds?: number | undefined;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** True when the body was the API's own error (not, say, a proxy's HTML page). */
  get fromApi(): boolean {
    return !this.code.startsWith('http.');
  }

  /** Builds the error from an error answer (headers lower-cased, body parsed JSON or text). */
  static fromResponse(res: RawResponse): ApiError {
    const err = errorBody(res.body);
    const details = err?.details ?? {};
    const retryHeader = res.headers['retry-after'];
    let retryAfterSeconds: number | undefined;
    if (retryHeader !== undefined && /^\s*\d+\s*$/.test(retryHeader)) retryAfterSeconds = Number(retryHeader);
    else if (typeof details['retry_after_s'] === 'number') retryAfterSeconds = details['retry_after_s'];
    return new ApiError({
      status: res.status,
      code: err?.code ?? `http.${res.status}`,
      message: err?.message ?? `HTTP ${res.status}`,
      details,
      requestId: res.headers['x-request-id'],
      retryAfterSeconds,
    });
  }
}

function errorBody(body: unknown): { code: string; message: string; details: Record<string, unknown> } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== 'string') return undefined;
  return {
    code,
    message: typeof message === 'string' ? message : code,
    details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {},
  };
}

/** No answer: offline, DNS, refused connection, timeout, or an answer lost on the way back. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  readonly cause: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.cause = cause;
  }
}

/**
 * Whether trying the same request again may succeed: no answer, 503 (a dependency is down),
 * 429 (too many attempts), 409 `idempotency.in_progress` (the first try is still running), and a
 * proxy's 502/504 without an API body (the server restarting behind nginx). Every other 4xx is a
 * verdict on the request itself, and a 500/`wechat.error` is not fixed by repeating.
 */
export function isRetryable(e: unknown): boolean {
  if (e instanceof NetworkError) return true;
  if (!(e instanceof ApiError)) return false;
  if (e.status === 503 || e.status === 429) return true;
  if (e.status === 409) return e.code === 'idempotency.in_progress';
  if (e.status === 502 || e.status === 504) return !e.fromApi;
  return false;
}

/**
 * Narrows an error to an ApiError carrying one of the operation's documented codes, so that
 * `switch (e.code)` is checked against the spec. At run time it checks the class only.
 */
export function isApiErrorOf<P extends keyof paths, M extends LowerMethod | HttpMethod>(
  e: unknown,
  _path: P,
  _method: M,
): e is ApiError<ErrorCodeOf<P, M>> {
  return e instanceof ApiError;
}
