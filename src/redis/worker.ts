import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  ADOPTING_RUN,
  createEngine,
  type AdoptingRun,
  type BatchDecision,
  type EngineOptions,
} from '../engine.js';
import { SpendcapError, type Issue } from '../errors.js';
import type { Policy } from '../policy/types.js';
import type { SubscriberProfile } from '../schema/profile.js';
import type { SubscriberState } from '../schema/state.js';
import {
  checkInteger,
  keyPrefixOf,
  MAX_SHARDS,
  prefixOf,
  shardKeys,
  shardOf,
  workersKey,
  type ShardKeys,
} from './keys.js';
import {
  CLAIM,
  COMMIT,
  HEARTBEAT,
  LOAD,
  RELEASE,
  RENEW,
  REPORT_FIELDS,
  runScript,
  runScriptEach,
  TAKE_BACK,
  TRIM,
} from './scripts.js';

/** Every script the worker runs, loaded when it (re)connects. */
const SCRIPTS = [COMMIT, LOAD, CLAIM, RENEW, TAKE_BACK, RELEASE, HEARTBEAT, TRIM];

/** Options of `createWorker`. */
export interface WorkerOptions {
  /**
   * A connection to the Redis server. The worker opens its own connection from it
   * (`client.duplicate`), set never to resend a command whose reply was lost, and closes it on `stop`.
   * A `keyPrefix` of the client's comes before `prefix` in every key, as on the client's own commands.
   */
  readonly client: Redis;
  /** The policy, from `loadPolicy`. */
  readonly policy: Policy;
  /** How many input streams there are; every producer and worker must agree. */
  readonly shards: number;
  /** The consumer group on every input stream (created when missing, reading from the start). */
  readonly group: string;
  /**
   * This worker's name in the group; unique among live workers. A worker started under the name of one
   * that died (a supervisor's restart) takes that one's shards back at once, without waiting for their
   * leases to run out.
   */
  readonly consumer: string;
  /** The key prefix (default `spendcap`). */
  readonly prefix?: string;
  /** Input entries read and committed together (default 1,000). */
  readonly batchSize?: number;
  /**
   * How long a shard's lease lasts without renewal (default 10,000 ms). A worker that dies holds its
   * shards this long at most; then another takes them over with their pending entries.
   */
  readonly leaseMs?: number;
  /**
   * How long to wait when no held shard has new entries (default 50 ms); never past the next renewal
   * of the leases (a third of `leaseMs`, 500 ms at most), so a long one cannot let them run out.
   */
  readonly pollMs?: number;
  /**
   * Subscribers per shard held whose state the worker keeps in memory between batches (default
   * 100,000): while it holds the shard it is the only writer, so it need not read them back.
   */
  readonly cacheSize?: number;
  /**
   * Whether to trim the input streams of the shards held (default false). At every renewal of the
   * leases, each loses the entries that every consumer group on it has read and acknowledged: up to the
   * oldest entry a group still has pending or has not been delivered (see TRIM in scripts.ts). Entries
   * go a node at a time (`XTRIM … MINID ~`), so a few acknowledged ones may stay; a stream without a
   * group is left alone; a trim the server refuses is reported through `onError`. Without it, the input
   * streams grow until trimmed by hand.
   */
  readonly trimInput?: boolean;
  /** Engine options (`evaluator`). */
  readonly engine?: EngineOptions;
  /** Told of every error the worker recovered from (a lost connection, a lost lease, a conflict). */
  readonly onError?: (error: unknown) => void;
}

/** What a worker has done so far. */
export interface WorkerStats {
  /** Input entries committed (each event's decision written exactly once). */
  readonly events: number;
  /** Batches committed. */
  readonly batches: number;
  /** Actions appended to the output streams. */
  readonly actions: number;
  /** Entries appended to the report streams (rejected, late and duplicate events). */
  readonly reports: number;
  /**
   * Times a shard was not as this worker left it: a commit refused because a state had changed since
   * it was read, or entries of the shard pending that this worker had not read (a worker that lost the
   * lease without knowing read them), found by a commit or by a read that found nothing new. Either way
   * the worker took the pending entries over and read them again, in order.
   */
  readonly conflicts: number;
  /** Shards lost to another worker (the lease ran out). */
  readonly leasesLost: number;
  /** Pending entries taken over from other consumers. */
  readonly claimed: number;
  /** Errors recovered from. */
  readonly errors: number;
  /** Input entries trimmed (with `trimInput`). */
  readonly trimmed: number;
  /** The shards held now. */
  readonly shards: readonly number[];
}

/** A running spendcap worker. */
export interface SpendcapWorker {
  /**
   * Runs until `stop`: takes shards, reads their entries in batches, decides and commits. Resolves when
   * stopped; rejects only on a programmer error (bad options are thrown by `createWorker`).
   */
  start(): Promise<void>;
  /** Finishes the batch in hand, gives up the leases, leaves the registry, closes the connection. */
  stop(): Promise<void>;
  /** What it has done so far. */
  stats(): WorkerStats;
}

