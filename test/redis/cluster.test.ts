import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, loadPolicy, type BatchResult, type SubscriberProfile } from 'spendcap';
import {
  createWorker,
  progress,
  publishEvents,
  publishProfiles,
  readStreams,
  shardKeys,
  shardOf,
  type SpendcapWorker,
  type WorkerOptions,
} from 'spendcap/redis';
import { CLAIM, COMMIT, runScript, TRIM } from '../../src/redis/scripts';
import { generateW1 } from '../../bench/workload.mjs';
import {
  CLI,
  collect,
  compare,
  haveRedisServer,
  pendingOf,
  spawnWorker,
  startRedis,
  waitUntilDone,
} from '../../scripts/redis-harness.mjs';

// Worker processes (`spendcap worker`) on a real redis-server (Debian's package; `.ci/run` installs it
// when it is missing) started on a free loopback port in a temporary directory, with the append-only
// file fsynced on every write. Off CI, without a redis-server, the suite is skipped and says so.
const available = haveRedisServer();
const policyFile = 'rules/graduated-postpaid.json';
const policy = loadPolicy(readFileSync(policyFile, 'utf8'));
const SHARDS = 8;

/** Runs `during` while the worker runs; then stops the worker and waits for it to end, whatever happened. */
async function whileRunning(worker: SpendcapWorker, during: () => Promise<void>): Promise<void> {
  const running = worker.start();
  try {
    await during();
  } finally {
    await worker.stop();
    await running;
  }
}

type Harness = Awaited<ReturnType<typeof startRedis>>;
interface Workload {
  readonly events: unknown[];
  readonly profiles: SubscriberProfile[];
}

it.runIf(process.env['CI'] === 'true')('redis-server is installed where CI runs', () => {
  expect(available, 'redis-server is not on the PATH: .ci/run installs Debian redis-server').toBe(true);
});

