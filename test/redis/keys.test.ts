import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from 'spendcap';
import { createWorker, MAX_SHARDS, publishEvents, shardKeys, shardOf, workersKey } from 'spendcap/redis';
import { shippedPolicyJson } from '../support/fixtures';

/** FNV-1a, 32 bits, written independently of src (BigInt arithmetic over the UTF-8 bytes). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5n;
  for (const byte of Buffer.from(text, 'utf8')) hash = ((hash ^ BigInt(byte)) * 0x01000193n) % 2n ** 32n;
  return Number(hash);
}

describe('shardOf', () => {
  it('is 32-bit FNV-1a of the UTF-8 bytes, modulo the shard count (published test vectors)', () => {
    // The FNV test vectors: fnv1a32("a") = 0xe40c292c, fnv1a32("foobar") = 0xbf9cf968.
    expect(shardOf('a', MAX_SHARDS)).toBe(0xe40c292c % MAX_SHARDS);
    expect(shardOf('foobar', MAX_SHARDS)).toBe(0xbf9cf968 % MAX_SHARDS);
    expect(shardOf('', 7)).toBe(0x811c9dc5 % 7);
  });

  it('agrees with an independent FNV-1a for any id, including non-ASCII ones, and stays in range', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.integer({ min: 1, max: MAX_SHARDS }),
        (id, shards) => {
          const shard = shardOf(id, shards);
          expect(shard).toBe(fnv1a(id) % shards);
          expect(shard).toBeGreaterThanOrEqual(0);
          expect(shard).toBeLessThan(shards);
        },
      ),
    );
  });
  it('agrees with it on any UTF-16 text, lone and paired surrogates included (counted as UTF-8 does)', () => {
    // Code units drawn near each boundary of the UTF-8 encoding (1-4 bytes) and from the surrogates.
    const unit = fc
      .oneof(
        fc.integer({ min: 0, max: 0x7f }),
        fc.integer({ min: 0x80, max: 0x7ff }),
        fc.integer({ min: 0x800, max: 0xd7ff }),
        fc.integer({ min: 0xd800, max: 0xdbff }),
        fc.integer({ min: 0xdc00, max: 0xdfff }),
        fc.integer({ min: 0xe000, max: 0xffff }),
        fc.constantFrom(0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffd, 0xffff),
      )
      .map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 24 }),
        fc.integer({ min: 1, max: MAX_SHARDS }),
        (id, shards) => {
          expect(shardOf(id, shards)).toBe(fnv1a(id) % shards);
        },
      ),
    );
  });
});

describe('keys', () => {
  it("puts every key of a shard under the shard's hash tag, so a Redis Cluster keeps them in one slot", () => {
    const k = shardKeys('spendcap', 3);
    const all = [k.events, k.actions, k.reports, k.lease, k.state('s-1'), k.profile('s-1')];
    for (const key of all) expect(/\{([^}]*)\}/.exec(key)?.[1]).toBe('3');
    expect(new Set(all).size).toBe(all.length);
    expect(k.events).toBe('spendcap:{3}:events');
    expect(workersKey('spendcap')).toBe('spendcap:workers');
  });
});

describe('options', () => {
  const policy = loadPolicy(shippedPolicyJson());
  const client = { duplicate: () => undefined } as never;

  it('createWorker names a bad option and what it expected', () => {
    expect(() => createWorker({ client, policy, shards: 0, group: 'g', consumer: 'c' })).toThrow(
      /shards: expected an integer from 1 to 16384, got 0/,
    );
    expect(() => createWorker({ client, policy, shards: 8, group: 'g', consumer: '' })).toThrow(
      /consumer: expected a non-empty string/,
    );
    expect(() => createWorker({ client, policy, shards: 8, group: 'g', consumer: 'c', leaseMs: 5 })).toThrow(
      /leaseMs: expected an integer from 100/,
    );
    expect(() =>
      createWorker({ client: null as never, policy, shards: 8, group: 'g', consumer: 'c' }),
    ).toThrow(/client: expected an ioredis client/);
  });

  it('publishEvents checks the shard count before anything is sent', async () => {
    await expect(publishEvents(client, [], { shards: 1.5 })).rejects.toThrow(/shards: expected an integer/);
  });
});
