import fc from 'fast-check';
import { createEngine, type EngineOptions, type SpendcapEngine } from '../engine.js';
import { loadPolicy } from '../policy/check.js';
import type { Policy } from '../policy/types.js';
import type { Condition, PolicyDocument, Rule } from '../schema/policy.js';
import type { SubscriberState } from '../schema/state.js';
import { FACT_NAMES } from '../schema/facts.js';
import { domainOf } from './domain.js';
import { interleave, planArb, buildStream, type Stream, type StreamOptions } from './events.js';
import {
  capPairs,
  describeStep,
  holds,
  isRestricting,
  pairKey,
  processStream,
  ratioThreshold,
  restrictionActions,
  ruleOf,
  rulePairs,
  windowKeyAt,
  zoneOf,
} from './harness.js';

/** The invariants of SPEC section 8, by name. */
export const INVARIANTS = [
  'scoped',
  'home-is-safe',
  'warn-first',
  'payment-lifts',
  'no-repeats',
  'conservation',
  'replay',
  'subscriber-order',
  'bad-input',
  'never-silent',
] as const;

export type InvariantName = (typeof INVARIANTS)[number];

/**
 * Checked unless named otherwise: `home-is-safe` and `warn-first` are promises a policy makes (the
 * shipped ones do; the legacy example does not), so they are checked only when asked for.
 */
export const DEFAULT_INVARIANTS: readonly InvariantName[] = INVARIANTS.filter(
  (n) => n !== 'home-is-safe' && n !== 'warn-first',
);

export interface CheckInvariantsOptions {
  /** Which to check (default `DEFAULT_INVARIANTS`). */
  readonly invariants?: readonly InvariantName[];
  /** Generated streams per invariant (default 100). */
  readonly numRuns?: number;
  /** fast-check's seed (default: fast-check's global setting, else random); printed on failure. */
  readonly seed?: number | undefined;
  /** Shapes the streams: subscribers, events per stream, step weights (see `StreamOptions`). */
  readonly stream?: StreamOptions;
  /** The engine under test (default: the default engine). */
  readonly engine?: EngineOptions;
}

export interface InvariantResult {
  readonly name: InvariantName;
  readonly runs: number;
  /** How often the property had something to check (restrictions, payments, notices, ...). */
  readonly observed: number;
}

export interface InvariantReport {
  readonly policy: string;
  readonly results: readonly InvariantResult[];
}

/** Thrown by a property when an invariant does not hold; fast-check adds the counterexample and seed. */
export class InvariantViolation extends Error {
  readonly invariant: InvariantName;
  constructor(invariant: InvariantName, message: string, cause?: unknown) {
    super(`invariant '${invariant}': ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'InvariantViolation';
    this.invariant = invariant;
  }
}

type Check = (engine: SpendcapEngine, doc: PolicyDocument, stream: Stream, extra: number) => Promise<number>;

/** JSON with every object's keys sorted: equal for values that are equal as data, whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)),
        )
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

function fail(name: InvariantName, message: string): never {
  throw new InvariantViolation(name, message);
}

const scoped: Check = async (engine, doc, stream) => {
  let n = 0;
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    for (const action of restrictionActions(step.decision.actions)) {
      if (action.kind === 'unblock') continue;
      n++;
      const rule = ruleOf(doc, action.ruleId);
      if (rule.cap !== action.capId)
        fail('scoped', `${action.kind} names cap ${action.capId} in ${describeStep(step)}`);
      const inCap = capPairs(doc, action.capId!);
      const outside = action.scope.map(pairKey).filter((p) => !inCap.has(p));
      if (outside.length > 0)
        fail('scoped', `${action.kind} outside its cap: ${outside.join(', ')} in ${describeStep(step)}`);
      const expected = [...rulePairs(doc, rule)].sort();
      if (!same(action.scope.map(pairKey), expected))
        fail(
          'scoped',
          `${action.kind} scope ${action.scope.map(pairKey)} is not the rule's ${expected} in ${describeStep(step)}`,
        );
    }
  }
  return n;
};

