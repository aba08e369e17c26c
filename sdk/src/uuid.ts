// Idempotency keys are UUID v4. The mini-program runtime has no `crypto.getRandomValues`, so
// the client's injected `random()` is the fallback (Math.random is enough for uniqueness here:
// keys are scoped to the caller and live 48 h).

type CryptoLike = { getRandomValues?: (bytes: Uint8Array) => Uint8Array };

export function uuidv4(random: () => number = Math.random): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: CryptoLike }).crypto;
  if (crypto && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(random() * 256) & 0xff;
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
