import { InputError, type Issue } from './errors.js';
import type { Policy, LoadedCap, LoadedRule } from './policy/types.js';
import type { Action, Because, Scope } from './schema/actions.js';
import { EventSchema, type SpendEvent } from './schema/events.js';
import { SubscriberProfileSchema, type SubscriberProfile } from './schema/profile.js';
import { STATE_VERSION, SubscriberStateSchema, type SubscriberState } from './schema/state.js';
import { migrateState } from './schema/migrate.js';
import { dataRecordOf, dictionaryOf, getOwn, protoKeyPath, setOwn } from './schema/records.js';
import { issuesFromZod, collectKeys, formatPath, type IssueContext } from './schema/zod-issues.js';
import { capFacts, subscriberFacts, type EventContext } from './ledger/facts.js';
import {
  Decider,
  FOLDED_APPLIED,
  FOLDED_DUPLICATE,
  NO_ACTIONS,
  freshMemo,
  type Decided,
  type Hot,
  type Memo,
} from './decide/decider.js';
import {
  checkedInstant,
  EventScratch,
  fastEvent,
  fastProfile,
  type KnownParts,
} from './decide/fast-event.js';
import { fastState } from './decide/fast-state.js';
import { explainCondition } from './rules/conditions.js';
import { becauseOf, describeLift, describeRestriction } from './explain/actions.js';
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
  // json-rules-engine is the reference; the default mode gives the same answers (a differential test
  // holds it to them) without a promise, an almanac and a fact cache per evaluation, and without
  // re-reconciling when no rule's result changed (see Decider).
  const reference = options.evaluator === 'json-rules-engine';
  const decider = new Decider(policy, reference);
  // States this engine returned carry, under a symbol of this engine's own, what it remembers beside
  // each (its memo, or null). The property is not enumerable, so JSON, `structuredClone`, spreads and
  // equality checks never see it, and a copy or a state read from storage is not trusted. A caller that
  // edits a returned state in place (rather than storing and loading it) gets no schema check on it:
  // states are values, and a returned state must not be changed. (A symbol rather than a WeakMap: tables
  // of weak references with a live entry per subscriber make every garbage collection slower.)
  const mark = Symbol('spendcap engine memo');
  const firstMemo = freshMemo(policy);
  const produced = {
    add(state: SubscriberState, memo: Memo | null): void {
      Object.defineProperty(state, mark, { value: memo, writable: true, configurable: true });
    },
    has(state: SubscriberState): boolean {
      return state !== null && typeof state === 'object' && Object.prototype.hasOwnProperty.call(state, mark);
    },
    memo(state: SubscriberState): Memo | null {
      return Object.prototype.hasOwnProperty.call(state, mark)
        ? ((state as unknown as Record<symbol, Memo | null>)[mark] ?? null)
        : null;
    },
  };

  function init(profile: SubscriberProfile): SubscriberState {
    const state = newState(profile);
    produced.add(state, reference ? null : firstMemo);
    return state;
  }

  /** A new state for a profile, not yet marked as the engine's (`run` marks its states at the end). */
  function newState(profile: SubscriberProfile): SubscriberState {
    let p = reference ? null : fastProfile(profile);
    if (p === null) {
      const parsed = SubscriberProfileSchema.safeParse(profile);
      if (!parsed.success)
        throw new InputError(
          'subscriber profile',
          issuesFromZod(parsed.error.issues, profile, STATE_CONTEXT),
        );
      p = parsed.data;
    }
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
      seen: { ids: [], at: [] },
    };
    return state;
  }

  /** `Date.parse(event.at)` of the last event the fast check accepted, NaN after the schema's. */
  const instant = { at: NaN };
  /** The event copies `run` fills in place (see EventScratch). */
  const scratch = new EventScratch(policy.currency);

  /**
   * The event, validated: by the fast check when it is certainly valid, else by the schema. `known`:
   * its `id` and `at` as checked before, if they were.
   */
  function parseEvent(input: unknown, known?: KnownParts, scratch?: EventScratch): SpendEvent | Issue[] {
    instant.at = NaN;
    try {
      // Validation walks caller data: a getter that throws or a nesting deep enough to overflow the
      // stack must come back as a rejection, never as an exception.
      const fast = reference ? null : fastEvent(input, policy, decider.services, instant, known, scratch);
      if (fast !== null) return fast;
      const parsed = EventSchema.safeParse(input);
      return parsed.success ? parsed.data : issuesFromZod(parsed.error.issues, input, EVENT_CONTEXT);
    } catch (error) {
      return [unreadable(error)];
    }
  }

  async function process(state: SubscriberState, input: unknown): Promise<Decision> {
    const reject = (issues: Issue[]): Decision => ({ outcome: 'rejected', state, actions: [], issues });
    let trusted: boolean;
    // The state decided on: the caller's, when this engine made it; else the checked copy (migrated
    // from an older version), which is this call's own to change.
    let subject = state;
    try {
      // A state this engine made is known good; one from storage or elsewhere is checked whole.
      trusted = produced.has(state) && state.version === STATE_VERSION && state.policy.id === policy.id;
      if (!trusted) {
        const checked = checkState(state, policy);
        if (checked.state === undefined) return reject(checked.issues);
        subject = checked.state;
      }
    } catch (error) {
      return reject([unreadable(error)]);
    }
    const event = parseEvent(input);
    if (Array.isArray(event)) return reject(event);
    try {
      const memo = trusted ? produced.memo(state) : null;
      const decided = await decider.decide(subject, event, memo, !trusted, instant.at);
      if (decided.state !== state) {
        produced.add(decided.state, decided.memo);
      }
      return toDecision(decided);
    } catch (error) {
      return reject([inconsistent(error)]);
    }
  }

  /** One subscriber's state while `run` folds events into it. */
  interface Entry {
    state: SubscriberState;
    /** Whether `run` made this state (or a copy of the caller's), so it may change it in place. */
    owned: boolean;
    memo: Memo | null;
    /**
     * For an owned state with many applied ids: an index of them (`state.seen.ids`); null while the
     * list is short enough to search (most subscribers: a set per subscriber costs more than it saves).
     */
    ids: Set<string> | null;
    /** The fast path's view of an owned state; undefined when it must be built again. */
    hot: Hot | null | undefined;
  }
  const own = (entry: Entry, state: SubscriberState, memo: Memo | null): void => {
    entry.state = state;
    entry.owned = true;
    entry.memo = memo;
    entry.ids = null;
    entry.hot = undefined;
  };

  /** Whether a stored state passes the fast check (a value that throws on reading does not). */
  const adoptable = (stored: unknown): stored is SubscriberState => {
    try {
      return fastState(stored, policy.id);
    } catch {
      return false;
    }
  };

  async function run(
    events: Iterable<unknown>,
    profiles: Iterable<SubscriberProfile> | Readonly<Record<string, SubscriberProfile>>,
    initial: Readonly<Record<string, SubscriberState>> = {},
    adopt = false,
  ): Promise<AdoptedResult> {
    const profileById = new Map<string, SubscriberProfile>();
    const list =
      Symbol.iterator in Object(profiles)
        ? (profiles as Iterable<SubscriberProfile>)
        : Object.values(profiles);
    for (const profile of list) profileById.set(profile.subscriberId, profile);
    const inputs: readonly unknown[] = Array.isArray(events) ? events : Array.from(events);
    const noInitial = Object.getOwnPropertyNames(initial).length === 0;
    const n = inputs.length;
    const decisions = new Array<BatchDecision>(n);
    // Reference mode: each event's subscriber, in input order. Grouped: each event's group (one per
    // subscriber, numbered in the order each first appears; an event without a subscriber is a group of
    // its own), found here where the id was just read rather than in a second pass over the ids.
    const subscriberIds = reference ? new Array<string | null>(n) : null;
    const grouping = reference ? null : new Grouping(n);
    const eventIds = new Array<string | null>(n);
    // Each event's `at` and its instant, when it and the id pass the fast check's tests: read here, in
    // input order, where the caller's strings lie in sequence, rather than when the event's turn comes
    // in subscriber order, where each string is a cache miss (see KnownParts).
    const ats = new Array<string | null>(n);
    const instants = new Float64Array(n);
    for (let position = 0; position < n; position++) {
      let subscriberId: string | null = null;
      let eventId: string | null = null;
      let at: string | null = null;
      let checked = NaN;
      try {
        const input = inputs[position];
        const record = input !== null && typeof input === 'object' ? (input as Record<string, unknown>) : {};
        // Each read once (a getter may answer differently the second time).
        const subscriber = record['subscriberId'];
        subscriberId = typeof subscriber === 'string' ? subscriber : null;
        const id = record['id'];
        eventId = typeof id === 'string' ? id : null;
        if (!reference) {
          const value = record['at'];
          checked = checkedInstant(eventId, value);
          if (!Number.isNaN(checked)) at = value as string;
        }
      } catch {
        // An unreadable event is rejected by parseEvent with the reason, or below without a subscriber.
      }
      if (grouping !== null) grouping.add(position, subscriberId);
      else subscriberIds![position] = subscriberId;
      eventIds[position] = eventId;
      ats[position] = at;
      instants[position] = checked;
    }
    // Grouped, each subscriber's events are one run: its entry is the previous event's or a new one,
    // and a table of entries is needed only in input order (the reference).
    const entries = reference ? new Map<string, Entry>() : null;
    const entryIds: string[] = [];
    const entryList: Entry[] = [];
    // Each subscriber's events in their order, one subscriber after another: decisions depend only on
    // the subscriber's own state and events (SPEC invariant 8), and a state is then decided on while it
    // is in the processor's cache rather than fetched from memory for every event of an interleaved
    // stream. The reference engine keeps the input order.
    const order = grouping === null ? null : grouping.order();
    // The events in processing order, gathered in one tight pass (whose loads overlap) so that the loop
    // reads them in sequence; decisions are made in that order and put in input order at the end.
    const queue = order === null ? inputs : gather(inputs, order);
    const queueIds = order === null ? eventIds : gather(eventIds, order);
    const queueAts = order === null ? ats : gather(ats, order);
    const queueInstants = order === null ? instants : gather(instants, order);
    const known: KnownParts = { id: null, at: null, instant: NaN };
    const made = order === null ? decisions : new Array<BatchDecision>(n);
    // Grouped: the group of the event (its subscriber's events come one after the other), where the
    // group ends, and the entry of the event before (the same subscriber's within a group).
    let group = -1;
    let groupEnd = 0;
    let groupId: string | null = null;
    let lastEntry: Entry | undefined;
    for (let k = 0; k < n; k++) {
      if (order !== null && k % PREFETCH === 0) touchAhead(queue, k);
      if (grouping !== null && k === groupEnd) {
        group++;
        groupEnd += grouping.sizes[group]!;
        groupId = grouping.ids[group]!;
        lastEntry = undefined;
      }
      const position = order === null ? k : order[k]!;
      const input = queue[k];
      const subscriberId = grouping !== null ? groupId : subscriberIds![k]!;
      const eventId = queueIds[k]!;
      let entry =
        subscriberId === null ? undefined : grouping !== null ? lastEntry : entries!.get(subscriberId);
      if (entry === undefined && subscriberId !== null) {
        // (Most batches start from no stored state: a lookup in an empty record would still have V8
        // intern every subscriber id.)
        const stored = noInitial ? undefined : getOwn(initial, subscriberId);
        const profile = profileById.get(subscriberId);
        if (stored !== undefined) {
          entry = { state: stored, owned: false, memo: null, ids: null, hot: null };
          // Adopting (see ADOPTING_RUN): a state this engine made is decided in place, with its memo;
          // one read from storage that certainly passes the schema as it is, in place too (without a
          // memo, which its first event makes). Any other goes through `process`, checked whole.
          if (adopt && !reference) {
            if (produced.has(stored) && stored.version === STATE_VERSION && stored.policy.id === policy.id)
              own(entry, stored, produced.memo(stored));
            else if (adoptable(stored)) {
              // As checkState leaves it: the records keyed by dispute reference in dictionary mode.
              stored.disputes = dataRecordOf(stored.disputes, (d) => d);
              own(entry, stored, null);
            }
          }
        } else if (profile !== undefined) {
          try {
            const state = reference ? init(profile) : newState(profile);
            entry = { state, owned: false, memo: null, ids: null, hot: null };
            if (!reference) own(entry, state, firstMemo);
          } catch (error) {
            const issues = (error as InputError).issues ?? [];
            made[k] = {
              eventId,
              subscriberId,
              outcome: 'rejected',
              actions: [],
              issues: issues.map((i) => ({ ...i, path: `profile ${subscriberId} ${i.path}` })),
            };
            continue;
          }
        }
        if (entry !== undefined) {
          entries?.set(subscriberId, entry);
          entryIds.push(subscriberId);
          entryList.push(entry);
        }
      }
      lastEntry = entry;
      if (entry === undefined) {
        const message =
          subscriberId === null ? "missing 'subscriberId'" : `no profile for subscriber '${subscriberId}'`;
        made[k] = {
          eventId,
          subscriberId,
          outcome: 'rejected',
          actions: [],
          issues: [
            {
              code: subscriberId === null ? 'missing_key' : 'subscriber_mismatch',
              path: `$[${position}].subscriberId`,
              message,
              severity: 'error',
            },
          ],
        };
        continue;
      }
      if (entry.owned) {
        const at = queueAts[k]!;
        known.id = at === null ? null : eventId;
        known.at = at;
        known.instant = queueInstants[k]!;
        made[k] = decideOwned(entry, input, eventId, subscriberId!, known);
        continue;
      }
      const decision = await process(entry.state, input);
      if (decision.state !== entry.state) {
        if (reference) entry.state = decision.state;
        else own(entry, decision.state, produced.memo(decision.state));
      }
      made[k] =
        decision.issues !== undefined
          ? {
              eventId,
              subscriberId,
              outcome: decision.outcome,
              actions: decision.actions,
              issues: decision.issues,
            }
          : { eventId, subscriberId, outcome: decision.outcome, actions: decision.actions };
    }
    if (order !== null) for (let k = 0; k < n; k++) decisions[order[k]!] = made[k]!;
    // Keyed by subscriber id, data: a dictionary-mode record (see `dictionary`).
    const states = dictionaryOf(initial, (state) => state);
    const decidedOn = adopt ? new Set<string>() : null;
    for (let i = 0; i < entryList.length; i++) {
      const entry = entryList[i]!;
      // Only a state run made: one of the caller's that no event changed stays as it was given.
      if (entry.owned) produced.add(entry.state, entry.memo);
      // Made or decided on: owned (decided in place), or a new object (the reference evaluator owns
      // none, and gives a changed state as a copy).
      if (entry.owned || entry.state !== getOwn(initial, entryIds[i]!)) decidedOn?.add(entryIds[i]!);
      setOwn(states, entryIds[i]!, entry.state);
    }
    return decidedOn === null ? { decisions, states } : { decisions, states, made: decidedOn };
  }

  /** One event of a state `run` owns: decided in place, with no copy and no promise. */
  function decideOwned(
    entry: Entry,
    input: unknown,
    eventId: string | null,
    subscriberId: string,
    known: KnownParts,
  ): BatchDecision {
    // The checked event is the engine's scratch copy for the common shapes: nothing keeps a reference to
    // it once this synchronous decision is made, and nothing of the caller's runs while it is in use.
    const event = parseEvent(input, known, scratch);
    if (Array.isArray(event))
      return { eventId, subscriberId, outcome: 'rejected', actions: NO_ACTIONS, issues: event };
    let outcome: Decision['outcome'];
    let actions: readonly Action[] = NO_ACTIONS; // one frozen array, not a million empty ones
    let issues: readonly Issue[] | undefined;
    try {
      // The fast path first; it changes nothing when it cannot decide the event.
      const state = entry.state;
      if (entry.ids === null && state.seen.ids.length >= INDEX_IDS_FROM) entry.ids = new Set(state.seen.ids);
      const ids = entry.ids ?? undefined;
      let hot = entry.hot;
      if (hot === undefined) hot = entry.hot = decider.hotOf(state, entry.memo);
      const folded = hot === null ? null : decider.fold(state, ids, hot, event, instant.at);
      if (folded === FOLDED_APPLIED) {
        entry.memo = hot!.memo; // a notice may have re-armed
        return { eventId, subscriberId, outcome: 'applied', actions: NO_ACTIONS };
      }
      if (folded === FOLDED_DUPLICATE)
        return { eventId, subscriberId, outcome: 'duplicate', actions: NO_ACTIONS };
      const decided =
        folded !== null
          ? decider.finish(folded, decider.evaluateSync(folded))
          : decider.decideSync(state, event, entry.memo, true, instant.at, ids);
      entry.hot = undefined;
      entry.memo = decided.memo;
      outcome = decided.outcome;
      actions = decided.actions;
      issues = decided.issues;
    } catch (error) {
      // Only a bug gets here (a state run made is consistent with the policy).
      entry.hot = undefined;
      outcome = 'rejected';
      issues = [inconsistent(error)];
    }
    return issues !== undefined
      ? { eventId, subscriberId, outcome, actions, issues }
      : { eventId, subscriberId, outcome, actions };
  }

  function explain(stored: SubscriberState): Explanation {
    const checked = checkState(stored, policy);
    if (checked.state === undefined) throw new InputError('state', checked.issues);
    const state = checked.state;
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

  const engine: SpendcapEngine & AdoptingRun = {
    policy,
    init,
    process,
    run,
    explain,
    [ADOPTING_RUN]: (events, profiles, states) => run(events, profiles, states, true),
  };
  // Not part of the public shape: spreads and JSON of the engine never show it.
  Object.defineProperty(engine, ADOPTING_RUN, { enumerable: false });
  return engine;
}

