// The minimal slice of the WeChat `wx` global this SDK touches. Typing only what we use keeps
// the SDK free of the official typings package and lets tests hand in a small fake.

/** What every wx API gives its `fail` callback. */
export interface WxFailure {
  errMsg: string;
  errno?: number;
}

/** The callback trio every asynchronous wx API takes. */
export interface WxCallbacks<R> {
  success?: (res: R) => void;
  fail?: (err: WxFailure) => void;
  complete?: () => void;
}

export interface WxRequestOptions extends WxCallbacks<WxRequestSuccess> {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'HEAD' | 'TRACE' | 'CONNECT';
  header?: Record<string, string>;
  /** A string is sent as it is: we serialize JSON ourselves so a retry's bytes never differ. */
  data?: string;
  timeout?: number;
  dataType?: string;
}
export interface WxRequestSuccess {
  statusCode: number;
  header: Record<string, string>;
  /** Parsed JSON with the default `dataType: 'json'`, else (or when unparsable) a string. */
  data: unknown;
}

export interface WxUploadFileOptions extends WxCallbacks<WxUploadFileSuccess> {
  url: string;
  filePath: string;
  name: string;
  header?: Record<string, string>;
  formData?: Record<string, string>;
  timeout?: number;
}
export interface WxUploadFileSuccess {
  statusCode: number;
  /** Always a string, even for JSON answers and errors. */
  data: string;
}

export interface WxDownloadFileOptions extends WxCallbacks<WxDownloadFileSuccess> {
  url: string;
  header?: Record<string, string>;
  timeout?: number;
}
export interface WxDownloadFileSuccess {
  statusCode: number;
  /** On 4xx/5xx this file holds the JSON error body. */
  tempFilePath: string;
}

export interface WxFileSystemManager {
  readFileSync(filePath: string, encoding: 'utf8'): string | ArrayBuffer;
}

export interface WxLoginSuccess {
  code: string;
}

export interface WxGetLocationOptions extends WxCallbacks<WxLocationSuccess> {
  type?: 'wgs84' | 'gcj02';
  isHighAccuracy?: boolean;
  highAccuracyExpireTime?: number;
}
export interface WxLocationSuccess {
  latitude: number;
  longitude: number;
  /** Metres; some devices report 0 or omit it. */
  accuracy?: number;
}

export interface WxStorageGetSuccess {
  data: unknown;
}

export interface WxNetworkStatus {
  isConnected: boolean;
  networkType?: string;
}

/** Every wx API the SDK may call; each helper asks only for the part it needs. */
export interface WxLike {
  request(options: WxRequestOptions): unknown;
  uploadFile(options: WxUploadFileOptions): unknown;
  downloadFile(options: WxDownloadFileOptions): unknown;
  getFileSystemManager(): WxFileSystemManager;
  getStorage(options: { key: string } & WxCallbacks<WxStorageGetSuccess>): unknown;
  setStorage(options: { key: string; data: unknown } & WxCallbacks<unknown>): unknown;
  removeStorage(options: { key: string } & WxCallbacks<unknown>): unknown;
  login(options: { timeout?: number } & WxCallbacks<WxLoginSuccess>): unknown;
  getLocation(options: WxGetLocationOptions): unknown;
  onNetworkStatusChange(listener: (status: WxNetworkStatus) => void): void;
  offNetworkStatusChange?(listener: (status: WxNetworkStatus) => void): void;
}

/** A wx API that answered through `fail` (permission denied, storage error…). */
export class WxError extends Error {
  override readonly name = 'WxError';
  readonly errMsg: string;
  readonly errno: number | undefined;
  constructor(failure: WxFailure) {
    super(failure.errMsg);
    this.errMsg = failure.errMsg;
    this.errno = failure.errno;
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/**
 * Calls a callback-style wx API as a promise (a `fail` becomes a WxError). Settles on the first
 * of `success`/`fail` or, for wrappers that return a promise instead of calling back (promise
 * style), on that promise.
 */
export function callWx<O extends object, R>(
  fn: (options: O & WxCallbacks<R>) => unknown,
  options: O,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let returned: unknown;
    try {
      returned = fn({
        ...options,
        success: (res: R) => resolve(res),
        fail: (err: WxFailure) => reject(new WxError(err)),
      });
    } catch (e) {
      reject(e);
      return;
    }
    if (isThenable(returned)) returned.then((res) => resolve(res as R), reject);
  });
}

/** The `errMsg` of a wx failure (or the message of any error). */
export function failureMessage(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const { errMsg, message } = e as { errMsg?: unknown; message?: unknown };
    if (typeof errMsg === 'string') return errMsg;
    if (typeof message === 'string') return message;
  }
  return String(e);
}
