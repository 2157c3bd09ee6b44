// A real redis-server and real worker processes, for the cluster tests (test/redis/) and for
// `npm run bench:cluster`. Nothing here is part of the package.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { progress, readStreams, shardKeys } from '../dist/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli.js');

/** Whether redis-server can be started here. */
export function haveRedisServer() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The CPU time (user + system, seconds) a live process has used so far, from /proc; null elsewhere. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name; in clock
    // ticks, 100 a second on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A free loopback port (asked of the OS, then closed). */
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts redis-server on a free loopback port in a new temporary directory, with the append-only file
 * fsynced on every write (`appendfsync always`) and no snapshots. `restart()` kills it (SIGKILL: a
 * crash, not a clean shutdown) and starts it again on the same port and directory; `stop()` ends it and
 * removes the directory.
 *
 * `aofRewriteMinSize`: Redis's `auto-aof-rewrite-min-size` (its default, 64mb, unless given). The
 * benchmark raises it: a server started empty would otherwise rewrite its append-only file (a forked
 * process serialising the whole dataset, on the same two cores) twice in a four-second run, where a
 * server whose base file already holds the dataset rewrites rarely.
 *
 * @param {{ aofRewriteMinSize?: string }} [options]
 */
export async function startRedis({ aofRewriteMinSize } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'spendcap-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child = null;
  const launch = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--logfile',
        join(dir, 'redis.log'),
        ...(aofRewriteMinSize === undefined ? [] : ['--auto-aof-rewrite-min-size', aofRewriteMinSize]),
      ],
      { stdio: 'ignore' },
    );
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    for (let i = 0; ; i++) {
      try {
        await probe.connect();
        // PING answers while the AOF is still loading (LOADING errors): wait for a real reply.
        await probe.dbsize();
        probe.disconnect();
        return;
      } catch (error) {
        probe.disconnect();
        if (i > 200) throw new Error(`redis-server did not start on port ${port}: ${error.message}`);
        await sleep(25);
      }
    }
  };
  const kill = async (signal) => {
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  await launch();
  return {
    port,
    url,
    dir,
    pid: () => child?.pid,
    async restart() {
      await kill('SIGKILL');
      await launch();
    },
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `spendcap worker` as its own process. Its stderr is JSON lines (`--json`): `stats()` is the
 * last statistics line it printed (the final one after SIGTERM).
 */
export function spawnWorker({
  url,
  policyFile,
  shards,
  consumer,
  leaseMs = 1000,
  batch = 1000,
  every = 1,
  nodeArgs = (process.env.SPENDCAP_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
}) {
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      CLI,
      'worker',
      '--redis',
      url,
      '--policy',
      policyFile,
      '--shards',
      String(shards),
      '--consumer',
      consumer,
      '--lease-ms',
      String(leaseMs),
      '--batch',
      String(batch),
      '--every',
      String(every),
      '--json',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const lines = [];
  let rest = '';
  // When the worker said it started (connected, policy loaded, about to take shards), in this
  // process's performance.now(); null until then.
  let upAt = null;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop();
    for (const line of parts) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (upAt === null && line.includes('"started":true')) upAt = performance.now();
    }
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    consumer,
    child,
    lines,
    exited,
    /** When the worker said it started (performance.now() of this process), or null. */
    upAt: () => upAt,
    kill(signal = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
    stats() {
      for (let i = lines.length - 1; i >= 0; i--) {
        try {
          const value = JSON.parse(lines[i]);
          if (typeof value.events === 'number') return value;
        } catch {
          // Not a JSON line: a crash report, kept in `lines`.
        }
      }
      return null;
    },
    errors() {
      return lines.filter((l) => l.includes('"error"'));
    },
  };
}

/** How many input entries are committed (acknowledged), summed over the shards. */
export async function committed(client, shards, prefix = 'spendcap') {
  const p = await progress(client, { shards, prefix });
  let total = 0;
  for (const s of p) total += s.lag === null ? NaN : s.length - s.lag - s.pending;
  return {
    committed: Number.isNaN(total) ? -1 : total,
    done: p.every((s) => s.lag === 0 && s.pending === 0),
  };
}

/**
 * Waits until every shard's entries are committed; `onTick(committed)` is called on every poll
 * (committed is -1 while it cannot be told, as after a restart of the server).
 *
 * @param {import('ioredis').Redis} client
 * @param {{ shards: number, prefix?: string, timeoutMs?: number, pollMs?: number, onTick?: (committed: number) => unknown }} options
 */
export async function waitUntilDone(
  client,
  { shards, prefix = 'spendcap', timeoutMs = 300_000, pollMs = 20, onTick },
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let state;
    try {
      state = await committed(client, shards, prefix);
    } catch {
      // The server is restarting: ask again.
      state = { committed: -1, done: false };
    }
    if (state.done) return;
    if (onTick !== undefined) await onTick(state.committed);
    if (Date.now() > until) throw new Error(`not every entry was committed within ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/** Pending entries of one consumer, summed over the shards. */
export async function pendingOf(client, shards, consumer, group = 'spendcap') {
  let total = 0;
  for (let shard = 0; shard < shards; shard++) {
    const reply = await client.xpending(shardKeys('spendcap', shard).events, group);
    for (const [name, count] of reply[3] ?? []) if (name === consumer) total += Number(count);
  }
  return total;
}

/** Everything the workers wrote: the action ids in the output streams, the states, the reports. */
export async function collect(client, shards, subscriberIds, shardOf) {
  const actionIds = [];
  for await (const r of readStreams(client, 'actions', { shards })) actionIds.push(r.fields.id);
  let reports = 0;
  for await (const _ of readStreams(client, 'reports', { shards })) reports++;
  const states = new Map();
  const ids = [...subscriberIds];
  for (let from = 0; from < ids.length; from += 1000) {
    const p = client.pipeline();
    const part = ids.slice(from, from + 1000);
    for (const id of part) p.hget(shardKeys('spendcap', shardOf(id, shards)).state(id), 's');
    const replies = await p.exec();
    part.forEach((id, i) => states.set(id, replies[i][1]));
  }
  return { actionIds, reports, states };
}

/**
 * Compares what the workers wrote with a single in-process `engine.run` over the same events: `lost`
 * (action ids the run produced and the output lacks), `duplicated` (output entries beyond the first of
 * an id), `unexpected` (ids the run never produced), `statesDiffering` (subscribers whose stored state
 * is not the run's final state) and the report counts.
 */
export function compare(reference, written) {
  const expected = new Map();
  for (const d of reference.decisions)
    for (const a of d.actions) expected.set(a.id, (expected.get(a.id) ?? 0) + 1);
  const seen = new Map();
  for (const id of written.actionIds) seen.set(id, (seen.get(id) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const [id, n] of expected) lost += Math.max(0, n - (seen.get(id) ?? 0));
  for (const [id, n] of seen) {
    const want = expected.get(id) ?? 0;
    if (want === 0) unexpected += n;
    else duplicated += Math.max(0, n - want);
  }
  let statesDiffering = 0;
  const firstDifferent = [];
  for (const [id, state] of Object.entries(reference.states)) {
    const stored = written.states.get(id);
    // Equal as JSON values (key order aside: a resumed state may list some keys in another order).
    const same =
      typeof stored === 'string' && isDeepStrictEqual(JSON.parse(stored), JSON.parse(JSON.stringify(state)));
    if (!same) {
      statesDiffering++;
      if (firstDifferent.length < 3) firstDifferent.push(id);
    }
  }
  const expectedReports = reference.decisions.filter(
    (d) => d.outcome !== 'applied' || (d.issues !== undefined && d.issues.length > 0),
  ).length;
  return {
    expectedActions: [...expected.values()].reduce((a, b) => a + b, 0),
    writtenActions: written.actionIds.length,
    lost,
    duplicated,
    unexpected,
    statesDiffering,
    firstDifferent,
    expectedReports,
    writtenReports: written.reports,
  };
}
