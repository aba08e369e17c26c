// Where the SDK keeps what must survive an app restart: tokens, the outbox of unsent writes and
// the last home screen. Values are JSON strings so any key/value store will do.
import { callWx, failureMessage, WxError, type WxLike } from './wx.js';

export interface Storage {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** Storage in memory: tests, the console, or Node scripts. `dump()` shows what is stored. */
export function memoryStorage(initial: Record<string, string> = {}): Storage & { dump(): Record<string, string> } {
  const map = new Map(Object.entries(initial));
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => {
      map.set(key, value);
    },
    remove: async (key) => {
      map.delete(key);
    },
    dump: () => Object.fromEntries(map),
  };
}

/** Storage over `wx.getStorage` / `wx.setStorage` / `wx.removeStorage` (callback or promise style). */
export function wxStorage(wx: Pick<WxLike, 'getStorage' | 'setStorage' | 'removeStorage'>): Storage {
  return {
    async get(key) {
      try {
        const res = await callWx((o: Parameters<WxLike['getStorage']>[0]) => wx.getStorage(o), { key });
        return typeof res.data === 'string' ? res.data : undefined;
      } catch (e) {
        // wx reports a missing key as a failure ("getStorage:fail data not found").
        if (/not found/i.test(failureMessage(e))) return undefined;
        throw e instanceof WxError ? e : new WxError({ errMsg: failureMessage(e) });
      }
    },
    async set(key, value) {
      await callWx((o: Parameters<WxLike['setStorage']>[0]) => wx.setStorage(o), { key, data: value });
    },
    async remove(key) {
      await callWx((o: Parameters<WxLike['removeStorage']>[0]) => wx.removeStorage(o), { key });
    },
  };
}

export async function readJson<T>(storage: Storage, key: string): Promise<T | undefined> {
  const text = await storage.get(key);
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined; // a corrupt entry is as good as none
  }
}

export async function writeJson(storage: Storage, key: string, value: unknown): Promise<void> {
  await storage.set(key, JSON.stringify(value));
}
