// `spendcap worker` and `spendcap publish`: the Redis deployment from the command line.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Policy } from '../policy/types.js';
import { createWorker, publishEvents, publishProfiles, type WorkerStats } from '../redis/index.js';
import { InputFailure, readProfiles, readRecords } from './replay.js';

/** The ioredis client class, loaded only by the commands that need it. */
async function redisClass(): Promise<typeof Redis> {
  try {
    const module = (await import('ioredis')) as { Redis: typeof Redis };
    return module.Redis;
  } catch {
    throw new InputFailure(
      "the Redis commands need the 'ioredis' package: npm install ioredis (an optional peer dependency of spendcap)",
    );
  }
}

/** A connection, or a clear error when the server cannot be reached within a few seconds. */
async function connect(url: string): Promise<Redis> {
  if (!/^rediss?:\/\//.test(url))
    throw new InputFailure(`--redis: expected a URL such as redis://127.0.0.1:6379, found '${url}'`);
  const RedisClient = await redisClass();
  const client = new RedisClient(url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 5000 });
  client.on('error', () => undefined); // Reported by the commands that fail.
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new InputFailure(`cannot connect to ${url}: ${(error as Error).message}`);
  }
  return client;
}

export interface WorkerCommandOptions {
  readonly redis: string;
  readonly shards: number;
  readonly group: string;
  readonly consumer?: string;
  readonly prefix: string;
  readonly batch: number;
  readonly leaseMs: number;
  readonly trimInput?: boolean;
  readonly every: number;
  readonly json?: boolean;
}

const statsLine = (consumer: string, s: WorkerStats): string =>
  `worker ${consumer}: shards [${s.shards.join(',')}] events ${s.events} batches ${s.batches} actions ${s.actions} reports ${s.reports} conflicts ${s.conflicts} claimed ${s.claimed} leases lost ${s.leasesLost} errors ${s.errors}${s.trimmed > 0 ? ` trimmed ${s.trimmed}` : ''}`;

/**
 * Runs a worker until SIGTERM or SIGINT, then finishes its batch, gives up its shards and exits 0.
 * Progress goes to stderr every `every` seconds (JSON lines with --json), and each recovered error.
 */
export async function workerCommand(policy: Policy, options: WorkerCommandOptions): Promise<number> {
  const client = await connect(options.redis);
  const consumer = options.consumer ?? `${hostname()}-${process.pid}`;
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const worker = createWorker({
    client,
    policy,
    shards: options.shards,
    group: options.group,
    consumer,
    prefix: options.prefix,
    batchSize: options.batch,
    leaseMs: options.leaseMs,
    trimInput: options.trimInput === true,
    onError: (error) => {
      const message = error instanceof Error ? error.message : String(error);
      say(options.json ? JSON.stringify({ consumer, error: message }) : `worker ${consumer}: ${message}`);
    },
  });
  const report = (): void =>
    say(options.json ? JSON.stringify({ consumer, ...worker.stats() }) : statsLine(consumer, worker.stats()));
  const timer = setInterval(report, options.every * 1000);
  const stop = (): void => void worker.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  say(options.json ? JSON.stringify({ consumer, started: true }) : `worker ${consumer}: started`);
  try {
    await worker.start();
  } finally {
    clearInterval(timer);
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    report();
    client.disconnect();
  }
  return 0;
}

export interface PublishCommandOptions {
  readonly redis: string;
  readonly shards: number;
  readonly prefix: string;
  readonly profiles?: string;
  readonly json?: boolean;
}

/**
 * Publishes profiles (first) and events. A line that is not JSON, an event without a subscriber id or
 * an invalid profile stops it before anything of that file is written, naming where.
 */
export async function publishCommand(
  eventsFile: string | undefined,
  options: PublishCommandOptions,
): Promise<number> {
  if (eventsFile === undefined && options.profiles === undefined)
    throw new InputFailure('nothing to publish: give an events file, --profiles <file>, or both');
  const name = eventsFile === '-' ? 'stdin' : eventsFile;
  const records = eventsFile === undefined ? [] : readRecords(eventsFile);
  const bad = records.find((r) => r.error !== undefined);
  if (bad !== undefined) throw new InputFailure(`${bad.error!} (nothing was published)`);
  const profiles = options.profiles === undefined ? [] : readProfiles(options.profiles);
  const client = await connect(options.redis);
  try {
    const target = { shards: options.shards, prefix: options.prefix };
    let profileCount = 0;
    if (profiles.length > 0) {
      try {
        profileCount = (await publishProfiles(client, profiles, target)).published;
      } catch (error) {
        throw located(error, options.profiles!, null);
      }
    }
    let perShard: readonly number[] = [];
    let eventCount = 0;
    if (records.length > 0) {
      try {
        const result = await publishEvents(
          client,
          records.map((r) => r.value),
          target,
        );
        eventCount = result.published;
        perShard = result.perShard;
      } catch (error) {
        throw located(
          error,
          name!,
          records.map((r) => r.line),
        );
      }
    }
    const summary = { profiles: profileCount, events: eventCount, perShard };
    process.stdout.write(
      options.json
        ? `${JSON.stringify(summary)}\n`
        : `published ${profileCount} profile(s) and ${eventCount} event(s) over ${options.shards} shard(s): [${perShard.join(', ')}]\n`,
    );
    return 0;
  } finally {
    client.disconnect();
  }
}

/** An InputError of a publish, with each issue's file and line (records' `$[i]` is line `lines[i]`). */
function located(error: unknown, file: string, lines: readonly number[] | null): unknown {
  const issues = (error as { issues?: readonly { path: string; message: string }[] }).issues;
  if (issues === undefined) return error;
  const text = issues.slice(0, 10).map((i) => {
    const index = /^\$\[(\d+)\]/.exec(i.path);
    const line = index !== null && lines !== null ? `:${lines[Number(index[1])] ?? '?'}` : '';
    return `${file}${line}: ${i.path}: ${i.message}`;
  });
  if (issues.length > 10) text.push(`(${issues.length - 10} more)`);
  // Profiles are stored before the events are checked: "nothing" is of this file only.
  return new InputFailure(`nothing of ${file} was published:\n${text.join('\n')}`);
}
