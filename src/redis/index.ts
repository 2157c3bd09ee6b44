// spendcap/redis: spendcap workers on Redis Streams. Needs the `ioredis` package (an optional peer
// dependency of spendcap), so the core stays free of it.
export { shardOf, shardKeys, workersKey, MAX_SHARDS, type ShardKeys } from './keys.js';
export {
  publishEvents,
  publishProfiles,
  PublishError,
  type PublishOptions,
  type PublishResult,
} from './publish.js';
export { createWorker, type WorkerOptions, type WorkerStats, type SpendcapWorker } from './worker.js';
export {
  progress,
  readStreams,
  type ShardProgress,
  type StreamOptions,
  type StreamRecord,
} from './streams.js';
