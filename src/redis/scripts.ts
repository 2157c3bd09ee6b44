import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { encodeCommand, encodedSender, loadedSender, type Arg, type SendEncoded } from './encode.js';
import { keyPrefixOf } from './keys.js';

/** A Lua script run by its SHA1, loaded again when the server has lost it (after a restart). */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

/**
 * Runs a script: EVALSHA, and EVAL when the server does not know the script (a restarted server starts
 * with an empty script cache). Either way the script runs once: NOSCRIPT means it did not run. The
 * command is encoded at once, in one pass (see `encodedSender`), its keys under the client's
 * `keyPrefix` as ioredis would put them; the arguments are not kept until the reply.
 */
export function runScript(
  client: Redis,
  s: Script,
  keys: readonly string[],
  args: readonly Arg[],
): Promise<unknown> {
  const send = loadedSender();
  if (send === undefined) return encodedSender().then(() => runScript(client, s, keys, args));
  if (send === null) return runScriptPlain(client, s, keys, args);
  const prefix = keyPrefixOf(client);
  const k = prefix === '' ? keys : keys.map((key) => prefix + key);
  const bytes = encodeCommand('evalsha', [s.sha, k.length, ...k, ...args]);
  return sendScript(send, client, s, bytes, k.length + args.length + 2);
}

/** Sends a script's EVALSHA bytes; on NOSCRIPT, the same command as EVAL with the script's text. */
async function sendScript(
  send: SendEncoded,
  client: Redis,
  s: Script,
  bytes: Buffer,
  parts: number,
): Promise<unknown> {
  try {
    return await send(client, 'evalsha', bytes);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    // The same command with EVAL and the script's text in place of EVALSHA and its SHA1: what
    // encodeCommand wrote after those is kept as it is.
    const rest = bytes.subarray(`*${parts + 1}\r\n$7\r\nevalsha\r\n$40\r\n${s.sha}\r\n`.length);
    const head = `*${parts + 1}\r\n$4\r\neval\r\n$${Buffer.byteLength(s.lua)}\r\n${s.lua}\r\n`;
    return await send(client, 'eval', Buffer.concat([Buffer.from(head), rest]));
  }
}

/** `runScript` with ioredis's own commands. */
async function runScriptPlain(
  client: Redis,
  s: Script,
  keys: readonly string[],
  args: readonly Arg[],
): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT'))
      return await client.eval(s.lua, keys.length, ...keys, ...args);
    throw error;
  }
}

/**
 * Runs a script once for each of `calls`, pipelined in one round trip, and returns the replies in order;
 * when the server does not know the script, loads it and sends the calls it refused again (NOSCRIPT
 * means the call did not run). Any other error is thrown.
 */
export async function runScriptEach(
  client: Redis,
  s: Script,
  calls: readonly { keys: readonly string[]; args: readonly Arg[] }[],
): Promise<unknown[]> {
  const replies = new Array<unknown>(calls.length);
  let todo = calls.map((_, i) => i);
  for (let round = 0; todo.length > 0; round++) {
    if (round > 0) await client.script('LOAD', s.lua);
    const p = client.pipeline();
    for (const i of todo) p.evalsha(s.sha, calls[i]!.keys.length, ...calls[i]!.keys, ...calls[i]!.args);
    const results = (await p.exec()) ?? [];
    const again: number[] = [];
    todo.forEach((i, k) => {
      const [error, reply] = results[k] ?? [new Error('no reply'), null];
      if (error && error.message.startsWith('NOSCRIPT') && round === 0) again.push(i);
      else if (error) throw error;
      else replies[i] = reply;
    });
    todo = again;
  }
  return replies;
}

/** The fields of a report stream entry, in the order the commit script takes their values. */
export const REPORT_FIELDS = ['entry', 'eventId', 'subscriberId', 'outcome', 'issues'] as const;

