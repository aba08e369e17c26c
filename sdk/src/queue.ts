// The outbox: writes recorded in Storage before they are sent, so neither a dead network nor
// an app restart loses an officer's sign-in or report, and each keeps the Idempotency-Key it was
// born with so a resend can never file it twice. Replays are strictly in order (a report must not
// overtake the sign-in it follows) and stop at the first write that still cannot be sent.
import { isRetryable } from './errors.js';
import type { Emitter } from './events.js';
import { readJson, writeJson, type Storage } from './storage.js';

export const OUTBOX_KEY = 'zhuqi.outbox';

export interface OutboxEntry {
  /** Local id, given back as `{queued: true, id}` and in the `sent`/`failed` events. */
  id: string;
  /** The Idempotency-Key (UUID v4) every send of this write carries. */
  key: string;
  method: 'POST' | 'PUT';
  /** The concrete path (placeholders filled, query included). */
  path: string;
  body: unknown;
  /** Epoch ms when the write was made. */
  createdAt: number;
  /** How many times sending was tried (each try includes the client's retries). */
  attempts: number;
  /** The user who made it (their id), so another officer signing in on the phone never sends it. */
  owner?: string;
}

export interface QueueEvents {
  change: [waiting: number];
  sent: [id: string, answer: unknown];
  failed: [id: string, error: unknown];
}

export interface FlushResult {
  sent: number;
  failed: number;
  /** Writes still waiting (the first of them could not be sent). */
  waiting: number;
}

/** How a write made in this session ended (its `write()` promise settles with it). */
export type Fate = { kind: 'sent'; answer: unknown } | { kind: 'failed'; error: unknown } | { kind: 'queued' };

/** The persisted list. Every read-modify-write is serialized so concurrent writes never drop an entry. */
export class Outbox {
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly key: string = OUTBOX_KEY,
  ) {}

  list(): Promise<OutboxEntry[]> {
    return this.locked(() => this.read());
  }

  add(entry: OutboxEntry): Promise<number> {
    return this.mutate((entries) => [...entries, entry]);
  }

  update(id: string, patch: Partial<OutboxEntry>): Promise<number> {
    return this.mutate((entries) => entries.map((e) => (e.id === id ? { ...e, ...patch } : e)));
  }

  /** Removes the entry; resolves to how many remain. */
  remove(id: string): Promise<number> {
    return this.mutate((entries) => entries.filter((e) => e.id !== id));
  }

  private async read(): Promise<OutboxEntry[]> {
    const entries = await readJson<OutboxEntry[]>(this.storage, this.key);
    return Array.isArray(entries) ? entries : [];
  }

  private mutate(change: (entries: OutboxEntry[]) => OutboxEntry[]): Promise<number> {
    return this.locked(async () => {
      const next = change(await this.read());
      if (next.length === 0) await this.storage.remove(this.key);
      else await writeJson(this.storage, this.key, next);
      return next.length;
    });
  }

  private locked<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

export interface QueueDeps {
  outbox: Outbox;
  events: Emitter<QueueEvents>;
  /** Sends one entry with its own key (with the client's retries); resolves to the answer body. */
  send: (entry: OutboxEntry) => Promise<unknown>;
  /**
   * Whose writes may be sent now: the signed-in user's id, `null` when signed in but the user
   * is not known, `undefined` while signed out (writes wait rather than fail with 401).
   */
  sender: () => Promise<string | null | undefined>;
}

export class Queue {
  private running: Promise<FlushResult> | null = null;
  private next: Promise<FlushResult> | null = null;
  private readonly waiters = new Map<string, (fate: Fate) => void>();

  constructor(private readonly deps: QueueDeps) {}

  /** The writes waiting to be sent, oldest first. */
  pending(): Promise<OutboxEntry[]> {
    return this.deps.outbox.list();
  }

  /**
   * Sends the waiting writes in order. Calls while a flush runs share one follow-up run, which
   * starts after it and so also sees writes added meanwhile.
   */
  flush(): Promise<FlushResult> {
    if (!this.running) {
      this.running = this.run().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = null;
        return this.flush();
      });
    return this.next;
  }

  /** Records a write, then flushes; resolves with how that write ended. */
  async enqueue(entry: OutboxEntry): Promise<Fate> {
    const fate = new Promise<Fate>((resolve) => this.waiters.set(entry.id, resolve));
    // Persisted before the first send: a crash mid-request still leaves the key to resend with.
    const waiting = await this.deps.outbox.add(entry);
    this.deps.events.emit('change', waiting);
    await this.flush();
    this.settle(entry.id, { kind: 'queued' }); // not reached by the flush (e.g. signed out)
    return fate;
  }

  private async run(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, failed: 0, waiting: 0 };
    const sender = await this.deps.sender();
    const canSend = sender !== undefined;
    for (;;) {
      // Only the signed-in user's writes (and ownerless ones); another user's wait for them.
      const entries = (await this.deps.outbox.list()).filter(
        (e) => e.owner === undefined || sender === null || e.owner === sender,
      );
      const head = entries[0];
      if (!head || !canSend) {
        result.waiting = entries.length;
        for (const e of entries) this.settle(e.id, { kind: 'queued' });
        return result;
      }
      await this.deps.outbox.update(head.id, { attempts: head.attempts + 1 });
      let answer: unknown;
      try {
        answer = await this.deps.send(head);
      } catch (error) {
        if (isRetryable(error)) {
          // Still offline (or the server is busy): keep it and everything behind it, in order.
          result.waiting = entries.length;
          for (const e of entries) this.settle(e.id, { kind: 'queued' });
          return result;
        }
        // The server refused it (4xx): resending would be refused again, so drop it and say so.
        this.deps.events.emit('change', await this.deps.outbox.remove(head.id));
        this.deps.events.emit('failed', head.id, error);
        this.settle(head.id, { kind: 'failed', error });
        result.failed++;
        continue;
      }
      this.deps.events.emit('change', await this.deps.outbox.remove(head.id));
      this.deps.events.emit('sent', head.id, answer);
      this.settle(head.id, { kind: 'sent', answer });
      result.sent++;
    }
  }

  private settle(id: string, fate: Fate): void {
    const resolve = this.waiters.get(id);
    if (!resolve) return;
    this.waiters.delete(id);
    resolve(fate);
  }
}