const neverSilent: Check = async (engine, _doc, stream) => {
  let n = 0;
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    const { actions } = step.decision;
    for (const action of restrictionActions(actions)) {
      n++;
      const told = actions.some(
        (a) =>
          a.kind === 'notify' &&
          a.subscriberId === action.subscriberId &&
          same(a.scope, action.scope) &&
          a.message.trim().length > 0,
      );
      if (!told)
        fail(
          'never-silent',
          `${action.kind} ${JSON.stringify(action.scope)} without a notify about it in ${describeStep(step)}`,
        );
    }
  }
  return n;
};

const badInput: Check = async (engine, _doc, stream) => {
  let n = 0;
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    if (step.label.kind !== 'invalid') continue;
    n++;
    const d = step.decision;
    const where = `${describeStep(step)} (${step.label.defect})`;
    if (d.outcome !== 'rejected') fail('bad-input', `came back ${d.outcome}: ${where}`);
    if (d.actions.length > 0) fail('bad-input', `a rejected event acted: ${where}`);
    if (
      (d.issues ?? []).length === 0 ||
      d.issues!.some((i) => !i.path.startsWith('$') && !i.path.startsWith('profile'))
    )
      fail('bad-input', `no issue with a path: ${where}`);
    if (!same(d.state, step.before)) fail('bad-input', `the state changed: ${where}`);
  }
  return n;
};

const paymentLifts: Check = async (engine, doc, stream) => {
  let n = 0;
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    const d = step.decision;
    if (d.outcome !== 'applied' || (step.event as { type?: unknown }).type !== 'payment') continue;
    const explained = step.before.restrictions.length > 0 ? engine.explain(d.state) : undefined;
    for (const r of step.before.restrictions) {
      const rule = doc.rules.find((x) => x.name === r.ruleId);
      const cost = (doc.caps.find((c) => c.id === r.capId)?.measure ?? 'cost') === 'cost';
      const threshold = rule === undefined || !cost ? undefined : ratioThreshold(rule);
      const ratio = explained?.caps[r.capId]?.['usageRatio'];
      if (threshold === undefined || typeof ratio !== 'number' || ratio >= threshold) continue;
      n++;
      const where = describeStep(step);
      if (d.state.restrictions.some((x) => x.capId === r.capId && x.ruleId === r.ruleId))
        fail(
          'payment-lifts',
          `usageRatio fell to ${ratio} under ${r.ruleId}'s ${threshold}, and it is still in force after ${where}`,
        );
      // Every pair no other restriction of the same kind still holds is unblocked in this decision.
      const held = new Set(
        d.state.restrictions.filter((x) => x.kind === r.kind).flatMap((x) => x.scope.map(pairKey)),
      );
      const unblocked = new Set(
        d.actions.flatMap((a) => (a.kind === 'unblock' && a.lifts === r.kind ? a.scope.map(pairKey) : [])),
      );
      const missing = r.scope.map(pairKey).filter((p) => !held.has(p) && !unblocked.has(p));
      if (missing.length > 0)
        fail(
          'payment-lifts',
          `usageRatio fell to ${ratio} under ${r.ruleId}'s ${threshold} with no unblock of ${missing.join(', ')} in ${where}`,
        );
    }
  }
  return n;
};

const NOTICE_KINDS = new Set(['notify', 'offerPayment', 'careNote']);

const noRepeats: Check = async (engine, doc, stream) => {
  let n = 0;
  const notices = doc.rules.filter((r) => NOTICE_KINDS.has(r.event.type));
  const { steps } = await processStream(engine, stream);
  const armed = new Map<string, string>();
  for (const step of steps) {
    const d = step.decision;
    if (d.outcome !== 'applied') continue;
    const state = d.state;
    const explained = engine.explain(state);
    const subscriberFacts = {
      zone: state.location.zone,
      roaming: state.location.zone !== 'home',
      previousZone: step.before.location.zone,
      zoneChanged: state.location.zone !== step.before.location.zone,
    };
    for (const rule of notices) {
      // Only rules whose facts this check can know (the cap's facts and where the subscriber is).
      if (!readsOnly(rule, KNOWN_FACTS)) continue;
      const capId = rule.cap ?? null;
      const facts = { ...(capId === null ? {} : explained.caps[capId]), ...subscriberFacts };
      const window =
        capId === null ? windowKeyAt('cycle', state.clock!, step.profile) : state.caps[capId]!.cur!.key;
      const firings = d.actions.filter(
        (a) => a.ruleId === rule.name && a.capId === capId && a.kind === rule.event.type,
      );
      const key = `${step.host}|${capId}|${rule.name}`;
      if (firings.length > 1)
        fail('no-repeats', `${rule.name} fired ${firings.length} times in ${describeStep(step)}`);
      if (!holds(rule.conditions, facts)) {
        armed.delete(key);
        continue;
      }
      if (firings.length > 0) {
        n++;
        if (armed.get(key) === window)
          fail(
            'no-repeats',
            `${rule.name} fired again in window ${window} without having stopped matching: ${describeStep(step)}`,
          );
      }
      armed.set(key, window);
    }
  }
  return n;
};

