import { InputError, type Issue } from './errors.js';
import type { Policy, LoadedCap, LoadedRule } from './policy/types.js';
import type { Action, Because, Scope } from './schema/actions.js';
import { EventSchema, type SpendEvent } from './schema/events.js';
import { SubscriberProfileSchema, type SubscriberProfile } from './schema/profile.js';
import { STATE_VERSION, SubscriberStateSchema, type SubscriberState } from './schema/state.js';
import { getOwn, setOwn } from './schema/records.js';
import { issuesFromZod, collectKeys, type IssueContext } from './schema/zod-issues.js';
import { advanceClock, applyEvent, cycleAt } from './ledger/ledger.js';
import { checkEvent } from './ledger/check-event.js';
import { capFacts, caplessFacts, eventContext, subscriberFacts, type EventContext } from './ledger/facts.js';
import { RuleGroupEvaluator } from './rules/engine.js';
import { CompiledRuleGroup } from './rules/conditions.js';
import type { Facts } from './schema/facts.js';
import { explainCondition } from './rules/conditions.js';
import { reconcile, type Evaluation } from './reconcile/reconcile.js';
import { buildActions, becauseOf, describeLift, describeRestriction } from './explain/actions.js';
import { explainConditions } from './explain/describe.js';
import { liftForScope, type LiftOptions } from './explain/lift.js';

/** The result of processing one event: what happened to it, the new state, and the actions to take. */
export type Decision =
  | {
      readonly outcome: 'applied';
      readonly state: SubscriberState;
      readonly actions: readonly Action[];
      readonly issues?: readonly Issue[];
    }
  | {
      readonly outcome: 'late';
      readonly state: SubscriberState;
      readonly actions: readonly Action[];
      readonly issues: readonly Issue[];
    }
  | {
      readonly outcome: 'duplicate';
      readonly state: SubscriberState;
      readonly actions: readonly Action[];
      readonly issues?: undefined;
    }
  | {
      readonly outcome: 'rejected';
      readonly state: SubscriberState;
      readonly actions: readonly Action[];
      readonly issues: readonly Issue[];
    };

/** What happened to one event of a batch (without its state: `run` returns final states once). */
export interface BatchDecision {
  readonly eventId: string | null;
  readonly subscriberId: string | null;
  readonly outcome: Decision['outcome'];
  readonly actions: readonly Action[];
  readonly issues?: readonly Issue[];
}

/** The result of `run`: a decision per event in input order, and the final state per subscriber. */
export interface BatchResult {
  readonly decisions: readonly BatchDecision[];
  readonly states: Readonly<Record<string, SubscriberState>>;
}

/** A restriction in force, explained for a care agent. */
export interface RestrictionExplanation {
  readonly capId: string;
  readonly ruleId: string;
  readonly kind: 'block' | 'throttle';
  readonly scope: Scope;
  readonly kbps?: number;
  /** When it was imposed (ISO 8601, UTC). */
  readonly since: string;
  readonly because: Because;
  readonly lift: LiftOptions;
  /** One sentence: what, why, and what lifts it. */
  readonly text: string;
}

/** Why a subscriber is restricted right now, and what lifts it. */
export interface Explanation {
  readonly subscriberId: string;
  /** The state's clock (ISO 8601, UTC), or null before any event. */
  readonly at: string | null;
  readonly restricted: boolean;
  readonly restrictions: readonly RestrictionExplanation[];
  /** Each cap's facts now. */
  readonly caps: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly text: string;
}

/** Options of `createEngine`. */
export interface EngineOptions {
  /**
   * `compiled` (default): rule conditions evaluated by spendcap's compiled evaluator, with exactly
   * json-rules-engine's semantics. `json-rules-engine`: every evaluation run by json-rules-engine
   * itself, the reference the compiled evaluator is tested against.
   */
  readonly evaluator?: 'compiled' | 'json-rules-engine';
}

/** Evaluates one group of rules on a set of facts. */
type Evaluator = (facts: Facts) => Set<string> | Promise<Set<string>>;

/** A spendcap engine bound to one policy. */
export interface SpendcapEngine {
  readonly policy: Policy;
  /** A fresh state for a subscriber; throws `InputError` for an invalid profile. */
  init(profile: SubscriberProfile): SubscriberState;
  /** Applies one event. Never throws for bad input: it comes back `rejected` with the state unchanged. */
  process(state: SubscriberState, event: unknown): Promise<Decision>;
  /** Many subscribers' events; each subscriber's order is kept. */
  run(
    events: Iterable<unknown>,
    profiles: Iterable<SubscriberProfile> | Readonly<Record<string, SubscriberProfile>>,
    states?: Readonly<Record<string, SubscriberState>>,
  ): Promise<BatchResult>;
  /** Why this subscriber is restricted right now, and what lifts it. */
  explain(state: SubscriberState): Explanation;
}

