import type { Redis } from 'ioredis';
import { InputError, SpendcapError, type Issue } from '../errors.js';
import { SubscriberProfileSchema, type SubscriberProfile } from '../schema/profile.js';
import { collectKeys, issuesFromZod, type IssueContext } from '../schema/zod-issues.js';
import { checkInteger, MAX_SHARDS, prefixOf, shardKeys, shardOf } from './keys.js';

/** Options of `publishEvents` and `publishProfiles`. */
export interface PublishOptions {
  /** How many input streams the events are spread over; every producer and worker must agree. */
  readonly shards: number;
  /** The key prefix (default `spendcap`). */
  readonly prefix?: string;
  /** Commands sent per round trip (default 1,000). */
  readonly chunk?: number;
}

/** What `publishEvents` or `publishProfiles` wrote. */
export interface PublishResult {
  /** How many records were written. */
  readonly published: number;
  /** How many went to each shard. */
  readonly perShard: readonly number[];
}

/**
 * A publish that failed part way: the first `published` records, in order, were written; of the
 * round trip that failed, `alsoWritten` later records were written too (a retry from `published`
 * would repeat them: the engine takes a repeated event as a duplicate, but it would land after its
 * subscriber's later events).
 *
 * @example
 * try { await publishEvents(redis, events, { shards: 8 }); }
 * catch (e) { if (e instanceof PublishError) resumeFrom(e.published); }
 */
export class PublishError extends SpendcapError {
  readonly published: number;
  readonly alsoWritten: number;
  constructor(published: number, total: number, cause: unknown, alsoWritten = 0) {
    super(
      'publish_failed',
      `publishing stopped after ${published} of ${total} record(s)${alsoWritten > 0 ? ` (and ${alsoWritten} later record(s) of the same round trip were written)` : ''}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'PublishError';
    this.published = published;
    this.alsoWritten = alsoWritten;
  }
}

const PROFILE_CONTEXT: IssueContext = { knownKeys: collectKeys(SubscriberProfileSchema) };

function optionsOf(options: PublishOptions): { shards: number; prefix: string; chunk: number } {
  return {
    shards: checkInteger(options?.shards, 'shards', 1, MAX_SHARDS),
    prefix: prefixOf(options),
    chunk: checkInteger(options.chunk ?? 1000, 'chunk', 1, 100_000),
  };
}

/** Writes (shard, key, command) triples in chunks, in order; throws PublishError on the first failure. */
async function write(
  client: Redis,
  items: readonly {
    readonly shard: number;
    readonly send: (pipeline: ReturnType<Redis['pipeline']>) => void;
  }[],
  shards: number,
  chunk: number,
): Promise<PublishResult> {
  const perShard = new Array<number>(shards).fill(0);
  let published = 0;
  for (let from = 0; from < items.length; from += chunk) {
    const pipeline = client.pipeline();
    const part = items.slice(from, from + chunk);
    for (const item of part) item.send(pipeline);
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw new PublishError(published, items.length, error);
    }
    for (let i = 0; i < part.length; i++) {
      const failed = results?.[i]?.[0] ?? (results === null ? new Error('no reply') : null);
      if (failed) {
        const later = results === null ? 0 : results.slice(i + 1).filter(([error]) => !error).length;
        throw new PublishError(published, items.length, failed, later);
      }
      published++;
      perShard[part[i]!.shard]!++;
    }
  }
  return { published, perShard };
}

/**
 * Appends events to their shards' input streams (`<prefix>:{<shard>}:events`, field `e` = the event's
 * JSON), the shard chosen by `shardOf(subscriberId, shards)`, so each subscriber's events keep their
 * order. Every event is checked for a string `subscriberId` (and for being JSON) before anything is
 * written: one without it throws `InputError` naming its index; everything else about an event is
 * checked by the worker, which reports what it rejects. A failure part way throws `PublishError` with
 * how many events (the first ones) were written.
 *
 * @example
 * await publishEvents(redis, events, { shards: 8 });
 */
export async function publishEvents(
  client: Redis,
  events: Iterable<unknown>,
  options: PublishOptions,
): Promise<PublishResult> {
  const { shards, prefix, chunk } = optionsOf(options);
  const items: { shard: number; send: (p: ReturnType<Redis['pipeline']>) => void }[] = [];
  const issues: Issue[] = [];
  const keys = Array.from({ length: shards }, (_, s) => shardKeys(prefix, s).events);
  let index = 0;
  for (const event of events) {
    const at = index++;
    const subscriberId =
      event !== null && typeof event === 'object'
        ? (event as Record<string, unknown>)['subscriberId']
        : undefined;
    if (typeof subscriberId !== 'string' || subscriberId === '') {
      issues.push({
        code: subscriberId === undefined ? 'missing_key' : 'invalid_type',
        path: `$[${at}].subscriberId`,
        message: `expected the subscriber id (a non-empty string) the event is sharded by, got ${subscriberId === undefined ? 'none' : JSON.stringify(subscriberId)}`,
        severity: 'error',
      });
      continue;
    }
    let text: string;
    try {
      text = JSON.stringify(event);
    } catch (error) {
      issues.push({
        code: 'invalid_type',
        path: `$[${at}]`,
        message: `expected a JSON value: ${error instanceof Error ? error.message : String(error)}`,
        severity: 'error',
      });
      continue;
    }
    const shard = shardOf(subscriberId, shards);
    const key = keys[shard]!;
    items.push({ shard, send: (p) => void p.xadd(key, '*', 'e', text) });
  }
  if (issues.length > 0) throw new InputError('events (nothing was published)', issues);
  return write(client, items, shards, chunk);
}

/**
 * Stores subscriber profiles where the workers find them (`<prefix>:{<shard>}:profile:<id>`): a worker
 * starts a subscriber it has no state for from its profile. Every profile is checked first; an invalid
 * one throws `InputError` with its path (`$[2].timeZone`) and nothing is written.
 *
 * @example
 * await publishProfiles(redis, [{ subscriberId: 's1', homeCountry: 'PL', timeZone: 'Europe/Warsaw', cycleAnchorDay: 1 }], { shards: 8 });
 */
export async function publishProfiles(
  client: Redis,
  profiles: Iterable<SubscriberProfile>,
  options: PublishOptions,
): Promise<PublishResult> {
  const { shards, prefix, chunk } = optionsOf(options);
  const items: { shard: number; send: (p: ReturnType<Redis['pipeline']>) => void }[] = [];
  const issues: Issue[] = [];
  let index = 0;
  for (const profile of profiles) {
    const at = index++;
    const parsed = SubscriberProfileSchema.safeParse(profile);
    if (!parsed.success) {
      issues.push(...issuesFromZod(parsed.error.issues, profile, PROFILE_CONTEXT, [at]));
      continue;
    }
    const shard = shardOf(parsed.data.subscriberId, shards);
    const key = shardKeys(prefix, shard).profile(parsed.data.subscriberId);
    const text = JSON.stringify(parsed.data);
    items.push({ shard, send: (p) => void p.set(key, text) });
  }
  if (issues.length > 0) throw new InputError('profiles (nothing was published)', issues);
  return write(client, items, shards, chunk);
}