/** The facts `no-repeats` can know from `explain` and the states: all but those of the event itself. */
const KNOWN_FACTS: ReadonlySet<string> = new Set(
  FACT_NAMES.filter((f) => f !== 'eventType' && f !== 'eventService' && f !== 'eventZone' && f !== 'country'),
);

function readsOnly(rule: Rule, facts: ReadonlySet<string>): boolean {
  const walk = (c: Condition): boolean =>
    'all' in c
      ? c.all.every(walk)
      : 'any' in c
        ? c.any.every(walk)
        : 'not' in c
          ? walk(c.not)
          : facts.has(c.fact);
  return walk(rule.conditions);
}

const conservation: Check = async (engine, doc, stream) => {
  let n = 0;
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    const d = step.decision;
    const e = step.event as Record<string, unknown>;
    if (
      (d.outcome !== 'applied' && d.outcome !== 'late') ||
      (e['type'] !== 'usage' && e['type'] !== 'payment')
    )
      continue;
    const at = Date.parse(e['at'] as string);
    for (const cap of doc.caps) {
      const measure = cap.measure ?? 'cost';
      const slot = d.state.caps[cap.id];
      if (slot?.cur == null) continue;
      // The window the event lands in: the current one, or the previous one for a record from before it.
      const landing =
        at >= slot.cur.start ? slot.cur : slot.prev !== null && at >= slot.prev.start ? slot.prev : null;
      // Older than the cap keeps (a day cap): not counted there, and the decision says so.
      if (landing === null) continue;
      const beforeSlot = step.before.caps[cap.id];
      const before = [beforeSlot?.cur, beforeSlot?.prev].find((t) => t != null && t.key === landing.key);
      let delta = 0;
      let field: 'charged' | 'paid' = 'charged';
      if (e['type'] === 'usage') {
        const zone = zoneOf(doc, e['country'] as string, step.profile.homeCountry);
        if (!capPairs(doc, cap.id).has(`${e['service'] as string}@${zone}`)) continue;
        if (measure === 'cost') delta = (e['cost'] as { amount: number }).amount;
        else if (e['unit'] === cap.unit && typeof e['quantity'] === 'number') delta = e['quantity'];
      } else {
        if (measure !== 'cost') continue;
        field = 'paid';
        delta = e['amount'] as number;
      }
      n++;
      const was = before == null ? 0 : before[field];
      if (!Number.isSafeInteger(landing[field]) && measure === 'cost')
        fail(
          'conservation',
          `cap ${cap.id} ${field} is ${landing[field]}, not an integer, after ${describeStep(step)}`,
        );
      if (landing[field] - was !== delta)
        fail(
          'conservation',
          `cap ${cap.id} ${field} of window ${landing.key} moved by ${landing[field] - was}, not ${delta}, in ${describeStep(step)}`,
        );
    }
  }
  return n;
};