/**
 * The package's own variant of `run` (for `spendcap/redis`), not exported from the package: it decides
 * *in place*, without the copy `run` makes of a caller's state, the states this engine returned earlier
 * and the stored states that pass the fast check (`fastState`: as `JSON.parse` gives them). So the
 * states passed must be the caller's own and never used again but through the result (or dropped).
 */
export const ADOPTING_RUN: unique symbol = Symbol('spendcap adopting run');

/** What the adopting run returns. */
export interface AdoptedResult extends BatchResult {
  /**
   * The subscribers whose returned state this run made or decided on (to be stored). The others' are
   * as they were passed in: a stored state the engine refused (its events rejected with why) or one no
   * event changed.
   */
  readonly made?: ReadonlySet<string>;
}

/** An engine with the package-internal adopting run. */
export interface AdoptingRun {
  [ADOPTING_RUN](
    events: Iterable<unknown>,
    profiles: Iterable<SubscriberProfile>,
    states: Readonly<Record<string, SubscriberState>>,
  ): Promise<AdoptedResult>;
}

/**
 * A batch's events grouped by subscriber, built in input order: each subscriber's group is numbered in
 * the order its first event appears, and an event without a subscriber is a group of its own.
 */
class Grouping {
  /** Each group's subscriber (null for an event without one). */
  readonly ids: (string | null)[] = [];
  /** How many events each group has. */
  readonly sizes: number[] = [];
  readonly #groupOf: Int32Array;
  readonly #groups = new Map<string, number>();