/**
 * The commit of one batch of a shard, atomic: it checks that the caller still holds the shard's lease,
 * that no other consumer has entries of the shard pending, and that every state it read is at the
 * version it read, and only then writes the new states (each at its version + 1), acknowledges the
 * input entries, appends the actions and the reports, and extends the lease. Anything else writes
 * nothing.
 *
 * Reads are plain XREADGROUP, not fenced by the lease (a script around XREADGROUP cost Redis 2.6
 * times the read itself, 4.9 ms against 1.85 ms for 1,000 entries, to turn its reply into Lua tables
 * and back). So a worker that lost its lease without knowing may still move new entries into a pending
 * list: its consumer's, or, when it has the owner's consumer name (an earlier run of it, stalled), the
 * owner's own. The owner's next commit finds them ('stray'): another consumer's pending entries, or
 * more of its own than the batch it commits (checked unless the batch came from its pending list,
 * which it reads to the end in order anyway). It then writes nothing, and the owner takes them over
 * and reads its pending list again, in entry order, before anything after them is committed. A shard
 * with no new entries to commit is checked the same way when a read finds nothing (see the worker).
 *
 * KEYS: lease, events, actions, reports, then one state key per subscriber read.
 * ARGV: token, group, lease ms, #states, #acks, #actions, #reports, consumer, the consumer's pending
 * entries expected (the batch's; -1: not checked), then per state (version read, new JSON or '' when
 * unchanged), the entry ids, per action (id, subscriberId, eventId, kind, JSON), per report (entry,
 * eventId, subscriberId, outcome, issues JSON).
 * Returns {'ok'}, {'lost'} (another worker holds the lease), {'stray', consumer} (another consumer has
 * entries of the shard pending) or {'conflict', i...} (the 1-based states whose version moved).
 */
export const COMMIT = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end
local nStates, nAcks = tonumber(ARGV[4]), tonumber(ARGV[5])
local nActions, nReports = tonumber(ARGV[6]), tonumber(ARGV[7])
local pending = redis.call('XPENDING', KEYS[2], ARGV[2])[4]
local own = 0
if pending then
  for _, c in ipairs(pending) do
    if c[1] ~= ARGV[8] then return {'stray', c[1]} end
    own = tonumber(c[2])
  end
end
local expected = tonumber(ARGV[9])
if expected >= 0 and own ~= expected then return {'stray', ARGV[8]} end
local a = 10
local conflicts = {'conflict'}
for i = 1, nStates do
  local v = redis.call('HGET', KEYS[4 + i], 'v') or '0'
  if v ~= ARGV[a + 2 * (i - 1)] then conflicts[#conflicts + 1] = tostring(i) end
end
if #conflicts > 1 then return conflicts end
for i = 1, nStates do
  local s = ARGV[a + 2 * (i - 1) + 1]
  if s ~= '' then
    -- '%.0f': every integer up to 2^53 in full (tostring would write 1e+14).
    redis.call('HSET', KEYS[4 + i], 'v', string.format('%.0f', tonumber(ARGV[a + 2 * (i - 1)]) + 1), 's', s)
  end
end
a = a + 2 * nStates
local i = 0
while i < nAcks do
  local last = math.min(i + 500, nAcks)
  redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, a + i, a + last - 1))
  i = last
end
a = a + nAcks
for j = 0, nActions - 1 do
  local b = a + 5 * j
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[b], 'subscriberId', ARGV[b + 1], 'eventId', ARGV[b + 2],
    'kind', ARGV[b + 3], 'action', ARGV[b + 4])
end
a = a + 5 * nActions
for j = 0, nReports - 1 do
  local b = a + 5 * j
  redis.call('XADD', KEYS[4], '*', 'entry', ARGV[b], 'eventId', ARGV[b + 1], 'subscriberId', ARGV[b + 2],
    'outcome', ARGV[b + 3], 'issues', ARGV[b + 4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'ok'}
`);

/**
 * Takes over pending entries of the shard (KEYS[2]) for consumer ARGV[3] of group ARGV[2], from
 * cursor ARGV[4], ARGV[5] at a time, only while ARGV[1] holds the lease (KEYS[1]). Returns XAUTOCLAIM's
 * reply (cursor, ids, deleted ids), or 'lost'. Any idle time will do: the lease says the previous
 * owner is gone or has given the shard up, and its commits are refused.
 */
export const CLAIM = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
return redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[4], 'COUNT', ARGV[5], 'JUSTID')
`);

