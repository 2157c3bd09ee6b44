import type { Redis } from 'ioredis';
import { checkInteger, keyPrefixOf, MAX_SHARDS, prefixOf, shardKeys } from './keys.js';

/** Where one shard's consumer group stands. */
export interface ShardProgress {
  readonly shard: number;
  /** Entries in the input stream. */
  readonly length: number;
  /**
   * Entries not yet delivered to any worker; null when Redis cannot tell (after a restart from the
   * append-only file, or deletions) and they are not all delivered.
   */
  readonly lag: number | null;
  /** Entries delivered and not yet committed. */
  readonly pending: number;
}

/** Options naming a deployment: its shard count, prefix and (for `progress`) consumer group. */
export interface StreamOptions {
  readonly shards: number;
  readonly prefix?: string;
  readonly group?: string;
}

/**
 * How far the workers are, per shard: every event is decided when each shard's `lag` and `pending`
 * are 0. For monitoring, and for tests and benchmarks that wait for a run to finish.
 *
 * @example
 * const shards = await progress(redis, { shards: 8, group: 'spendcap' });
 * const done = shards.every((s) => s.lag === 0 && s.pending === 0);
 */
export async function progress(client: Redis, options: StreamOptions): Promise<ShardProgress[]> {
  const shards = checkInteger(options?.shards, 'shards', 1, MAX_SHARDS);
  const prefix = prefixOf(options);
  const group = options.group ?? 'spendcap';
  const p = client.pipeline();
  const keyPrefix = keyPrefixOf(client); // not put on XINFO's keys by ioredis
  for (let shard = 0; shard < shards; shard++) {
    const key = keyPrefix + shardKeys(prefix, shard).events;
    p.call('XINFO', 'STREAM', key);
    p.call('XINFO', 'GROUPS', key);
  }
  const replies = (await p.exec()) ?? [];
  const out: ShardProgress[] = [];
  for (let shard = 0; shard < shards; shard++) {
    // A stream that does not exist yet has no entries and no groups.
    const [streamError, stream] = replies[2 * shard] ?? [null, null];
    const [groupsError, groups] = replies[2 * shard + 1] ?? [null, []];
    const info = streamError ? {} : fieldsOf(stream as unknown[]);
    const length = Number(info['length'] ?? 0);
    const last = info['last-generated-id'];
    const list = groupsError ? [] : (groups as unknown[][]);
    const g = list.map(fieldsOf).find((x) => x['name'] === group);
    let lag: number | null;
    if (g === undefined) lag = length;
    else if (g['lag'] !== null && g['lag'] !== undefined) lag = Number(g['lag']);
    else lag = g['last-delivered-id'] === last || length === 0 ? 0 : null;
    out.push({ shard, length, lag, pending: g === undefined ? 0 : Number(g['pending']) });
  }
  return out;
}

/** A reply of alternating names and values (`XINFO`, a stream entry's fields) as a record. */
function fieldsOf<T>(flat: readonly T[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1]!;
  return out;
}

/** One entry of an output or report stream, with its fields. */
export interface StreamRecord {
  readonly shard: number;
  /** The stream entry id. */
  readonly entry: string;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Reads a kind of stream of every shard from the start, shard after shard, in pages: the actions
 * (`id`, `subscriberId`, `eventId`, `kind`, `action` JSON) or the reports (`entry`, `eventId`,
 * `subscriberId`, `outcome`, `issues` JSON). For audits and tests; a downstream consumer reads the
 * output streams with a consumer group of its own instead.
 *
 * @example
 * for await (const r of readStreams(redis, 'actions', { shards: 8 })) console.log(r.fields.id);
 */
export async function* readStreams(
  client: Redis,
  kind: 'actions' | 'reports' | 'events',
  options: StreamOptions,
): AsyncGenerator<StreamRecord> {
  const shards = checkInteger(options?.shards, 'shards', 1, MAX_SHARDS);
  const prefix = prefixOf(options);
  for (let shard = 0; shard < shards; shard++) {
    const key = shardKeys(prefix, shard)[kind];
    let start = '-';
    for (;;) {
      const page = (await client.xrange(key, start, '+', 'COUNT', 1000)) as [string, string[]][];
      for (const [entry, flat] of page) yield { shard, entry, fields: fieldsOf(flat) };
      if (page.length < 1000) break;
      start = `(${page[page.length - 1]![0]}`;
    }
  }
}