  constructor(n: number) {
    this.#groupOf = new Int32Array(n);
  }

  /** Puts the event at `position` in its subscriber's group. */
  add(position: number, subscriberId: string | null): void {
    let g = subscriberId === null ? undefined : this.#groups.get(subscriberId);
    if (g === undefined) {
      g = this.ids.length;
      if (subscriberId !== null) this.#groups.set(subscriberId, g);
      this.ids.push(subscriberId);
      this.sizes.push(0);
    }
    this.#groupOf[position] = g;
    this.sizes[g]!++;
  }

  /** The positions, group after group, each group's in input order (a counting sort). */
  order(): Int32Array {
    const groupOf = this.#groupOf;
    const sizes = this.sizes;
    const next = new Int32Array(sizes.length);
    for (let g = 0, at = 0; g < sizes.length; g++) {
      next[g] = at;
      at += sizes[g]!;
    }
    const order = new Int32Array(groupOf.length);
    for (let i = 0; i < groupOf.length; i++) order[next[groupOf[i]!]!++] = i;
    return order;
  }
}

/** From how many applied ids `run` keeps a set of them beside a state (below, a search is cheaper). */
const INDEX_IDS_FROM = 32;

/** How many events ahead `run` touches the caller's event objects (see `touchAhead`). */
const PREFETCH = 64;
/** Where `touchAhead` puts what it read, so that the reads are kept (nothing reads it). */
let touched = 0;

