// A tiny typed event emitter: the SDK must stay dependency-free and run in the mini-program.

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners: { [K in keyof E]?: Array<(...args: E[K]) => void> } = {};

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    const list = (this.listeners[event] ??= []);
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    // A listener that throws must not break the SDK's own bookkeeping.
    for (const listener of [...(this.listeners[event] ?? [])]) {
      try {
        listener(...args);
      } catch (e) {
        console.error(`zhuqi-sdk: a '${String(event)}' listener threw`, e);
      }
    }
  }
}
