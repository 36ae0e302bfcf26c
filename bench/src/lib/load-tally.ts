/**
 * Which message each receiver got, so the load bench can tell a loss from a duplicate: a plain
 * count per step would let one message delivered twice hide another never delivered.
 *
 * A message is known by (step, n): n numbers the step's messages from 0 in the order the senders
 * issued them (the body carries both). Each receiver keeps one bitset per step, n bits long, so
 * memory is one bit per delivery: a 1.6M deliveries/s step of 5 s is 1 MB in all, whatever the
 * number of receivers, and a whole default run (every step kept until the final check) about 5 MB.
 */
export class DeliveryTally {
  /** Per receiver: step -> bitset of the n received; null for a receiver dropped (see `drop`). */
  private readonly seen: (Map<number, Uint8Array> | null)[] = [];
  private readonly unique = new Map<number, number>();
  private readonly duplicated = new Map<number, number>();

  /** Registers one receiver and returns its id for `record`. */
  addReceiver(): number {
    this.seen.push(new Map());
    return this.seen.length - 1;
  }

  get receivers(): number {
    return this.seen.length;
  }

  /**
   * Leaves `receiver` out of `check` from now on: a client that never connected was never in the
   * room, so the messages it did not get are not lost (the bench reports the failed connect
   * instead). Its deliveries so far stay counted; recording more for it is an error.
   */
  drop(receiver: number): void {
    if (receiver < 0 || receiver >= this.seen.length) throw new Error(`unknown receiver ${receiver}`);
    this.seen[receiver] = null;
  }

  /** Records that `receiver` got message n of `step`; returns false when it already had it. */
  record(receiver: number, step: number, n: number): boolean {
    const steps = this.seen[receiver];
    if (!steps) throw new Error(`unknown or dropped receiver ${receiver}`);
    if (!Number.isInteger(n) || n < 0) throw new Error(`message number must be a non-negative integer, got ${n}`);
    let bits = steps.get(step);
    const byte = n >>> 3;
    if (!bits || byte >= bits.length) {
      // Doubling keeps the copies few while a step's numbers grow one by one.
      const grown = new Uint8Array(Math.max(byte + 1, (bits?.length ?? 0) * 2, 64));
      if (bits) grown.set(bits);
      steps.set(step, (bits = grown));
    }
    const mask = 1 << (n & 7);
    if (bits[byte]! & mask) {
      this.duplicated.set(step, (this.duplicated.get(step) ?? 0) + 1);
      return false;
    }
    bits[byte] = bits[byte]! | mask;
    this.unique.set(step, (this.unique.get(step) ?? 0) + 1);
    return true;
  }

  /** Deliveries of `step` counted once per (receiver, message). */
  count(step: number): number {
    return this.unique.get(step) ?? 0;
  }

  /** Deliveries of `step` a receiver already had. */
  duplicates(step: number): number {
    return this.duplicated.get(step) ?? 0;
  }

  /**
   * Against the `issued` messages of a step (n = 0..issued-1): `lost`, the (receiver, message)
   * pairs never received; `unexpected`, messages received with an n that was never issued.
   */
  check(step: number, issued: number): { lost: number; unexpected: number } {
    let lost = 0;
    let unexpected = 0;
    for (const steps of this.seen) {
      if (!steps) continue;
      const bits = steps.get(step);
      const got = bits ? countBits(bits, 0, issued) : 0;
      lost += issued - got;
      if (bits) unexpected += countBits(bits, issued, bits.length * 8);
    }
    return { lost, unexpected };
  }
}

const BITS_IN_BYTE = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

/** Set bits among bit positions [from, to) of `bits`. */
function countBits(bits: Uint8Array, from: number, to: number): number {
  const end = Math.min(to, bits.length * 8);
  let n = 0;
  let i = from;
  for (; i < end && (i & 7) !== 0; i++) if (bits[i >>> 3]! & (1 << (i & 7))) n++;
  for (; i + 8 <= end; i += 8) n += BITS_IN_BYTE[bits[i >>> 3]!]!;
  for (; i < end; i++) if (bits[i >>> 3]! & (1 << (i & 7))) n++;
  return n;
}