const replay: Check = async (engine, _doc, stream, split) => {
  const k = stream.events.length === 0 ? 0 : split % (stream.events.length + 1);
  const whole = await engine.run(stream.events, stream.profiles);
  const first = await engine.run(stream.events.slice(0, k), stream.profiles);
  const stored = JSON.parse(JSON.stringify(first.states)) as Record<string, SubscriberState>;
  const rest = await engine.run(stream.events.slice(k), stream.profiles, stored);
  const actions = [...first.decisions, ...rest.decisions].map((x) => x.actions);
  if (
    !same(
      actions,
      whole.decisions.map((x) => x.actions),
    )
  )
    fail('replay', `split at event ${k} of ${stream.events.length} through JSON changed the actions`);
  const states = (s: Readonly<Record<string, SubscriberState>>) =>
    Object.fromEntries(Object.entries(s).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (!same(states(rest.states), states(whole.states)))
    fail('replay', `split at event ${k} changed the final states`);
  // Duplicates change nothing: the whole stream again, on its own final states, applies nothing new.
  const again = await engine.run(stream.events, stream.profiles, whole.states);
  const acted = again.decisions.findIndex((x) => x.actions.length > 0 || x.outcome === 'applied');
  if (acted >= 0)
    fail(
      'replay',
      `event ${acted} replayed came back ${again.decisions[acted]!.outcome} with ${again.decisions[acted]!.actions.length} action(s)`,
    );
  return stream.events.length;
};

const subscriberOrder: Check = async (engine, _doc, stream, seed) => {
  const picks: number[] = [];
  let x = seed >>> 0;
  for (let i = 0; i < stream.events.length; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    picks.push(x >>> 8);
  }
  const other = interleave(stream, picks);
  const a = await engine.run(stream.events, stream.profiles);
  const b = await engine.run(other.events, other.profiles);
  const per = (events: readonly unknown[], decisions: readonly { actions: readonly unknown[] }[]) => {
    const out = new Map<string, unknown[]>();
    decisions.forEach((d, i) => {
      const id = String((events[i] as { subscriberId?: unknown } | null)?.subscriberId ?? '?');
      out.set(id, [...(out.get(id) ?? []), d.actions]);
    });
    return JSON.stringify([...out].sort(([p], [q]) => (p < q ? -1 : 1)));
  };
  if (per(stream.events, a.decisions) !== per(other.events, b.decisions))
    fail('subscriber-order', 'another interleaving of the subscribers changed their actions');
  return stream.profiles.length;
};

const homeIsSafe: Check = async (engine, doc, stream) => {
  let n = 0;
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    for (const action of step.decision.actions) {
      if (action.kind !== 'block' && action.kind !== 'throttle') continue;
      if (!action.scope.some((p) => p.zone === 'home')) continue;
      n++;
      // A cap that counts only spend at home may restrict home; one that counts spend elsewhere may not.
      const abroad = [...capPairs(doc, action.capId!)].filter((p) => !p.endsWith('@home'));
      if (abroad.length > 0)
        fail(
          'home-is-safe',
          `${action.kind} of ${action.ruleId} restricts a home scope, and its cap ${action.capId} counts spend outside home (${abroad.join(', ')}): ${describeStep(step)}`,
        );
    }
  }
  return n;
};

/**
 * The kit's streams: one to three subscribers with 20-60 events each stream, a little more usage than
 * the repository's own tests draw, so that caps are reached and paid off within a stream.
 */
const KIT_STREAM: StreamOptions = {
  subscribers: { max: 3 },
  minEvents: 20,
  weights: { usage: 45, payment: 9 },
};

/** The smallest gap (minor units) between a cap's first notify threshold and its first block threshold. */
function warningGap(doc: PolicyDocument): number {
  let gap = Infinity;
  for (const cap of doc.caps) {
    const rules = doc.rules.filter((r) => r.cap === cap.id);
    const warn = Math.min(
      ...rules.filter((r) => r.event.type === 'notify').map((r) => ratioThreshold(r) ?? Infinity),
    );
    const block = Math.min(...rules.filter(isRestricting).map((r) => ratioThreshold(r) ?? Infinity));
    if (Number.isFinite(warn) && Number.isFinite(block))
      gap = Math.min(gap, Math.round((block - warn) * cap.limit));
  }
  return gap;
}

const warnFirst: Check = async (engine, doc, stream) => {
  let n = 0;
  const { steps } = await processStream(engine, stream);
  const warned = new Set<string>();
  for (const step of steps) {
    for (const action of step.decision.actions) {
      if (action.capId === null) continue;
      const window = step.decision.state.caps[action.capId]?.cur?.key ?? '';
      const key = `${step.host}|${action.capId}|${window}`;
      // A warning, not the notice that goes with a restriction change (which names its scope).
      if (action.kind === 'notify' && action.scope === undefined) warned.add(key);
      if (action.kind === 'block') {
        n++;
        if (!warned.has(key))
          fail(
            'warn-first',
            `${action.ruleId} blocked before any warning of cap ${action.capId} in window ${window}: ${describeStep(step)}`,
          );
      }
    }
  }
  void doc;
  return n;
};

