// Sign-in and the token lifecycle. The hard part is refresh: refresh tokens are single use, so
// when several requests find the access token expired at once, exactly one refresh may run and
// everyone else waits for its result; sending the old refresh token twice later would count as
// a leak and revoke the whole session (401 `auth.refresh_reused`).
import { ApiError, isRetryable } from './errors.js';
import type { Emitter } from './events.js';
import { readJson, writeJson, type Storage } from './storage.js';
import type { RawResponse, TransportMethod } from './transport.js';
import type { Schema } from './types.js';
import { callWx, type WxLike } from './wx.js';

export const TOKENS_KEY = 'zhuqi.tokens';

/** Access tokens are refreshed ahead of time when they expire within this margin. */
const EXPIRY_MARGIN_MS = 60_000;

/** 401 codes of an access token that a refresh can fix (`session_ended`: another device signed out; refresh still works). */
export const REFRESHABLE_CODES: ReadonlySet<string> = new Set(['auth.token_expired', 'auth.token_invalid', 'auth.session_ended']);
/** Refresh answers that mean the session is over: sign in again. */
export const SESSION_OVER_CODES: ReadonlySet<string> = new Set(['auth.refresh_reused', 'auth.refresh_invalid']);

export type UserSummary = Schema<'UserSummary'>;

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms (the client's `now()`) when the access token expires. */
  expiresAt: number;
  user?: UserSummary;
}

export type SignedIn = { signedIn: true; bindRequired: false; user: UserSummary };
export type BindRequired = { signedIn: false; bindRequired: true; bindToken: string; expiresIn: number };
export type LoginResult = SignedIn | BindRequired;

export interface AuthEvents {
  login: [user: UserSummary];
  logout: [reason: string];
}

/** What Auth needs from the client: an unauthenticated call with the client's retries. */
export interface AuthDeps {
  storage: Storage;
  events: Emitter<AuthEvents>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Delay before retry number `attempt`+1, or undefined to give up (the client's policy). */
  retryDelay: (error: unknown, attempt: number) => number | undefined;
  call: (req: { method: TransportMethod; path: string; body: unknown; maxAttempts?: number }) => Promise<RawResponse>;
  wx?: Pick<WxLike, 'login'> | undefined;
  /** Runs (and is awaited) whenever the signed-in user changes: to drop per-user caches. */
  onSessionChange?: () => Promise<void>;
}

export class Auth {
  private cached: Session | null | undefined; // undefined: not read from storage yet
  private refreshing: Promise<string> | null = null;

  constructor(private readonly deps: AuthDeps) {}

  /** The stored session, if signed in. */
  async session(): Promise<Session | undefined> {
    if (this.cached === undefined) this.cached = (await readJson<Session>(this.deps.storage, TOKENS_KEY)) ?? null;
    return this.cached ?? undefined;
  }

  async isSignedIn(): Promise<boolean> {
    return (await this.session()) !== undefined;
  }

  /** The access token to send, refreshed first when it is about to expire. */
  async accessToken(): Promise<string | undefined> {
    const s = await this.session();
    if (!s) return undefined;
    if (s.expiresAt - this.deps.now() > EXPIRY_MARGIN_MS) return s.accessToken;
    try {
      return await this.refresh();
    } catch (e) {
      if (e instanceof ApiError && SESSION_OVER_CODES.has(e.code)) throw e;
      return s.accessToken; // offline or busy: let the request itself find out
    }
  }

  /**
   * Called when the server refused `rejected`. If someone already replaced it, use theirs;
   * otherwise join (or start) the one refresh in flight.
   */
  async tokenAfterRejection(rejected: string): Promise<string> {
    const s = await this.session();
    if (s && s.accessToken !== rejected) return s.accessToken;
    return this.refresh();
  }

  /** Rotates the refresh token; concurrent callers share one request (single flight). */
  refresh(): Promise<string> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const s = await this.session();
    if (!s) throw notSignedIn();
    try {
      // Retrying this is safe: the same refresh token resent within 30 s gets the same new pair.
      const res = await this.deps.call({
        method: 'POST',
        path: '/api/v1/auth/refresh',
        body: { refresh_token: s.refreshToken },
      });
      const pair = res.body as Schema<'TokenPair'>;
      await this.save({ ...this.fromPair(pair), ...(s.user ? { user: s.user } : {}) });
      return pair.access_token;
    } catch (e) {
      if (e instanceof ApiError && SESSION_OVER_CODES.has(e.code)) await this.end(e.code);
      throw e;
    }
  }