/**
 * Takes the lease (KEYS[1]) back from an earlier run of the same consumer: when it is held by a token
 * of the same length that starts with ARGV[2] (the consumer's name and ':'; tokens are the name, ':'
 * and a 36-letter UUID, so only that name's tokens match), ARGV[1] takes it for ARGV[3] ms. Names are
 * unique among live workers, so that earlier run is dead (a supervisor restarted it); if it is not (it
 * stalled), its commits and take-overs are refused by the lease, and entries it still reads into the
 * consumer's pending list are caught by the new run's commit (see COMMIT). Returns 1 when taken, else
 * 0.
 */
export const TAKE_BACK = script(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] and #v == #ARGV[1] and string.sub(v, 1, #ARGV[2]) == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return 1
end
return 0
`);

/**
 * Loads subscribers' stored states, and the profile of each that has none: KEYS are pairs (state key,
 * profile key). Returns, per pair, the state's version, its JSON and the profile's JSON (each nil when
 * missing; the profile is not read when there is a state). One call for a batch's loads, in place of
 * two commands a subscriber. A read: it needs no lease.
 */
export const LOAD = script(`
local out = {}
for i = 1, #KEYS, 2 do
  local vs = redis.call('HMGET', KEYS[i], 'v', 's')
  local profile = false
  if not vs[2] then profile = redis.call('GET', KEYS[i + 1]) end
  out[#out + 1] = vs[1]
  out[#out + 1] = vs[2]
  out[#out + 1] = profile
end
return out
`);

/** Extends the lease (KEYS[1]) when ARGV[1] holds it, for ARGV[2] ms. Returns 1, or 0 when lost. */
export const RENEW = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** Gives up the lease (KEYS[1]) when ARGV[1] holds it. */
export const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * A worker's heartbeat in the registry (KEYS[1]): forgets workers whose heartbeat ran out, renews
 * ARGV[1]'s for ARGV[2] ms (ARGV[2] = 0 removes it), and returns how many are live. Time is the
 * server's, so workers on hosts with skewed clocks agree.
 */
export const HEARTBEAT = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if tonumber(ARGV[2]) > 0 then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return redis.call('ZCARD', KEYS[1])
`);

/**
 * Trims the input stream (KEYS[2]) of entries every consumer group on it is done with, while ARGV[1]
 * holds the shard's lease (KEYS[1]). A group is done with an entry it has read and acknowledged: each
 * keeps the older of its oldest pending entry and its last delivered one, and everything after (so
 * nothing it has not read yet); the stream is trimmed to the oldest of those (`XTRIM MINID ~`: whole
 * nodes of entries only, so the last node of done entries stays, and at most 10,000 entries a call,
 * Redis's default LIMIT for `~`, so that a long backlog never blocks the server for long). A stream
 * without a group, or deleted (the worker makes it again with its group), is left alone. Returns the
 * number of entries removed, or -1 without the lease.
 */
export const TRIM = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
-- Entry ids compared as the two decimal numbers they are, of any length.
local function less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function before(x, y)
  local i, j = string.find(x, '-', 1, true), string.find(y, '-', 1, true)
  local xm, ym = string.sub(x, 1, i - 1), string.sub(y, 1, j - 1)
  if xm ~= ym then return less(xm, ym) end
  return less(string.sub(x, i + 1), string.sub(y, j + 1))
end
local keep = false
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
  local f = {}
  for k = 1, #g, 2 do f[g[k]] = g[k + 1] end
  -- Its last delivered entry, or its oldest pending one when that is older; a pending entry may also
  -- be newer (after XGROUP SETID back, or XCLAIM ... FORCE), with undelivered entries before it.
  local first = f['last-delivered-id']
  if tonumber(f['pending']) > 0 then
    local oldest = redis.call('XPENDING', KEYS[2], f['name'])[2]
    if before(oldest, first) then first = oldest end
  end
  if not keep or before(first, keep) then keep = first end
end
if not keep or keep == '0-0' then return 0 end
return redis.call('XTRIM', KEYS[2], 'MINID', '~', keep)
`);