const EVENT_CONTEXT: IssueContext = {
  knownKeys: collectKeys(EventSchema),
  valueCodes: { type: 'invalid_value' },
};
const STATE_CONTEXT: IssueContext = { knownKeys: collectKeys(SubscriberStateSchema) };

/**
 * Creates an engine for a loaded policy.
 *
 * @example
 * const engine = createEngine(loadPolicy(json));
 * let state = engine.init({ subscriberId: 's1', homeCountry: 'PL', timeZone: 'Europe/Warsaw', cycleAnchorDay: 1 });
 * const decision = await engine.process(state, event);
 * state = decision.state;
 */
export function createEngine(policy: Policy, options: EngineOptions = {}): SpendcapEngine {
  if (policy?.kind !== 'spendcap.policy') {
    throw new InputError('policy', [
      { code: 'invalid_type', path: '$', message: 'expected a policy from loadPolicy()', severity: 'error' },
    ]);
  }
  // json-rules-engine is the reference; the compiled evaluator gives the same answers (a differential
  // test holds them to it) without a promise, an almanac and a fact cache per evaluation.
  const reference = options.evaluator === 'json-rules-engine';
  const group = (rules: readonly LoadedRule[]): Evaluator => {
    if (reference) {
      const jre = new RuleGroupEvaluator(rules);
      return (facts) => jre.matches(facts);
    }
    const compiled = new CompiledRuleGroup(rules);
    return (facts) => compiled.matches(facts);
  };
  const evaluators = new Map<string, Evaluator>();
  for (const cap of policy.caps) if (cap.rules.length > 0) evaluators.set(cap.id, group(cap.rules));
  const caplessEvaluator = policy.caplessRules.length > 0 ? group(policy.caplessRules) : null;
  // States this engine returned. A caller that edits one in place (rather than storing and loading it)
  // gets no schema check on it; an inconsistency is still caught and rejected by `process`.
  const produced = new WeakSet<object>();

  function init(profile: SubscriberProfile): SubscriberState {
    const parsed = SubscriberProfileSchema.safeParse(profile);
    if (!parsed.success)
      throw new InputError('subscriber profile', issuesFromZod(parsed.error.issues, profile, STATE_CONTEXT));
    const p = parsed.data;
    const state: SubscriberState = {
      version: STATE_VERSION,
      policy: { id: policy.id, version: policy.version },
      profile: p,
      clock: null,
      location: { country: p.homeCountry, zone: 'home', at: null },
      caps: {},
      overrides: {},
      disputes: {},
      restrictions: [],
      notices: {},
      seen: {},
    };
    produced.add(state);
    return state;
  }

  async function evaluate(draft: SubscriberState, context: EventContext, now: number): Promise<Evaluation[]> {
    const subscriber = subscriberFacts(draft, context, now);
    const evaluations: Evaluation[] = [];
    for (const cap of policy.caps) {
      const facts = capFacts(draft, cap, subscriber, now);
      const evaluator = evaluators.get(cap.id);
      const matched = evaluator === undefined ? new Set<string>() : await evaluator(facts);
      evaluations.push({
        cap,
        rules: cap.rules,
        facts,
        matched,
        window: getOwn(draft.caps, cap.id)!.cur!.key,
      });
    }
    if (caplessEvaluator !== null) {
      const facts = caplessFacts(subscriber);
      const matched = await caplessEvaluator(facts);
      // First, so a welcome to a zone comes before the warnings that the same usage may trigger.
      evaluations.unshift({
        cap: null,
        rules: policy.caplessRules,
        facts,
        matched,
        window: cycleAt(draft, now).key,
      });
    }
    return evaluations;
  }

  async function process(state: SubscriberState, input: unknown): Promise<Decision> {
    const reject = (issues: Issue[]): Decision => ({ outcome: 'rejected', state, actions: [], issues });
    let event: SpendEvent;
    try {
      // Validation walks caller data: a getter that throws or a nesting deep enough to overflow the
      // stack must come back as a rejection, never as an exception out of `process`.
      // A state this engine made is known good; one from storage or elsewhere is checked whole.
      const trusted = produced.has(state) && state.version === STATE_VERSION && state.policy.id === policy.id;
      if (!trusted) {
        const stateIssues = checkState(state, policy);
        if (stateIssues.length > 0) return reject(stateIssues);
      }
      const parsed = EventSchema.safeParse(input);
      if (!parsed.success) return reject(issuesFromZod(parsed.error.issues, input, EVENT_CONTEXT));
      event = parsed.data;
    } catch (error) {
      return reject([
        {
          code: 'invalid_type',
          path: '$',
          message: `unreadable input: ${(error as Error).message}`,
          severity: 'error',
        },
      ]);
    }
    try {
      return await decide(state, event);
    } catch (error) {
      // A state that passed its schema can still be inconsistent (edited by hand, a profile changed
      // under it, a proxy that cannot be cloned): that is bad input too, never an exception.
      return reject([
        {
          code: 'invalid_state',
          path: '$.state',
          message: `the state cannot take this event: ${(error as Error).message}`,
          severity: 'error',
        },
      ]);
    }
  }

  /** Decides a validated event against a validated state. */
  async function decide(state: SubscriberState, event: SpendEvent): Promise<Decision> {
    const reject = (issues: Issue[]): Decision => ({ outcome: 'rejected', state, actions: [], issues });
    const at = Date.parse(event.at);
    const eventIssues = checkEvent(state, policy, event, at);
    // Ids are unique per subscriber and currency is the policy's: an id seen before on another
    // subscriber's or currency's event is a bad event, not a repeat.
    const identity = eventIssues.filter(
      (i) => i.code === 'subscriber_mismatch' || i.code === 'currency_mismatch',
    );
    if (identity.length > 0) return reject(identity);
    if (Object.prototype.hasOwnProperty.call(state.seen, event.id))
      return { outcome: 'duplicate', state, actions: [] };
    if (eventIssues.length > 0) return reject(eventIssues);

    const draft = structuredClone(state);
    produced.add(draft);
    // The state records the policy version that last decided on it (a new version of the same policy
    // carries on from a stored state).
    if (draft.policy.version !== policy.version) draft.policy = { id: policy.id, version: policy.version };
    const now = Math.max(draft.clock ?? at, at);
    const rolled = advanceClock(draft, policy, now);
    const applied = applyEvent(draft, policy, event, at);
    if (applied.late) {
      const note: Issue = {
        code: 'late_event',
        path: '$.at',
        message: `${event.at} is before the current billing cycle (from ${cycleAt(draft, now).key}): counted in its own window; no restriction of the current window changes`,
        severity: 'warning',
      };
      return { outcome: 'late', state: draft, actions: [], issues: [note, ...applied.notes] };
    }
    const context = eventContext(policy, draft, event, applied.previousZone, applied.zoneChanged);
    const evaluations = await evaluate(draft, context, now);
    const changes = reconcile(draft, evaluations, { event, zoneChanged: applied.zoneChanged, rolled }, now);
    const actions = buildActions({ policy, state: draft, event, now }, evaluations, changes);
    return applied.notes.length > 0
      ? { outcome: 'applied', state: draft, actions, issues: applied.notes }
      : { outcome: 'applied', state: draft, actions };
  }

  async function run(
    events: Iterable<unknown>,
    profiles: Iterable<SubscriberProfile> | Readonly<Record<string, SubscriberProfile>>,
    initial: Readonly<Record<string, SubscriberState>> = {},
  ): Promise<BatchResult> {
    const profileById = new Map<string, SubscriberProfile>();
    const list =
      Symbol.iterator in Object(profiles)
        ? (profiles as Iterable<SubscriberProfile>)
        : Object.values(profiles);
    for (const profile of list) profileById.set(profile.subscriberId, profile);
    const states: Record<string, SubscriberState> = { ...initial };
    const decisions: BatchDecision[] = [];
    let index = 0;
    for (const input of events) {
      const path = `$[${index++}]`;
      let subscriberId: string | null = null;
      let eventId: string | null = null;
      try {
        const record = input !== null && typeof input === 'object' ? (input as Record<string, unknown>) : {};
        subscriberId = typeof record['subscriberId'] === 'string' ? record['subscriberId'] : null;
        eventId = typeof record['id'] === 'string' ? record['id'] : null;
      } catch {
        // An unreadable event falls through to process, which rejects it with the reason.
      }
      let state = subscriberId === null ? undefined : getOwn(states, subscriberId);
      if (state === undefined && subscriberId !== null) {
        const profile = profileById.get(subscriberId);
        if (profile !== undefined) {
          try {
            state = init(profile);
          } catch (error) {
            const issues = (error as InputError).issues ?? [];
            decisions.push({
              eventId,
              subscriberId,
              outcome: 'rejected',
              actions: [],
              issues: issues.map((i) => ({ ...i, path: `profile ${subscriberId} ${i.path}` })),
            });
            continue;
          }
        }
      }
      if (state === undefined) {
        const message =
          subscriberId === null ? "missing 'subscriberId'" : `no profile for subscriber '${subscriberId}'`;
        decisions.push({
          eventId,
          subscriberId,
          outcome: 'rejected',
          actions: [],
          issues: [
            {
              code: subscriberId === null ? 'missing_key' : 'subscriber_mismatch',
              path: `${path}.subscriberId`,
              message,
              severity: 'error',
            },
          ],
        });
        continue;
      }
      const decision = await process(state, input);
      setOwn(states, subscriberId!, decision.state);
      decisions.push({
        eventId,
        subscriberId,
        outcome: decision.outcome,
        actions: decision.actions,
        ...(decision.issues !== undefined ? { issues: decision.issues } : {}),
      });
    }
    return { decisions, states };
  }

  function explain(state: SubscriberState): Explanation {
    const issues = checkState(state, policy);
    if (issues.length > 0) throw new InputError('state', issues);
    const now = state.clock;
    const caps: Record<string, Record<string, unknown>> = {};
    const restrictions: RestrictionExplanation[] = [];
    if (now !== null) {
      const context: EventContext = {
        type: 'tick',
        service: null,
        zone: null,
        previousZone: state.location.zone,
        zoneChanged: false,
      };
      const subscriber = subscriberFacts(state, context, now);
      for (const cap of policy.caps) {
        if (getOwn(state.caps, cap.id)?.cur == null) continue;
        setOwn(caps, cap.id, capFacts(state, cap, subscriber, now));
      }
      for (const restriction of state.restrictions) {
        const cap = policy.capById.get(restriction.capId);
        const rule = cap?.rules.find((r) => r.name === restriction.ruleId);
        if (cap === undefined || rule === undefined || getOwn(state.caps, cap.id)?.cur == null) continue;
        restrictions.push(explainRestriction(state, cap, restriction, rule, subscriber, now));
      }
    }
    const text =
      restrictions.length === 0
        ? `${state.profile.subscriberId} has no restriction.`
        : restrictions.map((r) => r.text).join(' ');
    return {
      subscriberId: state.profile.subscriberId,
      at: now === null ? null : new Date(now).toISOString(),
      restricted: restrictions.length > 0,
      restrictions,
      caps,
      text,
    };
  }

  function explainRestriction(
    state: SubscriberState,
    cap: LoadedCap,
    restriction: SubscriberState['restrictions'][number],
    rule: LoadedCap['rules'][number],
    subscriber: ReturnType<typeof subscriberFacts>,
    now: number,
  ): RestrictionExplanation {
    const facts = capFacts(state, cap, subscriber, now);
    const dc = { policy, cap, locale: 'en' };
    const lift = liftForScope(state, policy, restriction, (c) => capFacts(state, c, subscriber, now));
    const conditions = explainCondition(rule.conditions, facts);
    const reason = explainConditions(conditions, true, dc);
    const liftClause = describeLift(lift, {
      currency: policy.currency,
      timeZone: state.profile.timeZone,
      locale: 'en',
    });
    const since = new Date(restriction.since).toISOString();
    const text = `${describeRestriction(restriction, policy)} since ${since} because ${reason}; ${liftClause}.`;
    return {
      capId: restriction.capId,
      ruleId: restriction.ruleId,
      kind: restriction.kind,
      scope: restriction.scope,
      ...(restriction.kbps !== undefined ? { kbps: restriction.kbps } : {}),
      since,
      because: becauseOf(rule, facts, conditions, text),
      lift,
      text,
    };
  }

  return { policy, init, process, run, explain };
}

/**
 * The checks a stored state must pass before an event is applied to it: its shape and version, and
 * that it was made under this policy's id.
 */
function checkState(state: unknown, policy: Policy): Issue[] {
  const parsed = SubscriberStateSchema.safeParse(state);
  if (!parsed.success) {
    return issuesFromZod(parsed.error.issues, state, STATE_CONTEXT).map((i) => ({
      ...i,
      code: 'invalid_state',
      message: `state ${i.path}: ${i.message}`,
      path: `$.state${i.path.slice(1)}`,
    }));
  }
  if (parsed.data.policy.id !== policy.id) {
    return [
      {
        code: 'invalid_state',
        path: '$.state.policy.id',
        message: `state was made under policy '${parsed.data.policy.id}', this engine runs '${policy.id}'`,
        severity: 'error',
      },
    ];
  }
  return [];
}