describe.skipIf(!available)('spendcap workers on a real redis-server', () => {
  // 100,000 events of 8,000 subscribers; the reference is one in-process engine.run over them.
  let workload: Workload;
  let reference: BatchResult;
  beforeAll(async () => {
    workload = generateW1({ subscribers: 8000, events: 100_000, seed: 20261202 }) as Workload;
    reference = await createEngine(policy).run(workload.events, workload.profiles);
  });

  async function publishAll(url: string): Promise<Redis> {
    const client = new Redis(url, { maxRetriesPerRequest: 50 });
    client.on('error', () => undefined);
    await publishProfiles(client, workload.profiles, { shards: SHARDS });
    const published = await publishEvents(client, workload.events, { shards: SHARDS });
    expect(published.published).toBe(100_000);
    return client;
  }

  /**
   * What the workers wrote is what one in-process run gives: the same action ids, each once, every
   * final state, and a report for each rejected, late or duplicate event.
   */
  async function expectOneRun(client: Redis): Promise<void> {
    const written = await collect(client, SHARDS, Object.keys(reference.states), shardOf);
    const c = compare(reference, written);
    expect(c.expectedActions).toBeGreaterThan(10_000);
    expect({ lost: c.lost, duplicated: c.duplicated, unexpected: c.unexpected }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
    expect(c.writtenActions).toBe(c.expectedActions);
    expect(c.statesDiffering, `first differing: ${c.firstDifferent.join(', ')}`).toBe(0);
    expect(c.writtenReports).toBe(c.expectedReports);
  }

  interface Run {
    readonly redis: Harness;
    readonly client: Redis;
    readonly workers: readonly ReturnType<typeof spawnWorker>[];
  }

  /**
   * Publishes the workload to a fresh redis-server and runs `consumers` as worker processes. When
   * 30,000 events are committed, `midway` is called on each poll until it returns true (it may wait
   * for a better moment); then every entry is committed, the workers get SIGTERM, `after` checks what
   * it needs, and the output must be that of one in-process run.
   */
  async function runWorkers(
    consumers: readonly string[],
    midway: (run: Run) => Promise<boolean>,
    after: (run: Run) => Promise<void>,
  ): Promise<void> {
    const redis: Harness = await startRedis();
    const workers: ReturnType<typeof spawnWorker>[] = [];
    try {
      const client = await publishAll(redis.url);
      for (const consumer of consumers)
        workers.push(
          spawnWorker({ url: redis.url, policyFile, shards: SHARDS, consumer, leaseMs: 1000, batch: 500 }),
        );
      const run: Run = { redis, client, workers };
      let acted = false;
      await waitUntilDone(client, {
        shards: SHARDS,
        timeoutMs: 180_000,
        onTick: async (done: number) => {
          if (!acted && done >= 30_000) acted = await midway(run);
        },
      });
      expect(acted, 'the mid-run step happened').toBe(true);
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
      await after(run);
      await expectOneRun(client);
      client.disconnect();
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await redis.stop();
    }
  }

  it('3 worker processes over 8 shards, one SIGKILLed mid-run: another takes over its pending entries; every final state and action id equals one in-process engine.run', async () => {
    let killedWith = 0;
    await runWorkers(
      ['w1', 'w2', 'w3'],
      async ({ client, workers }) => {
        // Killed while it holds entries it has read and not committed.
        if ((await pendingOf(client, SHARDS, 'w1')) === 0) return false;
        workers[0]!.child.kill('SIGKILL');
        await workers[0]!.exited;
        killedWith = await pendingOf(client, SHARDS, 'w1');
        return true;
      },
      async ({ client, workers }) => {
        expect(killedWith, 'w1 was killed holding pending entries').toBeGreaterThan(0);
        // The dead worker's pending entries were taken over (none is left with it).
        expect(await pendingOf(client, SHARDS, 'w1')).toBe(0);
        const claimed = workers.slice(1).reduce((sum, w) => sum + (w.stats()?.claimed ?? 0), 0);
        expect(claimed).toBeGreaterThanOrEqual(killedWith);
      },
    );
  }, 240_000);

  it('a worker stalled past its lease (SIGSTOP) and resumed: its shards move to the other, its late commits are refused, nothing is lost or repeated', async () => {
    await runWorkers(
      ['w1', 'w2'],
      async ({ client, workers }) => {
        // Stopped while it holds entries it has read, for well over its lease.
        if ((await pendingOf(client, SHARDS, 'w1')) === 0) return false;
        workers[0]!.child.kill('SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 3000));
        workers[0]!.child.kill('SIGCONT');
        return true;
      },
      async ({ workers }) => {
        // The stalled worker found its leases gone (at its next commit, read or renewal).
        expect(workers[0]!.stats()?.leasesLost).toBeGreaterThan(0);
        expect(workers[1]!.stats()?.claimed).toBeGreaterThan(0);
      },
    );
  }, 240_000);

  it('entries read by a consumer without the lease (reads are not fenced) are taken over by the owner before anything after them is committed: nothing is lost, repeated or out of order', async () => {
    let strays = 0;
    await runWorkers(
      ['w1', 'w2'],
      async ({ client }) => {
        // A zombie (a worker that lost its leases without knowing) reads new entries of every shard
        // into its own pending list while the owners run.
        for (let shard = 0; shard < SHARDS; shard++) {
          const reply = (await client.xreadgroup(
            'GROUP',
            'spendcap',
            'zombie',
            'COUNT',
            200,
            'STREAMS',
            shardKeys('spendcap', shard).events,
            '>',
          )) as [string, unknown[]][] | null;
          strays += reply?.[0]?.[1].length ?? 0;
        }
        return strays > 0;
      },
      async ({ client, workers }) => {
        expect(strays).toBeGreaterThan(0);
        expect(await pendingOf(client, SHARDS, 'zombie')).toBe(0);
        // The owners' commits were refused until they had taken the zombie's entries over.
        const refused = workers.reduce((sum, w) => sum + (w.stats()?.conflicts ?? 0), 0);
        expect(refused).toBeGreaterThan(0);
        const claimed = workers.reduce((sum, w) => sum + (w.stats()?.claimed ?? 0), 0);
        expect(claimed).toBeGreaterThanOrEqual(strays);
      },
    );
  }, 240_000);

  it('redis-server SIGKILLed and restarted mid-run: the workers reconnect and nothing is lost or repeated', async () => {
    await runWorkers(
      ['w1', 'w2'],
      async ({ redis }) => {
        await redis.restart();
        return true;
      },
      async ({ workers }) => {
        // Both saw the server go away, and came back to finish.
        for (const w of workers) expect(w.stats()?.errors, w.consumer).toBeGreaterThan(0);
      },
    );
  }, 240_000);
});

describe.skipIf(!available)('spendcap/redis in process, on a real redis-server', () => {
  let redis: Harness;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  const profile = (id: string) => ({
    subscriberId: id,
    homeCountry: 'PL',
    timeZone: 'Europe/Warsaw',
    cycleAnchorDay: 1,
  });
  const usage = (id: string, subscriberId: string, cost: number) => ({
    type: 'usage',
    id,
    subscriberId,
    at: '2026-11-05T10:00:00Z',
    service: 'data',
    country: 'PL',
    cost: { amount: cost, currency: 'PLN' },
  });

  /** One worker on the suite's server; `more` replaces any of its options (another client, say). */
  const soloWorker = (prefix: string, shards: number, more: Partial<WorkerOptions> = {}) =>
    createWorker({
      client,
      policy,
      shards,
      group: 'spendcap',
      consumer: 'solo',
      prefix,
      leaseMs: 1000,
      pollMs: 5,
      ...more,
    });

  /**
   * Runs one worker until every entry is committed, and returns its stats and what it reported
   * through onError. progress() goes through the worker's client (ioredis puts no keyPrefix on
   * XINFO's key).
   */
  async function drain(
    prefix: string,
    shards: number,
    more: Partial<WorkerOptions> = {},
  ): Promise<{ stats: ReturnType<ReturnType<typeof createWorker>['stats']>; errors: string[] }> {
    const errors: string[] = [];
    const worker = soloWorker(prefix, shards, { ...more, onError: (e) => errors.push(String(e)) });
    await whileRunning(worker, async () => {
      await waitUntilDone(more.client ?? client, { shards, prefix, timeoutMs: 30_000 });
    });
    return { stats: worker.stats(), errors };
  }

  async function actionIds(c: Redis, shards: number, prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const r of readStreams(c, 'actions', { shards, prefix })) ids.push(r.fields['id']!);
    return ids.sort();
  }

  it('with the reference evaluator (json-rules-engine) the worker writes the states and actions of one engine.run in that mode', async () => {
    const prefix = 'reference';
    const shards = 2;
    const w = generateW1({ subscribers: 40, events: 1500, seed: 7 }) as Workload;
    const options = { evaluator: 'json-rules-engine' } as const;
    const expected = await createEngine(policy, options).run(w.events, w.profiles);
    await publishProfiles(client, w.profiles, { shards, prefix });
    await publishEvents(client, w.events, { shards, prefix });
    // Batches of 100, so that states are written, kept in memory and decided on again across batches.
    const worker = createWorker({
      client,
      policy,
      engine: options,
      shards,
      group: 'spendcap',
      consumer: 'ref',
      prefix,
      leaseMs: 1000,
      pollMs: 5,
      batchSize: 100,
    });
    await whileRunning(worker, async () => {
      await waitUntilDone(client, { shards, prefix, timeoutMs: 60_000 });
    });
    expect(worker.stats().batches).toBeGreaterThan(10);
    const expectedIds = expected.decisions.flatMap((d) => d.actions.map((a) => a.id));
    expect(expectedIds.length).toBeGreaterThan(50);
    expect(await actionIds(client, shards, prefix)).toEqual(expectedIds.sort());
    const subscribers = Object.keys(expected.states);
    expect(subscribers.length).toBeGreaterThan(10);
    for (const id of subscribers) {
      const json = await client.hget(shardKeys(prefix, shardOf(id, shards)).state(id), 's');
      expect(json, `state of ${id}`).not.toBeNull();
      expect(JSON.parse(json!), `state of ${id}`).toEqual(JSON.parse(JSON.stringify(expected.states[id])));
    }
  });

  /**
   * Publishes one event at a time while `owner` runs, each read at once by `zombie` (a worker that lost
   * the lease without knowing), until the zombie gets one before the owner does. Returns the events
   * published, in order.
   */
  async function strayRead(
    prefix: string,
    zombie: string,
    next: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>[]> {
    const published: Record<string, unknown>[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const event = next();
      published.push(event);
      await publishEvents(client, [event], { shards: 1, prefix });
      const reply = (await client.xreadgroup(
        'GROUP',
        'spendcap',
        zombie,
        'COUNT',
        10,
        'STREAMS',
        shardKeys(prefix, 0).events,
        '>',
      )) as [string, unknown[]][] | null;
      if ((reply?.[0]?.[1].length ?? 0) > 0) return published;
      // The owner read it first: let it commit, and try again.
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 5_000 });
    }
    throw new Error('the zombie never read an entry before the owner');
  }

  /** Usage events of s1, a minute apart, from 10:00 on. */
  const timedUsage = (): (() => Record<string, unknown>) => {
    let k = 0;
    return () => {
      k++;
      const at = new Date(Date.parse('2026-11-05T10:00:00Z') + k * 60_000).toISOString();
      return { ...usage(`t${k}`, 's1', 100 * k), at: at.replace('.000Z', 'Z') };
    };
  };

  /**
   * Runs an idle-polling worker named `consumer` on one shard of `prefix`: two events of s1 decided,
   * then one read at once by `zombie` (see strayRead), then `more` (events published after it, if
   * any), until every entry is committed. Returns the worker and every event published, in order.
   */
  async function runWithStray(
    prefix: string,
    consumer: string,
    zombie: string,
    more: number,
  ): Promise<{ worker: ReturnType<typeof createWorker>; published: Record<string, unknown>[] }> {
    await publishProfiles(client, [profile('s1')], { shards: 1, prefix });
    const next = timedUsage();
    const published = [next(), next()];
    await publishEvents(client, published, { shards: 1, prefix });
    const worker = createWorker({
      client,
      policy,
      shards: 1,
      group: 'spendcap',
      consumer,
      prefix,
      leaseMs: 30_000,
      pollMs: 200,
    });
    await whileRunning(worker, async () => {
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 5_000 });
      published.push(...(await strayRead(prefix, zombie, next)));
      const after = Array.from({ length: more }, next);
      published.push(...after);
      if (after.length > 0) await publishEvents(client, after, { shards: 1, prefix });
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 10_000 });
    });
    return { worker, published };
  }

  /** The stored state of s1 is that of one in-process run over `events`, in order. */
  async function expectStateOfOneRun(prefix: string, events: Record<string, unknown>[]): Promise<void> {
    const expected = await createEngine(policy).run(events, [profile('s1')]);
    expect(expected.decisions.every((d) => d.outcome === 'applied')).toBe(true);
    const json = await client.hget(shardKeys(prefix, 0).state('s1'), 's');
    expect(JSON.parse(json!)).toEqual(JSON.parse(JSON.stringify(expected.states['s1'])));
  }

  it('on a shard that gets nothing more, an entry a zombie read is still found and decided: a read that finds nothing checks for pending entries', async () => {
    // Nothing is published after the zombie's read: only the owner's own check can find its entry.
    const { worker, published } = await runWithStray('quiet', 'owner', 'zombie', 0);
    expect(worker.stats().conflicts).toBeGreaterThan(0);
    expect(worker.stats().events).toBe(published.length);
    await expectStateOfOneRun('quiet', published);
  });

  it("an entry read under the owner's own name by an earlier, stalled run is decided before the events after it", async () => {
    // The stalled run reads as 'w', the owner's name; then more events of the same subscriber come.
    const { worker, published } = await runWithStray('ownname', 'w', 'w', 2);
    expect(worker.stats().conflicts).toBeGreaterThan(0);
    // In order: the state is that of one run over the events as published.
    await expectStateOfOneRun('ownname', published);
    const reports = [];
    for await (const r of readStreams(client, 'reports', { shards: 1, prefix: 'ownname' }))
      reports.push(r.fields);
    expect(reports).toEqual([]);
  });

  it('while the server is down the worker retries after a back-off, not in a tight loop, even with a client that fails commands at once', async () => {
    const own: Harness = await startRedis();
    // No offline queue: every command fails at once while the server is down.
    const c = new Redis(own.url, { enableOfflineQueue: false, lazyConnect: true, maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    await c.connect();
    let errors = 0;
    const worker = createWorker({
      client: c,
      policy,
      shards: 2,
      group: 'spendcap',
      consumer: 'down',
      leaseMs: 1000,
      pollMs: 50,
      onError: () => {
        errors++;
      },
    });
    const running = worker.start();
    try {
      for (let i = 0; i < 100 && worker.stats().shards.length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(worker.stats().shards).toEqual([0, 1]);
      await own.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = errors;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // The back-off is 4 × pollMs = 200 ms: a handful of errors in 1.5 s, not hundreds.
      expect(errors - before).toBeGreaterThan(0);
      expect(errors - before).toBeLessThan(40);
    } finally {
      await worker.stop();
      await running;
      c.disconnect();
    }
  });

  it('a long pollMs never outlasts the lease: the worker takes its shard, decides, idles and keeps the lease, and sees a new entry by its next renewal', async () => {
    const prefix = 'longpoll';
    await publishProfiles(client, [profile('s1')], { shards: 1, prefix });
    await publishEvents(client, [usage('p1', 's1', 100), usage('p2', 's1', 100)], { shards: 1, prefix });
    // pollMs is a minute, the lease a second: a pause of pollMs anywhere would lose the lease and
    // outlast the waits below.
    const worker = createWorker({
      client,
      policy,
      shards: 1,
      group: 'spendcap',
      consumer: 'solo',
      prefix,
      leaseMs: 1000,
      pollMs: 60_000,
    });
    await whileRunning(worker, async () => {
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 5_000 });
      // Idle for three lease lives: the shard is still this worker's.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(worker.stats().shards).toEqual([0]);
      expect(worker.stats().leasesLost).toBe(0);
      await publishEvents(client, [usage('p3', 's1', 100)], { shards: 1, prefix });
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 5_000 });
    });
    expect(worker.stats().events).toBe(3);
    expect(await client.hget(shardKeys(prefix, 0).state('s1'), 'v')).toBe('2');
  });

  it('with a client that has a keyPrefix, every key is under it, and the states and actions are those of one engine.run', async () => {
    const shards = 2;
    const w = generateW1({ subscribers: 20, events: 300, seed: 11 }) as Workload;
    const expected = await createEngine(policy).run(w.events, w.profiles);
    const expectedIds = expected.decisions.flatMap((d) => d.actions.map((a) => a.id)).sort();
    expect(expectedIds.length).toBeGreaterThan(5);
    const prefixed = new Redis(redis.url, { keyPrefix: 'kp:' });
    try {
      await publishProfiles(prefixed, w.profiles, { shards, prefix: 'p' });
      await publishEvents(prefixed, w.events, { shards, prefix: 'p' });
      const { errors } = await drain('p', shards, { client: prefixed, consumer: 'kp', batchSize: 50 });
      expect(errors).toEqual([]);
      expect((await progress(prefixed, { shards, prefix: 'p' })).map((x) => x.length)).toEqual(
        (await progress(client, { shards, prefix: 'kp:p' })).map((x) => x.length),
      );
      expect(await actionIds(prefixed, shards, 'p')).toEqual(expectedIds);
    } finally {
      prefixed.disconnect();
    }
    // The keys as the server has them: 'kp:', then the worker's own; none without it.
    expect((await client.keys('*')).filter((k) => k.startsWith('p:'))).toEqual([]);
    expect(await actionIds(client, shards, 'kp:p')).toEqual(expectedIds);
    for (const id of Object.keys(expected.states)) {
      const json = await client.hget(shardKeys('kp:p', shardOf(id, shards)).state(id), 's');
      expect(JSON.parse(json!), `state of ${id}`).toEqual(JSON.parse(JSON.stringify(expected.states[id])));
    }
  });

  it('on a server that knows none of the scripts (as after a restart), the first commits report no error', async () => {
    // A commit whose EVALSHA the server refuses runs as EVAL only after the read-ahead sent behind
    // it; the worker loads its scripts on connecting, so that none is refused.
    const shards = 2;
    const w = generateW1({ subscribers: 30, events: 600, seed: 5 }) as Workload;
    await publishProfiles(client, w.profiles, { shards, prefix: 'nos' });
    await publishEvents(client, w.events, { shards, prefix: 'nos' });
    await client.script('FLUSH');
    const { errors } = await drain('nos', shards, { consumer: 'n1', batchSize: 25 });
    expect(errors).toEqual([]);
    const expected = await createEngine(policy).run(w.events, w.profiles);
    expect(await actionIds(client, shards, 'nos')).toEqual(
      expected.decisions.flatMap((d) => d.actions.map((a) => a.id)).sort(),
    );
  });

  it('with trimInput, an input stream loses the entries every consumer group has acknowledged, and none that a group still needs', async () => {
    const shards = 2;
    const prefix = 'trim';
    const w = generateW1({ subscribers: 30, events: 1200, seed: 13 }) as Workload;
    await publishProfiles(client, w.profiles, { shards, prefix });
    await publishEvents(client, w.events, { shards, prefix });
    const keys = [0, 1].map((shard) => shardKeys(prefix, shard).events);
    const idsOf = async (key: string) =>
      ((await client.xrange(key, '-', '+')) as [string, string[]][]).map(([id]) => id);
    const before = await Promise.all(keys.map(idsOf));
    expect(before[0]!.length).toBeGreaterThan(300);
    // Another group on shard 0 (an audit, say) has read 300 entries and acknowledged the first 100:
    // its 101st entry and everything after it must stay.
    await client.xgroup('CREATE', keys[0]!, 'audit', '0');
    await client.xreadgroup('GROUP', 'audit', 'a1', 'COUNT', 300, 'STREAMS', keys[0]!, '>');
    await client.xack(keys[0]!, 'audit', ...before[0]!.slice(0, 100));

    const worker = soloWorker(prefix, shards, { consumer: 't1', batchSize: 100, trimInput: true });
    /** Polls until `done` holds (the worker trims at each renewal of its leases, every 333 ms here). */
    const until = async (done: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 50));
      return done();
    };
    await whileRunning(worker, async () => {
      await waitUntilDone(client, { shards, prefix, timeoutMs: 30_000 });
      // Shard 1 has only the workers' group, which has acknowledged everything: all but the last node
      // of entries goes (a node holds at most 100).
      // (Until the worker has counted what its last trims removed: they are pipelined, one a shard.)
      const removed = async () =>
        (await Promise.all(keys.map((k) => client.xlen(k)))).reduce(
          (a, n, i) => a + before[i]!.length - n,
          0,
        );
      expect(
        await until(
          async () => (await client.xlen(keys[1]!)) <= 100 && worker.stats().trimmed === (await removed()),
        ),
      ).toBe(true);
      const after = await Promise.all(keys.map(idsOf));
      // What stays is the end of each stream, and on shard 0 all that the audit group still needs.
      for (const shard of [0, 1]) expect(before[shard]!.slice(-after[shard]!.length)).toEqual(after[shard]);
      expect(after[0]!.length).toBeGreaterThanOrEqual(before[0]!.length - 100);
      expect(worker.stats().trimmed).toBe(
        before[0]!.length - after[0]!.length + before[1]!.length - after[1]!.length,
      );
      // Trimming leaves the group's progress readable, and the decisions are those of one engine.run.
      for (const p of await progress(client, { shards, prefix }))
        expect(p).toMatchObject({ lag: 0, pending: 0 });
      const expected = await createEngine(policy).run(w.events, w.profiles);
      expect(await actionIds(client, shards, prefix)).toEqual(
        expected.decisions.flatMap((d) => d.actions.map((a) => a.id)).sort(),
      );
      // Once the audit group has read and acknowledged the rest, shard 0 is trimmed too.
      const rest = (await client.xreadgroup('GROUP', 'audit', 'a1', 'STREAMS', keys[0]!, '>')) as [
        string,
        [string, string[]][],
      ][];
      await client.xack(keys[0]!, 'audit', ...before[0]!.slice(100, 300), ...rest[0]![1].map(([id]) => id));
      expect(await until(async () => (await client.xlen(keys[0]!)) <= 100)).toBe(true);
    });
    expect(worker.stats().errors).toBe(0);
    // The script itself: nothing without the lease; a stream that is not there (deleted by hand: the
    // worker makes it again with its group) is left alone rather than failing the renewal.
    const lease = shardKeys(prefix, 9).lease;
    await client.set(lease, 'token');
    expect(await runScript(client, TRIM, [lease, shardKeys(prefix, 9).events], ['token'])).toBe(0);
    expect(await runScript(client, TRIM, [lease, shardKeys(prefix, 9).events], ['another'])).toBe(-1);
  });

  it("a lease taken whose reply was lost is the worker's own: it holds the shard at once, not when the lease runs out", async () => {
    const prefix = 'lostset';
    const shards = 1;
    await publishProfiles(client, [profile('s1')], { shards, prefix });
    await publishEvents(client, [usage('l1', 's1', 10), usage('l2', 's1', 10), usage('l3', 's1', 10)], {
      shards,
      prefix,
    });
    // The worker's connection, with the reply of its first SET NX (the taking of a lease) lost: the
    // command runs, then the pipeline fails as when the connection drops.
    let dropped = 0;
    const lossy = (redis: Redis): Redis =>
      new Proxy(redis, {
        get(target, name) {
          if (name === 'pipeline')
            return () => {
              const p = target.pipeline();
              let takes = false;
              return new Proxy(p, {
                get(pt, n) {
                  if (n === 'set')
                    return (...args: unknown[]) => {
                      takes ||= args.includes('NX');
                      return (pt.set as (...a: unknown[]) => unknown)(...args);
                    };
                  if (n === 'exec')
                    return async () => {
                      const replies = await pt.exec();
                      if (takes && dropped++ === 0) throw new Error('connection lost (simulated)');
                      return replies;
                    };
                  const v = Reflect.get(pt, n) as unknown;
                  return typeof v === 'function' ? v.bind(pt) : v;
                },
              });
            };
          const v = Reflect.get(target, name) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    const fake = {
      options: client.options,
      duplicate: (o: object) => lossy(client.duplicate(o)),
    } as unknown as Redis;
    const errors: string[] = [];
    // A lease of 30 s: without knowing the lease is its own, the worker would wait that long.
    const worker = soloWorker(prefix, shards, {
      client: fake,
      consumer: 'ls',
      leaseMs: 30_000,
      onError: (e) => errors.push(String(e)),
    });
    await whileRunning(worker, async () => {
      await waitUntilDone(client, { shards, prefix, timeoutMs: 10_000 });
    });
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(errors).toEqual([expect.stringContaining('connection lost (simulated)')]);
    expect(worker.stats()).toMatchObject({ events: 3, leasesLost: 0 });
  });

  /** Waits until the lease of a shard has been renewed `n` times (its time to live went up). */
  async function renewals(prefix: string, shard: number, n: number): Promise<void> {
    const lease = shardKeys(prefix, shard).lease;
    let last = await client.pttl(lease);
    for (let seen = 0, i = 0; seen < n && i < 400; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const now = await client.pttl(lease);
      if (now > last) seen++;
      last = now;
    }
  }

  it('with trimInput, a group whose pending entries are newer than its last delivered one (XGROUP SETID back) keeps what it has not been delivered', async () => {
    const prefix = 'trimset';
    const w = generateW1({ subscribers: 20, events: 600, seed: 17 }) as Workload;
    await publishProfiles(client, w.profiles, { shards: 1, prefix });
    await publishEvents(client, w.events, { shards: 1, prefix });
    const key = shardKeys(prefix, 0).events;
    const all = ((await client.xrange(key, '-', '+')) as [string, string[]][]).map(([id]) => id);
    // The audit group reads 300, acknowledges 250, and is set back to the start: its pending entries
    // (251-300) are newer than its last delivered id (0-0), and it will read everything again.
    await client.xgroup('CREATE', key, 'audit', '0');
    await client.xreadgroup('GROUP', 'audit', 'a1', 'COUNT', 300, 'STREAMS', key, '>');
    await client.xack(key, 'audit', ...all.slice(0, 250));
    await client.xgroup('SETID', key, 'audit', '0');
    const worker = soloWorker(prefix, 1, { consumer: 'ts', batchSize: 100, trimInput: true });
    await whileRunning(worker, async () => {
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 30_000 });
      await renewals(prefix, 0, 2); // each one trims
    });
    expect(worker.stats()).toMatchObject({ events: all.length, trimmed: 0, errors: 0 });
    expect(await client.xlen(key)).toBe(all.length);
  });

  it('with trimInput, a trim the server refuses (an ACL without XTRIM) is reported, and the worker goes on deciding', async () => {
    const prefix = 'trimacl';
    const events = Array.from({ length: 300 }, (_, i) => usage(`a${i}`, `s${i % 10}`, 10));
    await publishProfiles(
      client,
      Array.from({ length: 10 }, (_, i) => profile(`s${i}`)),
      {
        shards: 1,
        prefix,
      },
    );
    await publishEvents(client, events.slice(0, 200), { shards: 1, prefix });
    await client.call('ACL', 'SETUSER', 'notrim', 'on', 'nopass', '~*', '&*', '+@all', '-xtrim');
    const limited = new Redis(redis.url, { username: 'notrim', password: 'any' });
    const errors: string[] = [];
    const worker = soloWorker(prefix, 1, {
      client: limited,
      consumer: 'ta',
      batchSize: 50,
      trimInput: true,
      onError: (e) => errors.push(String(e)),
    });
    const running = worker.start();
    try {
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 30_000 });
      await renewals(prefix, 0, 2);
      // Refused trims so far; events published now are still decided.
      expect(errors.length).toBeGreaterThan(0);
      await publishEvents(client, events.slice(200), { shards: 1, prefix });
      await waitUntilDone(client, { shards: 1, prefix, timeoutMs: 10_000 });
    } finally {
      await worker.stop();
      await running;
      limited.disconnect();
    }
    expect(worker.stats()).toMatchObject({ events: 300, trimmed: 0 });
    for (const e of errors) expect(e).toMatch(/can't run this command/);
  });

  it('publishEvents refuses an event without a subscriber id, naming its index, and writes nothing', async () => {
    await expect(
      publishEvents(client, [usage('a', 's1', 1), { type: 'usage', id: 'b' }], {
        shards: 2,
        prefix: 'refuse',
      }),
    ).rejects.toThrow(/\$\[1\]\.subscriberId/);
    expect(await client.exists(shardKeys('refuse', 0).events, shardKeys('refuse', 1).events)).toBe(0);
  });

  it('publishProfiles refuses an invalid profile with its path, and writes nothing', async () => {
    await expect(
      publishProfiles(client, [profile('s1'), { ...profile('s2'), timeZone: 'Mars/Olympus' }], {
        shards: 2,
        prefix: 'refuse',
      }),
    ).rejects.toThrow(/\$\[1\]\.timeZone/);
    expect(await client.exists(shardKeys('refuse', shardOf('s1', 2)).profile('s1'))).toBe(0);
  });

  it('an entry that is not an event, an event in the wrong shard and a subscriber without a profile are reported, acknowledged and never retried', async () => {
    const prefix = 'bad';
    const shards = 2;
    await publishProfiles(client, [profile('s1')], { shards, prefix });
    await publishEvents(client, [usage('u1', 's1', 100), usage('u2', 'nobody', 100)], { shards, prefix });
    const home = shardOf('s1', shards);
    const other = 1 - home;
    await client.xadd(shardKeys(prefix, home).events, '*', 'e', '{not json');
    await client.xadd(shardKeys(prefix, other).events, '*', 'e', JSON.stringify(usage('u3', 's1', 100)));
    const { stats } = await drain(prefix, shards);
    expect(stats.events).toBe(4);
    const reports = [];
    for await (const r of readStreams(client, 'reports', { shards, prefix })) reports.push(r.fields);
    const codes = reports
      .map((r) => `${r['outcome']} ${(JSON.parse(r['issues']!) as { code: string }[])[0]?.code}`)
      .sort();
    expect(codes).toEqual([
      'rejected invalid_format',
      'rejected subscriber_mismatch',
      'rejected subscriber_mismatch',
    ]);
    // s1's own event was applied: its state is stored at version 1.
    expect(await client.hget(shardKeys(prefix, home).state('s1'), 'v')).toBe('1');
    // Nothing is left pending: the bad entries were acknowledged with their reports.
    const pending = await Promise.all(
      [0, 1].map((s) => client.xpending(shardKeys(prefix, s).events, 'spendcap')),
    );
    expect(pending.map((p) => p[0])).toEqual([0, 0]);
  });

  it('stored states are checked before they are decided on: a refused one is reported and left as it is, a good or an older one is decided and written', async () => {
    const prefix = 'stored';
    const shards = 1;
    const k = shardKeys(prefix, 0);
    const init = (id: string) =>
      JSON.parse(JSON.stringify(createEngine(policy).init(profile(id)))) as Record<string, unknown>;
    const stored: Record<string, [string, string]> = {
      // Not JSON; made under another policy; a good one (the fast check's); version 1 (the schema's,
      // migrated).
      bad: ['3', '{not json'],
      other: ['2', JSON.stringify({ ...init('other'), policy: { id: 'another-policy', version: '1' } })],
      good: ['5', JSON.stringify(init('good'))],
      old: ['4', JSON.stringify({ ...init('old'), version: 1, seen: {} })],
    };
    for (const [id, [v, json]] of Object.entries(stored)) await client.hset(k.state(id), 'v', v, 's', json);
    await publishEvents(
      client,
      Object.keys(stored).map((id) => usage(`ev-${id}`, id, 100)),
      { shards, prefix },
    );
    await drain(prefix, shards);
    const reports = [];
    for await (const r of readStreams(client, 'reports', { shards, prefix })) reports.push(r.fields);
    const refused = reports
      .map(
        (r) =>
          `${r['subscriberId']} ${r['outcome']} ${(JSON.parse(r['issues']!) as { code: string }[])[0]?.code}`,
      )
      .sort();
    expect(refused).toEqual(['bad rejected invalid_state', 'other rejected invalid_state']);
    // The refused states are as they were; the others moved on by one version, with the event applied.
    expect(await client.hmget(k.state('bad'), 'v', 's')).toEqual(stored['bad']);
    expect(await client.hmget(k.state('other'), 'v', 's')).toEqual(stored['other']);
    for (const [id, v] of [
      ['good', '6'],
      ['old', '5'],
    ] as const) {
      const [version, json] = await client.hmget(k.state(id), 'v', 's');
      expect(version).toBe(v);
      const state = JSON.parse(json!) as { version: number; seen: { ids: string[] } };
      expect(state.version).toBe(2);
      expect(state.seen.ids).toEqual([`ev-${id}`]);
    }
  });

  it("the lease fences take-overs and commits, and a read by a worker without it stops the owner's commit until the owner takes the entries over", async () => {
    const prefix = 'fence';
    const k = shardKeys(prefix, 0);
    await client.xgroup('CREATE', k.events, 'spendcap', '0', 'MKSTREAM');
    await client.xadd(k.events, '*', 'e', JSON.stringify(usage('f1', 's1', 1)));
    await client.set(k.lease, 'owner-token', 'PX', 60_000);
    const pending = async () => (await client.xpending(k.events, 'spendcap'))[0];
    const read = async (consumer: string) =>
      (
        (await client.xreadgroup('GROUP', 'spendcap', consumer, 'COUNT', 10, 'STREAMS', k.events, '>')) as
          [string, [string, string[]][]][] | null
      )?.[0]?.[1].map(([id]) => id) ?? [];
    // The owner reads the entry; a zombie (its lease taken) cannot take it over from it.
    const [entry] = await read('owner');
    expect(entry).toBeDefined();
    expect(
      await runScript(client, CLAIM, [k.lease, k.events], ['old-token', 'spendcap', 'zombie', '0-0', 10]),
    ).toBe('lost');
    expect((await client.xpending(k.events, 'spendcap'))[3]).toEqual([['owner', '1']]);
    // ... nor commit: no state, no action, no acknowledgement.
    // `expected`: the committer's pending entries it expects (its batch's), or -1 for a batch read from
    // its pending list.
    const commitArgs = (
      tokenOf: string,
      consumer: string,
      expected: number,
      version: string,
      json: string,
      ack: string,
    ) => [
      tokenOf,
      'spendcap',
      1000,
      1,
      1,
      1,
      0,
      consumer,
      expected,
      version,
      json,
      ack,
      'act_1',
      's1',
      'f1',
      'notify',
      '{}',
    ];
    const keys = [k.lease, k.events, k.actions, k.reports, k.state('s1')];
    expect(
      await runScript(client, COMMIT, keys, commitArgs('old-token', 'zombie', 1, '0', '{"x":1}', entry!)),
    ).toEqual(['lost']);
    expect(await client.exists(k.state('s1'), k.actions)).toBe(0);
    expect(await pending()).toBe(1);
    // Reads are not fenced: the zombie moves a newer entry into its own pending list. The owner's commit
    // then writes nothing ('stray') until it has taken that entry over.
    await client.xadd(k.events, '*', 'e', JSON.stringify(usage('f2', 's1', 1)));
    const [strayEntry] = await read('zombie');
    expect(strayEntry).toBeDefined();
    const args = commitArgs('owner-token', 'owner', 1, '0', '{"x":1}', entry!);
    expect(await runScript(client, COMMIT, keys, args)).toEqual(['stray', 'zombie']);
    expect(await client.exists(k.state('s1'), k.actions)).toBe(0);
    expect(await pending()).toBe(2);
    const claimed = (await runScript(
      client,
      CLAIM,
      [k.lease, k.events],
      ['owner-token', 'spendcap', 'owner', '0-0', 10],
    )) as [string, string[]];
    expect(claimed[1]).toEqual([entry, strayEntry]);
    // Now the owner has more entries pending than the batch it commits: as if an earlier run under its
    // own name had read one. Refused too, unless the batch came from its pending list (which it reads
    // in order to the end).
    expect(await runScript(client, COMMIT, keys, args)).toEqual(['stray', 'owner']);
    expect(await client.exists(k.state('s1'), k.actions)).toBe(0);
    const recovering = commitArgs('owner-token', 'owner', -1, '0', '{"x":1}', entry!);
    // The owner's commit goes through, exactly once: the same commit again finds the version moved.
    expect(await runScript(client, COMMIT, keys, recovering)).toEqual(['ok']);
    expect(await runScript(client, COMMIT, keys, recovering)).toEqual(['conflict', '1']);
    expect(await client.xlen(k.actions)).toBe(1);
    expect(await client.hget(k.state('s1'), 'v')).toBe('1');
    expect(await pending()).toBe(1);
    expect((await client.xpending(k.events, 'spendcap'))[3]).toEqual([['owner', '1']]);
    // Versions count on in full, past where Lua's tostring would switch to 1e+14.
    await client.hset(k.state('s2'), 'v', '99999999999999', 's', '{}');
    const big = ['owner-token', 'spendcap', 1000, 1, 0, 0, 0, 'owner', -1, '99999999999999', '{"y":2}'];
    expect(
      await runScript(client, COMMIT, [k.lease, k.events, k.actions, k.reports, k.state('s2')], big),
    ).toEqual(['ok']);
    expect(await client.hget(k.state('s2'), 'v')).toBe('100000000000000');
  });

  it('a state changed under the worker is not overwritten: the commit is refused, and the batch decided again from the stored state', async () => {
    const prefix = 'conflict';
    const shards = 1;
    const key = shardKeys(prefix, 0).state('s1');
    await publishProfiles(client, [profile('s1')], { shards, prefix });
    const worker = soloWorker(prefix, shards);
    await whileRunning(worker, async () => {
      await publishEvents(client, [usage('c1', 's1', 100)], { shards, prefix });
      await waitUntilDone(client, { shards, prefix, timeoutMs: 30_000 });
      expect(await client.hget(key, 'v')).toBe('1');
      // Another writer moves the stored state on while the worker remembers version 1 (as a second
      // owner of the shard would): the worker's next commit must not write over it.
      const stored = JSON.parse((await client.hget(key, 's'))!) as never;
      const moved = await createEngine(policy).run([usage('x9', 's1', 50)], [], { s1: stored });
      await client.hset(key, 'v', '7', 's', JSON.stringify(moved.states['s1']));
      await publishEvents(client, [usage('c2', 's1', 100)], { shards, prefix });
      await waitUntilDone(client, { shards, prefix, timeoutMs: 30_000 });
    });
    expect(worker.stats().conflicts).toBe(1);
    const final = JSON.parse((await client.hget(key, 's'))!) as { seen: { ids: string[] } };
    expect(final.seen.ids).toEqual(['c1', 'x9', 'c2']);
    expect(await client.hget(key, 'v')).toBe('8');
  });

  it('a worker restarted under its name takes its shards back at once, pending entries first; another name waits for the lease', async () => {
    const prefix = 'takeback';
    const shards = 2;
    // Two subscribers, one in each shard.
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `tb-${x}`);
    const a = ids.find((id) => shardOf(id, shards) === 0)!;
    const b = ids.find((id) => shardOf(id, shards) === 1)!;
    await publishProfiles(client, [profile(a), profile(b)], { shards, prefix });
    await publishEvents(
      client,
      [1, 2, 3].flatMap((n) => [usage(`ta${n}`, a, 100), usage(`tb${n}`, b, 100)]),
      { shards, prefix },
    );
    const [k0, k1] = [shardKeys(prefix, 0), shardKeys(prefix, 1)];
    // What a run of w1 killed mid-batch leaves: shard 0's lease for a minute, one entry pending. Shard 1
    // is held by a live worker named 'w1:x', whose tokens also start with 'w1:'.
    const uuid = '00000000-0000-4000-8000-000000000000';
    await client.set(k0.lease, `w1:${uuid}`, 'PX', 60_000);
    await client.set(k1.lease, `w1:x:${uuid}`, 'PX', 60_000);
    for (const k of [k0, k1]) await client.xgroup('CREATE', k.events, 'spendcap', '0', 'MKSTREAM');
    await client.xreadgroup('GROUP', 'spendcap', 'w1', 'COUNT', 1, 'STREAMS', k0.events, '>');
    const start = (consumer: string) => {
      const worker = createWorker({
        client,
        policy,
        shards,
        group: 'spendcap',
        consumer,
        prefix,
        leaseMs: 60_000,
        pollMs: 5,
      });
      return { worker, running: worker.start() };
    };
    // Another name leaves both shards alone while their leases run.
    const other = start('w2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other.worker.stop();
    await other.running;
    expect(other.worker.stats().events).toBe(0);
    // w1 again: it takes shard 0 back without waiting, decides the pending entry and the rest.
    const w1 = start('w1');
    const began = Date.now();
    try {
      for (;;) {
        const [p0] = await progress(client, { shards, prefix });
        if (p0!.lag === 0 && p0!.pending === 0) break;
        expect(Date.now() - began, 'shard 0 should be taken back at once').toBeLessThan(20_000);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(w1.worker.stats().shards).toEqual([0]);
      expect(w1.worker.stats().claimed).toBe(1);
    } finally {
      await w1.worker.stop();
      await w1.running;
    }
    expect(w1.worker.stats().events).toBe(3);
    const state = JSON.parse((await client.hget(k0.state(a), 's'))!) as { seen: { ids: string[] } };
    expect(state.seen.ids).toEqual(['ta1', 'ta2', 'ta3']);
    // Shard 1 is still the live worker's, untouched.
    expect(await client.get(k1.lease)).toBe(`w1:x:${uuid}`);
    const [, p1] = await progress(client, { shards, prefix });
    expect(p1!.lag).toBe(3);
  });

  describe('the CLI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spendcap-cli-'));
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const file = (name: string, lines: unknown[]) => {
      const path = join(dir, name);
      writeFileSync(
        path,
        lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n',
      );
      return path;
    };

    it('spendcap publish stores the profiles and events, each in its shard, and says how many', async () => {
      const events = file('ok.ndjson', [usage('p1', 's1', 10), usage('p2', 's2', 10), usage('p3', 's1', 10)]);
      const profiles = file('profiles.ndjson', [profile('s1'), profile('s2')]);
      const r = cli(
        'publish',
        events,
        '--profiles',
        profiles,
        '--redis',
        redis.url,
        '--shards',
        '4',
        '--prefix',
        'cli',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as { profiles: number; events: number; perShard: number[] };
      expect(summary.profiles).toBe(2);
      expect(summary.events).toBe(3);
      expect(summary.perShard[shardOf('s1', 4)]).toBeGreaterThanOrEqual(2);
      expect(await client.xlen(shardKeys('cli', shardOf('s1', 4)).events)).toBe(
        summary.perShard[shardOf('s1', 4)],
      );
    });

    it('spendcap publish refuses a line that is not JSON, or an event without a subscriber, naming file:line, and writes nothing', async () => {
      const broken = file('broken.ndjson', [usage('b1', 's1', 10), '{"type": "usage",']);
      let r = cli('publish', broken, '--redis', redis.url, '--shards', '4', '--prefix', 'clibad');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/broken\.ndjson:2:\d+: invalid JSON/);
      const anonymous = file('anonymous.ndjson', [usage('b1', 's1', 10), { type: 'tick', id: 't1' }]);
      r = cli('publish', anonymous, '--redis', redis.url, '--shards', '4', '--prefix', 'clibad');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/anonymous\.ndjson:2: \$\[1\]\.subscriberId: expected the subscriber id/);
      expect(await client.keys('clibad:*')).toEqual([]);
    });

    it('spendcap worker --trim-input trims the input it has committed, and says how much in its stats', async () => {
      // One shard and enough entries for several of a stream's nodes (XTRIM ~ removes whole nodes).
      const events = Array.from({ length: 400 }, (_, i) => usage(`t${i}`, `s${i % 20}`, 10));
      const profiles = Array.from({ length: 20 }, (_, i) => profile(`s${i}`));
      await publishProfiles(client, profiles, { shards: 1, prefix: 'clitrim' });
      await publishEvents(client, events, { shards: 1, prefix: 'clitrim' });
      const key = shardKeys('clitrim', 0).events;
      expect(await client.xlen(key)).toBe(400);
      const child = spawn(
        process.execPath,
        [
          CLI,
          'worker',
          '--redis',
          redis.url,
          '--policy',
          policyFile,
          '--shards',
          '1',
          '--prefix',
          'clitrim',
        ].concat(['--consumer', 'ct', '--lease-ms', '300', '--every', '1', '--json', '--trim-input']),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (stderr += chunk));
      // 'close', not 'exit': the last stats line is read by then.
      const exited = new Promise((resolve) => child.on('close', resolve));
      try {
        await waitUntilDone(client, { shards: 1, prefix: 'clitrim', timeoutMs: 30_000 });
        for (let i = 0; i < 200 && (await client.xlen(key)) > 100; i++)
          await new Promise((r) => setTimeout(r, 50));
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      const left = await client.xlen(key);
      expect(left).toBeLessThanOrEqual(100);
      const stats = stderr
        .split('\n')
        .filter((l) => l.includes('"trimmed"'))
        .map((l) => JSON.parse(l) as { events: number; trimmed: number });
      expect(stats.at(-1)).toMatchObject({ events: 400, trimmed: 400 - left });
    });

    it('spendcap worker and publish say clearly when the server cannot be reached or the URL is not one', () => {
      let r = cli('worker', '--redis', 'localhost:6379', '--policy', policyFile, '--shards', '4');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--redis: expected a URL such as redis:\/\/127\.0\.0\.1:6379/);
      r = cli(
        'publish',
        file('one.ndjson', [usage('x', 's1', 1)]),
        '--redis',
        'redis://127.0.0.1:1',
        '--shards',
        '4',
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot connect to redis:\/\/127\.0\.0\.1:1/);
      r = cli('worker', '--redis', redis.url, '--policy', policyFile, '--shards', '0');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--shards must be a whole number of 1 or more/);
    });
  });
});
