// Safe writes: the officer taps "submit" once and the write either lands exactly once or waits
// in the outbox (surviving restarts) until it can. The answer is the server's, a rejection (the
// server refused it), or `{queued: true, id}` for the UI to show "waiting to send".
import type { OutboxEntry, Queue } from './queue.js';
import type { WxLike, WxNetworkStatus } from './wx.js';

/** A write that could not be sent yet; it stays in the outbox and `flush()` sends it later. */
export interface Queued {
  queued: true;
  id: string;
}

export function isQueued(result: unknown): result is Queued {
  return typeof result === 'object' && result !== null && (result as { queued?: unknown }).queued === true;
}

/** Records the write, sends it with its key, and maps how it ended onto the promise. */
export async function safeWrite(queue: Queue, entry: OutboxEntry): Promise<unknown> {
  const fate = await queue.enqueue(entry);
  switch (fate.kind) {
    case 'sent':
      return fate.answer;
    case 'failed':
      throw fate.error;
    case 'queued': {
      const queued: Queued = { queued: true, id: entry.id };
      return queued;
    }
  }
}

/**
 * Flushes the outbox whenever the phone gets its network back (`wx.onNetworkStatusChange`).
 * Returns the function that stops watching.
 */
export function attachNetworkWatcher(
  wx: Pick<WxLike, 'onNetworkStatusChange'> & Partial<Pick<WxLike, 'offNetworkStatusChange'>>,
  queue: Pick<Queue, 'flush'>,
): () => void {
  const listener = (status: WxNetworkStatus): void => {
    if (status.isConnected) queue.flush().catch(() => undefined); // failures stay queued; events tell the UI
  };
  wx.onNetworkStatusChange(listener);
  return () => wx.offNetworkStatusChange?.(listener);
}