/**
 * Reads the header of each of the next PREFETCH event objects in one tight loop. In subscriber order
 * every event object is a cache miss; loads issued together here overlap, where one by one each would
 * wait for memory while its event is decided. `Array.isArray` reads the object's map and runs no
 * caller code (not even a proxy's trap; it throws only for a revoked proxy).
 */
function touchAhead(queue: readonly unknown[], from: number): void {
  const end = Math.min(queue.length, from + PREFETCH);
  let count = 0;
  try {
    for (let k = from; k < end; k++) if (Array.isArray(queue[k])) count++;
  } catch {
    // A revoked proxy (Array.isArray throws for one): the rest of the block is not touched.
  }
  touched = count;
}

/** `list` in the order of `order`. */
function gather<T>(list: ArrayLike<T>, order: Int32Array): T[] {
  const out = new Array<T>(order.length);
  for (let k = 0; k < order.length; k++) out[k] = list[order[k]!]!;
  return out;
}

function toDecision(decided: Decided): Decision {
  const { outcome, state, issues } = decided;
  // A decision of `process` hands out an array of its own.
  const actions = decided.actions.length === 0 ? [] : (decided.actions as Action[]);
  switch (outcome) {
    case 'applied':
      return issues === undefined ? { outcome, state, actions } : { outcome, state, actions, issues };
    case 'duplicate':
      return { outcome, state, actions };
    default:
      return { outcome, state, actions, issues: issues ?? [] };
  }
}