/** A report of one decision, as written to the report stream. */
interface Report {
  readonly entry: string;
  readonly eventId: string;
  readonly subscriberId: string;
  readonly outcome: string;
  readonly issues: readonly Issue[];
}

/** What the worker remembers of a subscriber between batches. */
interface Cached {
  readonly state: SubscriberState;
  /** The version of the state in Redis (the number of commits that wrote it). */
  readonly version: string;
}

/** A shard this worker holds. */
interface Held {
  readonly shard: number;
  readonly keys: ShardKeys;
  /** Whether pending entries may precede new ones: read the pending list until it is empty. */
  recovering: boolean;
  /** Whether the pending entries of other consumers still have to be taken over. */
  claim: boolean;
  /**
   * Counts the times what the worker knew of the shard was dropped (a refused commit, an error): a read
   * sent before then is out of date, and its entries are read again from the pending list.
   */
  generation: number;
  /** Subscribers' states as committed, least recently used first. */
  readonly cache: Map<string, Cached>;
  /** The subscribers whose states the shard's commit in flight writes (back in `cache` when it succeeds). */
  committing: ReadonlySet<string> | null;
}

/** A batch read and parsed, its states' loads sent (see `prepare`). */
interface Prepared {
  readonly events: unknown[];
  /** Each event's input entry. */
  readonly entryOf: string[];
  readonly reports: Report[];
  /** Every entry of the batch, to acknowledge. */
  readonly acks: string[];
  /** The batch's subscribers. */
  readonly read: string[];
  /** Those whose state and profile are being loaded, and the replies (see `load`). */
  readonly missing: string[];
  readonly loaded: Promise<(string | null)[]> | null;
}

type Entry = [id: string, fields: string[] | null];

/** How long after registering a worker waits for peers started with it before it takes free shards. */
const JOIN_SETTLE_MS = 100;

/** How many shards ahead of the current one the worker reads and prepares batches. */
const LOOKAHEAD = 2;

/** What a commit sent carries, for handling its reply. */
interface Sent {
  /** The subscribers whose states were read (and whose versions the commit checks). */
  readonly read: readonly string[];
  readonly states: Readonly<Record<string, SubscriberState>>;
  /** The version of each state as read. */
  readonly versions: ReadonlyMap<string, string>;
  /** The subscribers whose new state the commit writes. */
  readonly written: ReadonlySet<string>;
  readonly acks: number;
  readonly actions: number;
  readonly reports: number;
}

/** A promise rejected by `close()`, never unhandled. */
function closedSignal(): { promise: Promise<never>; close: () => void } {
  let close!: () => void;
  const promise = new Promise<never>((_, reject) => {
    close = () =>
      reject(
        new SpendcapError(
          'connection_lost',
          'the connection to Redis closed; what was in flight is read again',
        ),
      );
  });
  promise.catch(() => undefined);
  return { promise, close };
}

/**
 * Creates a worker that decides events from Redis Streams. Each shard is owned by one worker at a time
 * (a lease); the owner reads its entries with the consumer group, loads the states it does not hold in
 * memory, runs the engine, and commits in one atomic script: the new states (each only if still at the
 * version it read), the actions, the reports and the acknowledgements, or nothing. So every event's
 * decision takes effect exactly once, and each subscriber's events in order; see README "Deployment".
 *
 * @example
 * const worker = createWorker({ client: new Redis(url), policy, shards: 8, group: 'spendcap', consumer: 'w1' });
 * const done = worker.start();
 * process.on('SIGTERM', () => void worker.stop());
 * await done;
 */