  /** `wx.login()` then `POST /auth/wechat/login`: signed in, or a bind is required first. */
  async loginWithWeChat(wx: Pick<WxLike, 'login'> | undefined = this.deps.wx): Promise<LoginResult> {
    if (!wx) throw new Error('loginWithWeChat needs wx: createClient({ wx }) or loginWithWeChat(wx)');
    for (let attempt = 1; ; attempt++) {
      // A code is single use: a retry after a lost answer needs a fresh one, so this loop
      // retries itself (with a new code each time) instead of letting the client resend.
      const { code } = await callWx((o: Parameters<WxLike['login']>[0]) => wx.login(o), {});
      try {
        const res = await this.deps.call({
          method: 'POST',
          path: '/api/v1/auth/wechat/login',
          body: { code },
          maxAttempts: 1,
        });
        const body = res.body as Schema<'WeChatLoginResponse'>;
        if (body.bind_required) {
          return { signedIn: false, bindRequired: true, bindToken: body.bind_token, expiresIn: body.expires_in };
        }
        return await this.signedIn(body);
      } catch (e) {
        const delay = this.deps.retryDelay(e, attempt);
        if (delay === undefined) throw e;
        await this.deps.sleep(delay);
      }
    }
  }

  /** First sign-in only: ties the WeChat identity to the rostered officer (phone + invite code). */
  async bind(bindToken: string, phone: string, inviteCode: string): Promise<SignedIn> {
    // A retry after success signs in again (the server allows it), so resends are safe.
    const res = await this.deps.call({
      method: 'POST',
      path: '/api/v1/auth/wechat/bind',
      body: { bind_token: bindToken, phone, invite_code: inviteCode },
    });
    return this.signedIn(res.body as Schema<'SessionResponse'>);
  }

  /** Console-style sign-in with username and password. */
  async loginWithPassword(username: string, password: string): Promise<SignedIn> {
    const res = await this.deps.call({ method: 'POST', path: '/api/v1/auth/login', body: { username, password } });
    return this.signedIn(res.body as Schema<'SessionResponse'>);
  }

  /** Signs out: revokes the session on the server (best effort) and forgets the tokens. */
  async logout(): Promise<void> {
    const s = await this.session();
    if (s) {
      try {
        await this.deps.call({ method: 'POST', path: '/api/v1/auth/logout', body: { refresh_token: s.refreshToken } });
      } catch (e) {
        if (!(e instanceof ApiError) && !isRetryable(e)) throw e;
        // Offline or refused: the tokens are dropped here anyway and expire on the server.
      }
    }
    await this.end('logout');
  }

  private async signedIn(body: Schema<'SessionResponse'>): Promise<SignedIn> {
    await this.save({ ...this.fromPair(body), user: body.user });
    await this.deps.onSessionChange?.();
    this.deps.events.emit('login', body.user);
    return { signedIn: true, bindRequired: false, user: body.user };
  }

  private fromPair(pair: Schema<'TokenPair'>): Omit<Session, 'user'> {
    return {
      accessToken: pair.access_token,
      refreshToken: pair.refresh_token,
      expiresAt: this.deps.now() + pair.expires_in * 1000,
    };
  }

  private async save(session: Session): Promise<void> {
    this.cached = session;
    await writeJson(this.deps.storage, TOKENS_KEY, session);
  }

  /** Forgets the tokens and tells the UI to show the sign-in page. */
  private async end(reason: string): Promise<void> {
    this.cached = null;
    await this.deps.storage.remove(TOKENS_KEY);
    await this.deps.onSessionChange?.();
    this.deps.events.emit('logout', reason);
  }
}

function notSignedIn(): ApiError {
  return new ApiError({ status: 401, code: 'auth.token_missing', message: '未登录 (not signed in)' });
}