function unreadable(error: unknown): Issue {
  return {
    code: 'invalid_type',
    path: '$',
    message: `unreadable input: ${(error as Error).message}`,
    severity: 'error',
  };
}

/**
 * A state that passed its schema can still be inconsistent (edited by hand, a profile changed under it,
 * a proxy that cannot be copied): that is bad input too, never an exception.
 */
function inconsistent(error: unknown): Issue {
  return {
    code: 'invalid_state',
    path: '$.state',
    message: `the state cannot take this event: ${(error as Error).message}`,
    severity: 'error',
  };
}

/**
 * The checks a stored state must pass before an event is applied to it: its shape and version (an older
 * version is migrated first, a newer one refused), and that it was made under this policy's id. Returns
 * the state as parsed (a copy of the caller's), or the issues.
 */
function checkState(
  state: unknown,
  policy: Policy,
): { readonly issues: Issue[]; readonly state?: SubscriberState } {
  const version =
    state !== null && typeof state === 'object' ? (state as Record<string, unknown>)['version'] : undefined;
  if (typeof version === 'number' && Number.isInteger(version) && version > STATE_VERSION) {
    return {
      issues: [
        {
          code: 'invalid_state',
          path: '$.state.version',
          message: `state version ${version} was written by a newer spendcap; this one reads versions 1 to ${STATE_VERSION}`,
          severity: 'error',
        },
      ],
    };
  }
  // Keys are data only under `disputes` (references): a `__proto__` anywhere else is a corrupt state.
  const proto = protoKeyPath(state, (path) => path.length === 1 && path[0] === 'disputes');
  if (proto !== null) {
    return {
      issues: [
        {
          code: 'invalid_state',
          path: `$.state${formatPath(proto).slice(1)}`,
          message: "state carries a '__proto__' key, which no state spendcap writes has there",
          severity: 'error',
        },
      ],
    };
  }
  const parsed = SubscriberStateSchema.safeParse(migrateState(state));
  if (!parsed.success) {
    return {
      issues: issuesFromZod(parsed.error.issues, state, STATE_CONTEXT).map((i) => ({
        ...i,
        code: 'invalid_state',
        message: `state ${i.path}: ${i.message}`,
        path: `$.state${i.path.slice(1)}`,
      })),
    };
  }
  if (parsed.data.policy.id !== policy.id) {
    return {
      issues: [
        {
          code: 'invalid_state',
          path: '$.state.policy.id',
          message: `state was made under policy '${parsed.data.policy.id}', this engine runs '${policy.id}'`,
          severity: 'error',
        },
      ],
    };
  }
  // The parsed records keyed by dispute reference become a dictionary-mode record, as in states this
  // engine makes.
  const checked = parsed.data;
  checked.disputes = dataRecordOf(checked.disputes, (d) => d);
  return { issues: [], state: checked };
}