export function createWorker(options: WorkerOptions): SpendcapWorker {
  const shards = checkInteger(options?.shards, 'shards', 1, MAX_SHARDS);
  const batchSize = checkInteger(options.batchSize ?? 1000, 'batchSize', 1, 10_000);
  const leaseMs = checkInteger(options.leaseMs ?? 10_000, 'leaseMs', 100, 3_600_000);
  const pollMs = checkInteger(options.pollMs ?? 50, 'pollMs', 1, 60_000);
  const cacheSize = checkInteger(options.cacheSize ?? 100_000, 'cacheSize', 0, 100_000_000);
  for (const name of ['group', 'consumer'] as const)
    if (typeof options[name] !== 'string' || options[name] === '')
      throw new SpendcapError('invalid_option', `${name}: expected a non-empty string`);
  if (options.trimInput !== undefined && typeof options.trimInput !== 'boolean')
    throw new SpendcapError('invalid_option', 'trimInput: expected true or false');
  const trimInput = options.trimInput === true;
  if (options.client === null || typeof options.client?.duplicate !== 'function')
    throw new SpendcapError('invalid_option', 'client: expected an ioredis client');
  const { group, consumer } = options;
  // The worker's connection has no keyPrefix (ioredis does not put it on XGROUP's keys): the worker
  // puts the client's on every key itself.
  const prefix = keyPrefixOf(options.client) + prefixOf(options);
  const engine = createEngine(options.policy, options.engine) as ReturnType<typeof createEngine> &
    AdoptingRun;
  const onError = options.onError ?? (() => undefined);
  const token = `${consumer}:${randomUUID()}`;
  const registry = workersKey(prefix);

  const counts = {
    events: 0,
    batches: 0,
    actions: 0,
    reports: 0,
    conflicts: 0,
    leasesLost: 0,
    claimed: 0,
    errors: 0,
    trimmed: 0,
  };
  const held = new Map<number, Held>();
  let connection: Redis | null = null;
  let running: Promise<void> | null = null;
  let stopping = false;
  let wake: (() => void) | null = null;
  // Rejected when the connection closes. ioredis keeps the commands in flight at that moment and,
  // set not to resend them (a resent read could deliver entries out of order), drops them on
  // reconnection without settling their promises; each command races this so that the loop sees the
  // loss, and reads what is pending again, instead of waiting for ever.
  let closed = closedSignal();
  // A connection that neither answers nor closes (a black-holed host: TCP keep-alive would take the
  // OS's two hours) is closed by the worker after this long without a reply, which rejects every
  // command in flight through the same signal. The timer is unref'd: it never keeps a process alive.
  const watchdogMs = Math.max(30_000, 3 * leaseMs);
  const guard = <T>(command: Promise<T>): Promise<T> => {
    const signal = closed;
    const timer = setTimeout(() => {
      if (closed === signal) connection?.disconnect(true);
    }, watchdogMs);
    timer.unref();
    return Promise.race([command, signal.promise]).finally(() => clearTimeout(timer));
  };

  const fail = (error: unknown): void => {
    counts.errors++;
    try {
      onError(error);
    } catch {
      // A throwing error handler must not stop the worker.
    }
  };

  /** Sleeps, cut short by `stop`. */
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  /** A shard just taken: its pending entries (anyone's) are taken over and read first. */
  const newHeld = (shard: number): Held => ({
    shard,
    keys: shardKeys(prefix, shard),
    recovering: true,
    claim: true,
    generation: 0,
    cache: new Map(),
    committing: null,
  });
  // Whether the leases of an earlier run of this consumer were taken back (at the first balance).
  let tookBack = false;
  // How many workers were live at the last heartbeat.
  let peers = 0;

  async function prepareServer(redis: Redis): Promise<void> {
    // The consumer groups and the scripts, in one round trip; a group that exists already (BUSYGROUP)
    // is what is wanted. The scripts are loaded because a server that has just started knows none,
    // and a commit whose EVALSHA it refused (NOSCRIPT) runs as EVAL only after the read-ahead sent
    // behind it, which the commit then finds pending and refuses as 'stray' (recovered, but reported
    // as an error for nothing).
    const p = redis.pipeline();
    for (let shard = 0; shard < shards; shard++)
      p.xgroup('CREATE', shardKeys(prefix, shard).events, group, '0', 'MKSTREAM');
    for (const s of SCRIPTS) p.script('LOAD', s.lua);
    for (const [error] of (await guard(p.exec())) ?? [])
      if (error && !error.message.startsWith('BUSYGROUP')) throw error;
  }

  /**
   * With `renew`: renews the heartbeat (and learns how many workers are live) and the leases held. Then
   * (with `takeFree`) takes free shards up to a fair share, and gives up any beyond it. Each step is one
   * round trip, whatever the number of shards. Returns the share.
   */
  async function balance(redis: Redis, renew: boolean, takeFree: boolean): Promise<number> {
    if (renew) {
      const list = [...held.values()];
      const [live, kept, trimmed] = await Promise.all([
        guard(runScript(redis, HEARTBEAT, [registry], [consumer, leaseMs])),
        guard(
          runScriptEach(
            redis,
            RENEW,
            list.map((h) => ({ keys: [h.keys.lease], args: [token, leaseMs] })),
          ),
        ),
        // A trim the server refuses (an ACL without XINFO or XTRIM, say) is reported and does not fail
        // the renewal, which would start the worker over at every renewal. A lost connection fails
        // the renewal anyway, and is reported there.
        trimInput
          ? guard(
              runScriptEach(
                redis,
                TRIM,
                list.map((h) => ({ keys: [h.keys.lease, h.keys.events], args: [token] })),
              ),
            ).catch((error: unknown) => {
              if (!(error instanceof Error && error.name === 'ReplyError')) throw error;
              fail(error);
              return [];
            })
          : [],
      ]);
      for (const n of trimmed) if (Number(n) > 0) counts.trimmed += Number(n);
      peers = Number(live);
      list.forEach((h, i) => {
        if (Number(kept[i]) !== 1) lose(h, 'the lease ran out and another worker may own it');
      });
    }
    const share = Math.ceil(shards / Math.max(1, peers));
    if (!tookBack) {
      // A restarted worker (the same consumer name, as a supervisor restarts it) takes its shards back
      // at once rather than after their leases run out: its earlier run is dead, since names are unique
      // among live workers. Any beyond the share are given up below.
      const free = [];
      for (let shard = 0; shard < shards; shard++) if (!held.has(shard)) free.push(shard);
      const taken = await guard(
        runScriptEach(
          redis,
          TAKE_BACK,
          free.map((shard) => ({
            keys: [shardKeys(prefix, shard).lease],
            args: [token, `${consumer}:`, leaseMs],
          })),
        ),
      );
      free.forEach((shard, i) => {
        if (taken[i] === 1) held.set(shard, newHeld(shard));
      });
      tookBack = true;
    }
    if (takeFree && held.size < share) {
      // The shards not held, from this worker's own starting point (so that peers try different ones
      // first): which have no lease, then a lease for as many of those as the share wants. A lease
      // that already holds this worker's token is its own (a SET NX or a RELEASE that ran but whose
      // reply was lost with the connection): it is held again at once rather than left idle until it
      // runs out, since nobody else can take it meanwhile.
      const first = shardOf(consumer, shards);
      const others: number[] = [];
      for (let i = 0; i < shards; i++) {
        const shard = (first + i) % shards;
        if (!held.has(shard)) others.push(shard);
      }
      const look = redis.pipeline();
      for (const shard of others) look.get(shardKeys(prefix, shard).lease);
      const leased = (await guard(look.exec())) ?? [];
      const holder = (i: number): string | null | undefined =>
        leased[i]?.[0] === null ? (leased[i]?.[1] as string | null) : undefined;
      for (const shard of others.filter((_, i) => holder(i) === token))
        if (held.size < share) held.set(shard, newHeld(shard));
      const free = others.filter((_, i) => holder(i) === null);
      const wanted = free.slice(0, Math.max(0, share - held.size));
      if (wanted.length > 0) {
        const take = redis.pipeline();
        for (const shard of wanted) take.set(shardKeys(prefix, shard).lease, token, 'PX', leaseMs, 'NX');
        const replies = (await guard(take.exec())) ?? [];
        wanted.forEach((shard, i) => {
          if (replies[i]?.[1] === 'OK') held.set(shard, newHeld(shard));
        });
      }
    }
    // Over the share (a peer joined): give the newest shards up now, between batches, so the peer can
    // take them at its next look.
    const extra = [...held.values()].slice(share);
    for (const h of extra) held.delete(h.shard);
    if (extra.length > 0)
      await guard(
        runScriptEach(
          redis,
          RELEASE,
          extra.map((h) => ({ keys: [h.keys.lease], args: [token] })),
        ),
      );
    return share;
  }

  /** Takes over every pending entry of the shard (the previous owner's), so they are decided first. */
  async function claimPending(redis: Redis, h: Held): Promise<void> {
    let cursor = '0-0';
    do {
      const reply = (await guard(
        runScript(redis, CLAIM, [h.keys.lease, h.keys.events], [token, group, consumer, cursor, 1000]),
      )) as [string, string[], string[]?] | 'lost';
      if (reply === 'lost') {
        lose(h, 'the lease ran out before its pending entries were taken over');
        return;
      }
      cursor = reply[0];
      counts.claimed += reply[1].length;
      const deleted = reply[2] ?? [];
      if (deleted.length > 0) {
        // Entries deleted from the stream while pending: XAUTOCLAIM drops them; say so.
        const reports = deleted.map((entry) => lostEntry(h, entry));
        const p = redis.pipeline();
        for (const r of reports) p.xadd(h.keys.reports, '*', ...reportFields(r));
        await guard(p.exec());
        counts.reports += reports.length;
      }
    } while (cursor !== '0-0');
    h.claim = false;
  }

  /** The report of an entry rejected before the engine saw it. */
  function rejection(
    h: Held,
    entry: string,
    code: Issue['code'],
    message: string,
    event: { eventId?: string; subscriberId?: string } = {},
  ): Report {
    return {
      entry,
      eventId: event.eventId ?? '',
      subscriberId: event.subscriberId ?? '',
      outcome: 'rejected',
      issues: [{ code, path: `${h.keys.events} ${entry}`, message, severity: 'error' }],
    };
  }

  const lostEntry = (h: Held, entry: string): Report =>
    rejection(h, entry, 'missing_key', 'the entry was deleted from the stream before it was decided');

  /** A report's values, in the order of REPORT_FIELDS (the commit script's and the stream's). */
  const reportValues = (r: Report): string[] => [
    r.entry,
    r.eventId,
    r.subscriberId,
    r.outcome,
    JSON.stringify(r.issues),
  ];

  /** A report as the field-value list of XADD. */
  const reportFields = (r: Report): string[] =>
    reportValues(r).flatMap((value, i) => [REPORT_FIELDS[i]!, value]);

  /** Reads the shard's next batch: its pending entries while recovering, else new ones. */
  async function read(redis: Redis, h: Held): Promise<Entry[]> {
    // Not fenced by the lease: a read by a worker that lost it without knowing is caught at the
    // owner's commit (see COMMIT, 'stray').
    const reply = (await guard(
      redis.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        batchSize,
        'STREAMS',
        h.keys.events,
        h.recovering ? '0' : '>',
      ),
    )) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Forgets a shard whose lease this worker no longer holds. */
  function lose(h: Held, why: string): void {
    if (held.get(h.shard) === h) held.delete(h.shard);
    h.generation++;
    counts.leasesLost++;
    fail(new SpendcapError('lease_lost', `shard ${h.shard}: ${why}`));
  }

  /**
   * Reads a batch's entries and sends, at once, the loads of the states it will need from Redis: those
   * of subscribers neither in memory nor in the shard's commit in flight (whose states come back to
   * memory with its reply). The loop prepares the next batch this way before it decides the current
   * one, so that Redis answers the loads meanwhile; it is never sent before the shard's previous commit,
   * so what it loads is what that commit left.
   */
  function prepare(redis: Redis, h: Held, entries: readonly Entry[]): Prepared {
    const events: unknown[] = [];
    const entryOf: string[] = [];
    const reports: Report[] = [];
    const acks: string[] = [];
    const subscribers = new Set<string>();
    for (const [entry, fields] of entries) {
      acks.push(entry);
      if (fields === null) {
        reports.push(lostEntry(h, entry));
        continue;
      }
      const at = fields.indexOf('e');
      let event: unknown;
      try {
        if (at < 0 || at % 2 !== 0) throw new Error("no field 'e'");
        event = JSON.parse(fields[at + 1]!);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        reports.push(
          rejection(h, entry, 'invalid_format', `expected field 'e' with an event's JSON: ${why}`),
        );
        continue;
      }
      const subscriberId =
        event !== null && typeof event === 'object'
          ? (event as Record<string, unknown>)['subscriberId']
          : undefined;
      // Each subscriber's shard is checked once a batch, at its first event.
      if (typeof subscriberId === 'string' && !subscribers.has(subscriberId)) {
        const home = shardOf(subscriberId, shards);
        if (home !== h.shard) {
          // Deciding it here would give the subscriber a second state in another shard.
          reports.push(
            rejection(
              h,
              entry,
              'subscriber_mismatch',
              `subscriber '${subscriberId}' belongs to shard ${home} of ${shards}, not ${h.shard}: the producer must shard with shardOf()`,
              { eventId: String((event as Record<string, unknown>)['id'] ?? ''), subscriberId },
            ),
          );
          continue;
        }
        subscribers.add(subscriberId);
      }
      events.push(event);
      entryOf.push(entry);
    }
    const read = [...subscribers];
    const committing = h.committing;
    const missing = read.filter((id) => !h.cache.has(id) && !(committing?.has(id) ?? false));
    const loaded = missing.length > 0 ? load(redis, h, missing) : null;
    loaded?.catch(() => undefined); // its error, if any, comes back where it is awaited
    return { events, entryOf, reports, acks, read, missing, loaded };
  }

  /**
   * Sends the loads of subscribers' stored states and profiles, in one call; resolves to (version, state
   * JSON, profile JSON) for each, null where missing.
   */
  function load(redis: Redis, h: Held, ids: readonly string[]): Promise<(string | null)[]> {
    const keys: string[] = [];
    for (const id of ids) keys.push(h.keys.state(id), h.keys.profile(id));
    return guard(runScript(redis, LOAD, keys, [])) as Promise<(string | null)[]>;
  }

  /**
   * Decides one prepared batch of a shard and sends its commit. The commit's reply is handled by the
   * promise returned (inside an object, so that it is not awaited here): the caller decides another
   * shard's batch meanwhile, while Redis runs the commit. `fromPending`: the batch was read from the
   * consumer's pending list, which may hold more of its entries than the batch.
   */
  async function decide(
    redis: Redis,
    h: Held,
    prepared: Prepared,
    fromPending: boolean,
  ): Promise<{ commit: Promise<void> }> {
    const { events, entryOf, reports, acks, read, missing } = prepared;
    // The states: from memory when this worker committed them last, else as loaded from Redis (with
    // the profile, for a subscriber that has no state yet). One that was in memory when the batch was
    // prepared and is not now (dropped to keep the cache's size) is loaded now.
    const versions = new Map<string, string>();
    const initial: Record<string, SubscriberState> = {};
    const profiles: SubscriberProfile[] = [];
    const replies = prepared.loaded === null ? [] : await prepared.loaded;
    const loadedAt = new Map(missing.map((id, i) => [id, i]));
    const late: string[] = [];
    const take = (id: string, loaded: readonly (string | null)[], at: number): void => {
      const version = loaded[3 * at] ?? null;
      const json = loaded[3 * at + 1] ?? null;
      const profileReply = loaded[3 * at + 2] ?? null;
      versions.set(id, version ?? '0');
      if (json !== null) {
        // An unreadable stored state is passed on as it is: the engine rejects its events with why.
        try {
          initial[id] = JSON.parse(json) as SubscriberState;
        } catch {
          initial[id] = json as unknown as SubscriberState;
        }
      } else if (profileReply !== null) {
        try {
          profiles.push(JSON.parse(profileReply) as SubscriberProfile);
        } catch {
          // No usable profile: the engine rejects the subscriber's events ("no profile").
        }
      }
    };
    for (const id of read) {
      const cached = h.cache.get(id);
      if (cached !== undefined) {
        // Taken out: the engine changes it in place, and it comes back only with a successful commit.
        h.cache.delete(id);
        versions.set(id, cached.version);
        initial[id] = cached.state;
        continue;
      }
      const i = loadedAt.get(id);
      if (i === undefined) late.push(id);
      else take(id, replies, i);
    }
    if (late.length > 0) {
      const more = await load(redis, h, late);
      late.forEach((id, i) => take(id, more, i));
    }

    // The states from memory are this worker's own (dropped on any failure below), so the engine folds
    // the events into them in place rather than into copies.
    const result = await engine[ADOPTING_RUN](events, profiles, initial);

    const keys = [h.keys.lease, h.keys.events, h.keys.actions, h.keys.reports];
    // The texts written (states, actions) are encoded into the commit's bytes when it is sent (see
    // runScript), and not kept until its reply.
    const stateArgs: string[] = [];
    const written = new Set<string>();
    const made = result.made ?? new Set<string>();
    for (const id of read) {
      keys.push(h.keys.state(id));
      // Written: each state the engine made or decided on (in place, for one from memory or one read
      // that passed the fast check), never a stored state it refused.
      const changed = made.has(id);
      if (changed) written.add(id);
      stateArgs.push(versions.get(id)!, changed ? JSON.stringify(result.states[id]) : '');
    }
    const actionArgs: string[] = [];
    let actionCount = 0;
    result.decisions.forEach((d: BatchDecision, k: number) => {
      for (const action of d.actions) {
        actionArgs.push(
          action.id,
          d.subscriberId ?? '',
          d.eventId ?? '',
          action.kind,
          JSON.stringify(action),
        );
        actionCount++;
      }
      if (d.outcome !== 'applied' || (d.issues !== undefined && d.issues.length > 0))
        reports.push({
          entry: entryOf[k]!,
          eventId: d.eventId ?? '',
          subscriberId: d.subscriberId ?? '',
          outcome: d.outcome,
          issues: d.issues ?? [],
        });
    });
    const reportArgs = reports.flatMap(reportValues);
    const sent = guard(
      runScript(redis, COMMIT, keys, [
        token,
        group,
        leaseMs,
        read.length,
        acks.length,
        actionCount,
        reports.length,
        consumer,
        // The batch's entries are this consumer's only pending ones, unless it came from the pending
        // list (which may hold more, read in order to the end).
        fromPending ? -1 : acks.length,
        ...stateArgs,
        ...acks,
        ...actionArgs,
        ...reportArgs,
      ]),
    ) as Promise<string[]>;
    const batch: Sent = {
      read,
      states: result.states,
      versions,
      written,
      acks: acks.length,
      actions: actionCount,
      reports: reports.length,
    };
    h.committing = written;
    const done = (): void => {
      if (h.committing === written) h.committing = null;
    };
    return {
      commit: sent.then(
        (reply) => {
          done();
          settle(h, reply, batch);
        },
        (error: unknown) => {
          done();
          throw error;
        },
      ),
    };
  }

  /**
   * Entries of the shard that this worker did not read are pending (a worker that lost the lease
   * without knowing read them, under another name or this one's): take every pending entry over and
   * read the pending list again, in entry order, before anything newer.
   */
  function takeOverStrays(h: Held, what: string): void {
    counts.conflicts++;
    h.recovering = true;
    h.claim = true;
    h.generation++;
    fail(new SpendcapError('stray_pending', `shard ${h.shard}: ${what}; taking them over and reading them`));
  }

  /** Handles the reply of a batch's commit. */
  function settle(h: Held, reply: string[], batch: Sent): void {
    const { read, states, versions, written } = batch;
    if (reply[0] === 'lost') {
      lose(h, 'another worker took it over; the batch was not committed');
      return;
    }
    if (reply[0] === 'stray') {
      // The batch was decided on the states in memory, in place: they are forgotten with it.
      h.cache.clear();
      takeOverStrays(h, `consumer '${reply[1]}' holds entries of it pending`);
      return;
    }
    if (reply[0] === 'conflict') {
      // A state changed under this worker: forget what it remembers and read the batch again.
      counts.conflicts++;
      h.cache.clear();
      h.recovering = true;
      h.generation++;
      const moved = reply.slice(1).map((i) => read[Number(i) - 1]);
      fail(
        new SpendcapError(
          'state_conflict',
          `shard ${h.shard}: the state of ${moved.join(', ')} changed since it was read; retrying`,
        ),
      );
      return;
    }
    for (const id of read) {
      const state = states[id];
      // Only what was written is remembered: a stored state the engine refused (unreadable, or of
      // another policy) is left as it is and read again next time.
      if (state === undefined || !written.has(id)) continue;
      const version = String(Number(versions.get(id)) + 1);
      h.cache.delete(id);
      h.cache.set(id, { state, version });
    }
    while (h.cache.size > cacheSize) h.cache.delete(h.cache.keys().next().value!);
    counts.events += batch.acks;
    counts.batches++;
    counts.actions += batch.actions;
    counts.reports += batch.reports;
  }

  async function loop(): Promise<void> {
    const redis = options.client.duplicate({
      keyPrefix: '', // in `prefix`
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 1,
      // No ioredis command timeout: its timers outlive dropped commands and keep a stopped process
      // alive. A connection that stops answering without closing is closed by `guard`'s watchdog.
    });
    connection = redis;
    redis.on('error', () => undefined); // Reported through the failed commands, once each.
    redis.on('close', () => {
      const signal = closed;
      closed = closedSignal();
      signal.close();
    });
    let nextRenew = 0;
    let nextTake = 0;
    // A pause for want of work lasts pollMs, but never past the next renewal of the leases (which a
    // long pollMs would let run out), nor, while short of the share, past the next look for free shards.
    const napMs = (): number => {
      const next = held.size < share ? Math.min(nextRenew, nextTake) : nextRenew;
      return Math.max(1, Math.min(pollMs, next - Date.now()));
    };
    let settledAt: number | null = null;
    let nextPeek = 0;
    let share = shards;
    let ready = false;
    let last = -1;
    let idle = 0;
    // Commits sent and not yet answered, by shard; the first error of one, to be dealt with by the loop.
    const inflight = new Map<number, Promise<void>>();
    const broken: { error?: unknown; set: boolean } = { set: false };
    // The next batches, read ahead: each prepared (its loads sent) as soon as its read arrives, so that
    // Redis answers the reads and the loads while the current batch is decided. At most LOOKAHEAD shards
    // ahead in round-robin order, and never the current shard before its commit is sent: what its next
    // batch loads must be what that commit leaves.
    const ahead = new Map<number, Read>();
    interface Read {
      readonly h: Held;
      readonly generation: number;
      readonly entries: Promise<Entry[]>;
      readonly prepared: Promise<Prepared>;
      /** Whether it reads the consumer's pending list (recovering), not new entries. */
      readonly fromPending: boolean;
    }
    const send = (h: Held): Read => {
      const fromPending = h.recovering; // what read() reads
      const entries = read(redis, h);
      const prepared = entries.then((list) => prepare(redis, h, list));
      // Their errors, if any, come back where they are awaited.
      entries.catch(() => undefined);
      prepared.catch(() => undefined);
      return { h, generation: h.generation, entries, prepared, fromPending };
    };
    // Everything sent and not yet answered, to be waited for before starting over.
    const unanswered = (): unknown[] => [
      ...inflight.values(),
      ...[...ahead.values()].map((r) => r.prepared.then((p) => p.loaded)),
    ];
    /** The shards held, in round-robin order after `shard`. */
    const after = (shard: number): Held[] => {
      const list = [...held.keys()].sort((a, b) => a - b);
      const at = list.findIndex((s) => s > shard);
      const from = at < 0 ? 0 : at;
      return [...list.slice(from), ...list.slice(0, from)].map((s) => held.get(s)!);
    };
    // A read may go ahead of the shard's commit in flight, but not while the shard is recovering (the
    // pending list it reads must not hold the entries that commit acknowledges) or has pending entries
    // of others to take over first.
    const mayReadAhead = (h: Held): boolean => !h.claim && !(h.recovering && inflight.has(h.shard));
    const readAhead = (from: number, except: Held | null): void => {
      // A read ahead for a shard given up or lost is dropped: its entries wait in the pending list,
      // which the shard's next owner reads first.
      for (const [shard, r] of ahead) if (held.get(shard) !== r.h) ahead.delete(shard);
      for (const h of after(from).slice(0, LOOKAHEAD)) {
        if (h !== except && !ahead.has(h.shard) && mayReadAhead(h)) ahead.set(h.shard, send(h));
      }
    };
    while (!stopping) {
      try {
        if (broken.set) throw broken.error;
        if (!ready) {
          await prepareServer(redis);
          ready = true;
        }
        const now = Date.now();
        if (now >= nextRenew || (held.size < share && now >= nextTake)) {
          const renew = now >= nextRenew;
          // Free shards are first taken a moment after registering (JOIN_SETTLE_MS, with a heartbeat
          // then), so that workers started together split the shards at once, rather than the first
          // taking them all and giving half back, whose states the other must then load. A restarted
          // worker's own shards are taken back at once, at the first balance.
          settledAt ??= now + JOIN_SETTLE_MS;
          const settled = now >= settledAt;
          share = await balance(redis, renew, settled);
          // The heartbeat and the leases are renewed at a third of their life (500 ms at most); while
          // short of the share, free shards are looked for every 50 ms, to take one as soon as a peer
          // gives it up.
          if (renew) nextRenew = settled ? now + Math.min(leaseMs / 3, 500) : settledAt;
          nextTake = settled ? now + 50 : settledAt;
        }
        if (now >= nextPeek) {
          // A peer that joins is noticed within 50 ms (the registry's size, read only), and the shards
          // beyond the new share given up at once, rather than at the next renewal.
          nextPeek = now + 50;
          guard(redis.zcard(registry)).then(
            (n) => {
              if (n > peers) nextRenew = 0;
            },
            () => undefined,
          );
        }
        // Round robin over the shards held, one batch each, from where the last step left off.
        const h = after(last)[0];
        if (h === undefined) {
          await pause(napMs());
          continue;
        }
        last = h.shard;
        let current = ahead.get(h.shard);
        ahead.delete(h.shard);
        if (current === undefined || current.h !== h) {
          if (!mayReadAhead(h)) await inflight.get(h.shard);
          if (h.claim) await claimPending(redis, h);
          if (held.get(h.shard) !== h) continue; // lost while taking over
          current = send(h);
        }
        readAhead(h.shard, h);
        // Let the replies that came in meanwhile be handled (a read ahead's arrival sends its loads)
        // before this batch takes the processor.
        await new Promise((resolve) => setImmediate(resolve));
        const entries = await current.entries;
        await inflight.get(h.shard); // the shard's previous commit, answered and handled
        if (broken.set) continue;
        if (current.generation !== h.generation || held.get(h.shard) !== h) continue; // out of date
        // An empty read of the pending list ends the recovery; it says nothing of new entries, so it
        // does not count towards a round that found nothing (which pauses the loop).
        if (h.recovering && entries.length === 0) h.recovering = false;
        if (entries.length === 0 && !current.fromPending) {
          // Nothing new, and no commit of the shard in flight: no entry of it should be pending. One
          // that is was read by a worker that lost the lease without knowing (under another name, or
          // this one's by an earlier run), and no commit of this worker's would find it (see COMMIT)
          // on a shard that gets nothing more: take it over and read it now.
          const summary = (await guard(redis.xpending(h.keys.events, group))) as [number, ...unknown[]];
          if (held.get(h.shard) !== h || current.generation !== h.generation) continue;
          if (Number(summary[0]) > 0) {
            takeOverStrays(h, `${summary[0]} entries pending that this worker did not read`);
            continue;
          }
        }
        if (entries.length === 0) {
          if (current.fromPending || ++idle < held.size) continue;
          // A whole round found nothing new.
          idle = 0;
          if (!stopping) await pause(napMs());
          continue;
        }
        idle = 0;
        const { commit } = await decide(redis, h, await current.prepared, current.fromPending);
        const handled: Promise<void> = commit.then(
          () => {
            if (inflight.get(h.shard) === handled) inflight.delete(h.shard);
          },
          (error: unknown) => {
            if (inflight.get(h.shard) === handled) inflight.delete(h.shard);
            if (!broken.set) Object.assign(broken, { set: true, error });
          },
        );
        inflight.set(h.shard, handled);
      } catch (error) {
        // A lost connection or a failed command: each batch sent was committed whole or not at all.
        // Wait for every answer, forget what is in memory and read each shard's pending entries again.
        await Promise.allSettled(unanswered());
        broken.set = false;
        broken.error = undefined;
        // The groups are made sure of and the scripts loaded again before anything else: a consumer
        // group deleted by hand is created again (reading from the start), and a restarted server
        // has lost the scripts.
        ready = false;
        inflight.clear();
        ahead.clear();
        fail(error);
        for (const h of held.values()) {
          h.cache.clear();
          h.recovering = true;
          h.claim = true;
          h.committing = null;
          h.generation++;
        }
        // A back-off before starting over; cut short to renew the leases when a renewal is due sooner.
        // One that is overdue (renewals failing: the server is down) does not cut it, or the worker
        // would retry in a tight loop.
        const backoff = Math.min(1000, pollMs * 4);
        const untilRenew = nextRenew - Date.now();
        if (!stopping) await pause(untilRenew > 0 ? Math.max(1, Math.min(backoff, untilRenew)) : backoff);
      }
    }
    await Promise.allSettled(unanswered());
    try {
      await guard(
        runScriptEach(
          redis,
          RELEASE,
          [...held.values()].map((h) => ({ keys: [h.keys.lease], args: [token] })),
        ),
      );
      held.clear();
      await guard(runScript(redis, HEARTBEAT, [registry], [consumer, 0]));
      await guard(redis.quit());
    } catch (error) {
      fail(error);
      redis.disconnect();
    }
    connection = null;
  }

  return {
    start(): Promise<void> {
      if (running !== null) throw new SpendcapError('invalid_state', 'the worker was started already');
      running = loop();
      return running;
    },
    async stop(): Promise<void> {
      stopping = true;
      wake?.();
      if (running !== null) await running;
      else connection?.disconnect();
    },
    stats(): WorkerStats {
      return { ...counts, shards: [...held.keys()].sort((a, b) => a - b) };
    },
  };
}
