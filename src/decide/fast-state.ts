import { STATE_VERSION, type SubscriberState } from '../schema/state.js';
import { fastProfile, isPlain, pristine, type Input } from './fast-event.js';

/**
 * A fast acceptance test for a stored state, run before zod, for a worker that reads thousands of
 * states at once when it takes a shard over (`SubscriberStateSchema` takes 30-80 µs a state, this a few).
 *
 * It answers "certainly valid, as it is" (true: the state is of the current version, made under
 * `policyId`, and of the schema's exact shape, so the schema would give back the same value) or "not
 * sure" (false: then the schema decides, with its reasons). So it only ever accepts a subset of what
 * `checkState` accepts; a property test holds it to that (`test/decide/fast-state.test.ts`). It is
 * narrower than the schema where being exact would cost time: plain objects and arrays only, no key
 * holding `undefined`, no `__proto__` key anywhere, integers within `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * fastState(JSON.parse(stored), policy.id); // true: it may be decided on as it is
 */
export function fastState(value: unknown, policyId: string): value is SubscriberState {
  if (!pristine() || !shape(value, STATE_KEYS)) return false;
  const s = value;
  if (s['version'] !== STATE_VERSION) return false;
  const policy = s['policy'];
  if (!shape(policy, POLICY_KEYS) || policy['id'] !== policyId || !isString(policy['version'])) return false;
  if (fastProfile(s['profile']) === null) return false;
  if (s['clock'] !== null && !isInt(s['clock'])) return false;
  const location = s['location'];
  if (
    !shape(location, LOCATION_KEYS) ||
    !isString(location['country']) ||
    !isString(location['zone']) ||
    (location['at'] !== null && !isInt(location['at']))
  )
    return false;
  return (
    record(s['caps'], isCap) &&
    record(s['overrides'], isOverrides) &&
    record(s['disputes'], isDispute) &&
    list(s['restrictions'], isRestriction) &&
    record(s['notices'], isString) &&
    isSeen(s['seen'])
  );
}

/** An object's keys: those it must have, and those it may have. */
interface Keys {
  readonly required: ReadonlySet<string>;
  readonly optional: ReadonlySet<string>;
}
const keys = (required: readonly string[], optional: readonly string[] = []): Keys => ({
  required: new Set(required),
  optional: new Set(optional),
});

const STATE_KEYS = keys([
  'version',
  'policy',
  'profile',
  'clock',
  'location',
  'caps',
  'overrides',
  'disputes',
  'restrictions',
  'notices',
  'seen',
]);
const POLICY_KEYS = keys(['id', 'version']);
const LOCATION_KEYS = keys(['country', 'zone', 'at']);
const CAP_KEYS = keys(['cur', 'prev']);
const TOTALS_KEYS = keys(['key', 'start', 'end', 'charged', 'credited', 'disputed', 'paid']);
const OVERRIDES_KEYS = keys([], ['customer', 'agent']);
const OVERRIDE_KEYS = keys(['until', 'reason', 'eventId'], ['agentId']);
const DISPUTE_KEYS = keys(['amount', 'status', 'openedAt', 'targets']);
const RESTRICTION_KEYS = keys(['capId', 'ruleId', 'kind', 'scope', 'since', 'actionId'], ['kbps']);
const PAIR_KEYS = keys(['service', 'zone']);
const SEEN_KEYS = keys(['ids', 'at']);
const DISPUTE_STATUSES: ReadonlySet<unknown> = new Set(['open', 'upheld', 'rejected']);
const RESTRICTION_KINDS: ReadonlySet<unknown> = new Set(['block', 'throttle']);

const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * Whether `v` is a plain object with every required key, no other key but the optional ones, and no
 * key holding `undefined` (which the schema would drop). `for...in` yields own keys only while
 * `Object.prototype` is pristine, which `fastState` checks first.
 */
function shape(v: unknown, k: Keys): v is Input {
  if (!isPlain(v)) return false;
  let required = 0;
  for (const key in v) {
    if (v[key] === undefined) return false;
    if (k.required.has(key)) required++;
    else if (!k.optional.has(key)) return false;
  }
  return required === k.required.size;
}

/** Whether `v` is a plain object whose every value passes `test`, with no `__proto__` key. */
function record(v: unknown, test: (value: unknown) => boolean): boolean {
  if (!isPlain(v)) return false;
  for (const key in v) if (key === '__proto__' || !test(v[key])) return false;
  return true;
}

/** Whether `v` is a plain array (no holes) whose every element passes `test`. */
function list(v: unknown, test: (value: unknown) => boolean): v is unknown[] {
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return false;
  for (let i = 0; i < v.length; i++) if (!(i in v) || !test(v[i])) return false;
  return true;
}

function isTotals(v: unknown): boolean {
  return (
    shape(v, TOTALS_KEYS) &&
    isString(v['key']) &&
    isInt(v['start']) &&
    isInt(v['end']) &&
    typeof v['charged'] === 'number' &&
    Number.isFinite(v['charged']) &&
    isInt(v['credited']) &&
    isInt(v['disputed']) &&
    isInt(v['paid'])
  );
}

const isCap = (v: unknown): boolean =>
  shape(v, CAP_KEYS) &&
  (v['cur'] === null || isTotals(v['cur'])) &&
  (v['prev'] === null || isTotals(v['prev']));

const isOverride = (v: unknown): boolean =>
  shape(v, OVERRIDE_KEYS) &&
  isInt(v['until']) &&
  isString(v['reason']) &&
  isString(v['eventId']) &&
  (v['agentId'] === undefined || isString(v['agentId']));

const isOverrides = (v: unknown): boolean =>
  shape(v, OVERRIDES_KEYS) &&
  (v['customer'] === undefined || isOverride(v['customer'])) &&
  (v['agent'] === undefined || isOverride(v['agent']));

const isDispute = (v: unknown): boolean =>
  shape(v, DISPUTE_KEYS) &&
  isInt(v['amount']) &&
  DISPUTE_STATUSES.has(v['status']) &&
  isInt(v['openedAt']) &&
  record(v['targets'], isString);

const isPair = (v: unknown): boolean => shape(v, PAIR_KEYS) && isString(v['service']) && isString(v['zone']);

const isRestriction = (v: unknown): boolean =>
  shape(v, RESTRICTION_KEYS) &&
  isString(v['capId']) &&
  isString(v['ruleId']) &&
  RESTRICTION_KINDS.has(v['kind']) &&
  list(v['scope'], isPair) &&
  (v['kbps'] === undefined || isInt(v['kbps'])) &&
  isInt(v['since']) &&
  isString(v['actionId']);

/** The applied ids and their times: two lists of one length, and no id twice. */
function isSeen(v: unknown): boolean {
  if (!shape(v, SEEN_KEYS) || !list(v['ids'], isString) || !list(v['at'], isInt)) return false;
  const ids = v['ids'] as string[];
  if (ids.length !== (v['at'] as unknown[]).length) return false;
  return new Set(ids).size === ids.length;
}
