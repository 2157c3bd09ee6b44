import { SpendcapError } from '../errors.js';

/**
 * Where spendcap keeps things in Redis, and which shard a subscriber belongs to.
 *
 * Every key of a shard carries the shard's hash tag (`{3}` in `spendcap:{3}:events`), so that in a
 * Redis Cluster a shard's streams, states, profiles and lease live in one slot and the commit script can
 * touch them all atomically. The worker registry is the only key outside any shard.
 */

/**
 * The `keyPrefix` of an ioredis client ('' without one), for the keys spendcap prefixes itself: ioredis
 * puts it on the keys of most commands, but not on those of XGROUP, XINFO or a pre-encoded command.
 */
export const keyPrefixOf = (client: {
  readonly options?: { readonly keyPrefix?: string | undefined };
}): string => client.options?.keyPrefix ?? '';

/** The most shards a deployment may have: one Redis Cluster slot each at most. */
export const MAX_SHARDS = 16_384;

/**
 * The shard of a subscriber: 32-bit FNV-1a over the UTF-8 bytes of `subscriberId`, modulo `shards`.
 * Stable across processes, machines and languages (a producer in another language computes the same
 * with the same four lines), so each subscriber's events always go to one stream and stay in order.
 * A lone surrogate counts as U+FFFD's bytes, as in `TextEncoder` and `Buffer.from(id, 'utf8')`.
 *
 * @example
 * shardOf('s-000017', 8); // 0..7, the same everywhere
 */
export function shardOf(subscriberId: string, shards: number): number {
  // The UTF-8 bytes are made on the way rather than by TextEncoder, whose Uint8Array for a short id
  // cost more than the hash (about 2 µs an event in a worker's profile).
  const P = 0x01000193;
  let hash = 0x811c9dc5;
  const n = subscriberId.length;
  for (let i = 0; i < n; i++) {
    let c = subscriberId.charCodeAt(i);
    if (c < 0x80) {
      hash = Math.imul(hash ^ c, P);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? subscriberId.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: one code point, four bytes.
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        hash = Math.imul(hash ^ (0xf0 | (cp >> 18)), P);
        hash = Math.imul(hash ^ (0x80 | ((cp >> 12) & 0x3f)), P);
        hash = Math.imul(hash ^ (0x80 | ((cp >> 6) & 0x3f)), P);
        hash = Math.imul(hash ^ (0x80 | (cp & 0x3f)), P);
        continue;
      }
      c = 0xfffd;
    }
    if (c < 0x800) hash = Math.imul(hash ^ (0xc0 | (c >> 6)), P);
    else {
      hash = Math.imul(hash ^ (0xe0 | (c >> 12)), P);
      hash = Math.imul(hash ^ (0x80 | ((c >> 6) & 0x3f)), P);
    }
    hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), P);
  }
  return (hash >>> 0) % shards;
}

/** The keys of one shard. */
export interface ShardKeys {
  /** Input stream: one entry per event, field `e` = the event's JSON. */
  readonly events: string;
  /** Output stream: one entry per action, fields `id`, `subscriberId`, `eventId`, `kind`, `action`. */
  readonly actions: string;
  /**
   * Report stream: one entry per decision that was not a plain `applied` (rejected, late, duplicate) or
   * that carried issues; fields `entry` (the input entry id), `eventId`, `subscriberId`, `outcome`,
   * `issues` (JSON).
   */
  readonly reports: string;
  /** The shard's lease: the token of the worker that owns the shard, with a time to live. */
  readonly lease: string;
  /** A subscriber's state: a hash with `v` (its version, counting commits from 1) and `s` (its JSON). */
  state(subscriberId: string): string;
  /** A subscriber's profile, as JSON. */
  profile(subscriberId: string): string;
}

/**
 * The keys of shard `shard` under `prefix`.
 *
 * @example
 * shardKeys('spendcap', 3).events; // 'spendcap:{3}:events'
 */
export function shardKeys(prefix: string, shard: number): ShardKeys {
  const base = `${prefix}:{${shard}}`;
  return {
    events: `${base}:events`,
    actions: `${base}:actions`,
    reports: `${base}:reports`,
    lease: `${base}:lease`,
    state: (id) => `${base}:state:${id}`,
    profile: (id) => `${base}:profile:${id}`,
  };
}

/**
 * The key prefix of an options object: its `prefix`, or `spendcap` when it has none (or an empty one).
 *
 * @example
 * prefixOf({}); // 'spendcap'
 */
export const prefixOf = (options: { readonly prefix?: string | undefined }): string =>
  typeof options.prefix === 'string' && options.prefix !== '' ? options.prefix : 'spendcap';

/**
 * The sorted set of live workers (consumer name, scored by when its heartbeat runs out).
 *
 * @example
 * workersKey('spendcap'); // 'spendcap:workers'
 */
export const workersKey = (prefix: string): string => `${prefix}:workers`;

/**
 * An option as an integer within bounds, or a `SpendcapError` (code `invalid_option`) naming it.
 *
 * @example
 * checkInteger(8, 'shards', 1, MAX_SHARDS); // 8
 */
export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new SpendcapError(
      'invalid_option',
      `${name}: expected an integer from ${min} to ${max}, got ${typeof value === 'string' ? `'${value}'` : String(value)}`,
    );
  return value;
}