const CHECKS: Readonly<Record<InvariantName, Check>> = {
  scoped,
  'home-is-safe': homeIsSafe,
  'warn-first': warnFirst,
  'payment-lifts': paymentLifts,
  'no-repeats': noRepeats,
  conservation,
  replay,
  'subscriber-order': subscriberOrder,
  'bad-input': badInput,
  'never-silent': neverSilent,
};

/**
 * Runs SPEC section 8's invariants against a policy on generated event streams shaped by it (trips
 * through its zones, usage near its caps' thresholds, payments, adjustments, disputes, overrides, late,
 * duplicate and invalid records), with fast-check: a failure throws with the shrunk counterexample and
 * the seed to replay it.
 *
 * @example
 * await checkInvariants(loadPolicy(json), { numRuns: 50, seed: 42 });
 */
export async function checkInvariants(
  policy: Policy | unknown,
  options: CheckInvariantsOptions = {},
): Promise<InvariantReport> {
  const loaded =
    policy !== null && typeof policy === 'object' && (policy as Policy).kind === 'spendcap.policy'
      ? (policy as Policy)
      : loadPolicy(policy);
  const doc = loaded.document as PolicyDocument;
  const engine = createEngine(loaded, options.engine);
  const names = options.invariants ?? DEFAULT_INVARIANTS;
  const results: InvariantResult[] = [];
  for (const name of names) {
    const check = CHECKS[name];
    if (check === undefined)
      throw new Error(`unknown invariant '${String(name)}' (known: ${INVARIANTS.join(', ')})`);
    // Warn first holds only when every charge is smaller than the gap between warning and block.
    const gap = warningGap(doc);
    const streamOptions: StreamOptions =
      name === 'warn-first'
        ? {
            // Mostly roaming data usage by one or two subscribers, so that blocks come by small steps.
            subscribers: { max: 2 },
            minEvents: 30,
            weights: { usage: 90, payment: 2, adjustment: 2, override: 2 },
            homeShare: 10,
            dataShare: 85,
            ...options.stream,
            ...(Number.isFinite(gap) || options.stream?.maxCharge !== undefined
              ? { maxCharge: Math.max(1, Math.min(options.stream?.maxCharge ?? Infinity, gap - 1)) }
              : {}),
          }
        : { ...KIT_STREAM, ...options.stream };
    const domain = domainOf(doc, { scaleToLimits: name !== 'warn-first' });
    const streams = planArb(streamOptions).map((plan) => buildStream(domain, plan, streamOptions));
    let observed = 0;
    let runs = 0;
    const numRuns = options.numRuns ?? 100;
    // fc.check rather than fc.assert: the report is this function's own (whatever reporter a test
    // runner configured globally), and names the invariant, the seed and the shrunk stream.
    const details = await fc.check(
      fc.asyncProperty(streams, fc.nat(), async (stream, extra) => {
        runs++;
        observed += await check(engine, doc, stream, extra);
      }),
      { numRuns, ...(options.seed !== undefined ? { seed: options.seed } : {}) },
    );
    if (details.failed) {
      const error = details.errorInstance;
      const why = error instanceof Error ? error.message : String(error);
      const [stream, extra] = (details.counterexample ?? []) as [Stream?, number?];
      throw new InvariantViolation(
        name,
        `${why.replace(/^invariant '[^']+': /, '')}\n` +
          `policy ${loaded.id}@${loaded.version}; seed ${details.seed}, path ${details.counterexamplePath ?? ''}, after ${details.numRuns} run(s)\n` +
          `replay: checkInvariants(policy, { invariants: ['${name}'], seed: ${details.seed}, numRuns: ${numRuns} })\n` +
          `shrunk counterexample: ${JSON.stringify({ profiles: stream?.profiles, events: stream?.events, extra })}`,
        error,
      );
    }
    results.push({ name, runs, observed });
  }
  return { policy: `${loaded.id}@${loaded.version}`, results };
}
