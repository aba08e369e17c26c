// @zhuqi/sdk: the zhuqi API for the 驻企联络员 mini-program (and Node / the console).
export { createClient, fillPath, ZhuqiClient } from './client.js';
export type { Client, ClientEvents, ClientOptions, UploadFile } from './client.js';
export { Auth, REFRESHABLE_CODES, SESSION_OVER_CODES, TOKENS_KEY } from './auth.js';
export type { BindRequired, LoginResult, Session, SignedIn, UserSummary } from './auth.js';
export { ApiError, NetworkError, isApiErrorOf, isRetryable } from './errors.js';
export { Emitter } from './events.js';
export { locate } from './location.js';
export type { Location } from './location.js';
export { officer, TODAY_KEY } from './officer.js';
export type { Officer, ProblemInput, ProductionInput, ReportInput, SignInExtra } from './officer.js';
export { Outbox, OUTBOX_KEY, Queue } from './queue.js';
export type { FlushResult, OutboxEntry } from './queue.js';
export { memoryStorage, readJson, writeJson, wxStorage } from './storage.js';
export type { Storage } from './storage.js';
export { fetchTransport, lowerCaseHeaders, parseBody, wxTransport } from './transport.js';
export type {
  DownloadRequest,
  DownloadResponse,
  FetchLike,
  RawResponse,
  Transport,
  TransportMethod,
  TransportRequest,
  UploadRequest,
} from './transport.js';
export type * from './types.js';
export { uuidv4 } from './uuid.js';
export { attachNetworkWatcher, isQueued } from './writes.js';
export type { Queued } from './writes.js';
export { callWx, WxError } from './wx.js';
export type * from './wx.js';
