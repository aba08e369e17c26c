// Shared test set-up: a client over the fake wx, an instant recording sleep, a signed-in session.
import { createClient, type Client, type ClientOptions } from '../src/client.js';
import { memoryStorage, type Storage } from '../src/storage.js';
import { TOKENS_KEY, type Session } from '../src/auth.js';
import { wxTransport } from '../src/transport.js';
import { createFakeWx, type FakeReply, type FakeWx, type Handler } from './fake-wx.js';

export const BASE = 'https://zhuqi.test';

export interface Harness {
  client: Client;
  wx: FakeWx;
  storage: Storage & { dump(): Record<string, string> };
  /** Every delay the client asked to sleep, in ms. */
  sleeps: number[];
  events: Array<[string, ...unknown[]]>;
}

export function harness(
  handler: Handler,
  options: { storage?: Storage & { dump(): Record<string, string> }; signedIn?: boolean | Partial<Session> } & Partial<ClientOptions> = {},
): Harness {
  const { storage: given, signedIn = true, ...rest } = options;
  const storage = given ?? memoryStorage();
  if (signedIn && !given) {
    const session: Session = {
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: Date.now() + 7_200_000,
      ...(typeof signedIn === 'object' ? signedIn : {}),
    };
    void storage.set(TOKENS_KEY, JSON.stringify(session));
  }
  const wx = createFakeWx(handler);
  const sleeps: number[] = [];
  const client = createClient({
    baseUrl: BASE,
    transport: wxTransport(wx),
    storage,
    wx,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...rest,
  });
  const events: Array<[string, ...unknown[]]> = [];
  for (const name of ['login', 'logout', 'change', 'sent', 'failed'] as const) {
    client.on(name, (...args: unknown[]) => events.push([name, ...args]));
  }
  return { client, wx, storage, sleeps, events };
}

export function apiError(status: number, code: string, headers: Record<string, string> = {}, details = {}): FakeReply {
  return {
    status,
    headers: { 'X-Request-Id': `req-${code}`, ...headers },
    body: { error: { code, message: `message of ${code}`, details } },
  };
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const problemDetail = (id: string) => ({ id, status: 'submitted', title: 't', description: 'd' });
