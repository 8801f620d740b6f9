/** Argument checks every state adapter applies, so misuse fails the same way in memory and in Durable Objects. */
import { MAX_STATE_KEY_LENGTH } from '../limits.ts';

export function checkKey(key: string, maxLength = MAX_STATE_KEY_LENGTH): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > maxLength) {
    throw new RangeError(`state key must be a string of 1 to ${maxLength} characters`);
  }
}

/** A zero, negative or NaN TTL would turn replay detection off or keep entries forever: refused. */
export function checkTtl(ttlMs: number): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('ttlMs must be a positive finite number');
}
