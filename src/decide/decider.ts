import type { Issue } from '../errors.js';
import type { LoadedCap, LoadedRule, Policy } from '../policy/types.js';
import type { Action } from '../schema/actions.js';
import type { SpendEvent } from '../schema/events.js';
import type { Facts } from '../schema/facts.js';
import type { SubscriberState, WindowTotals } from '../schema/state.js';
import { getOwn } from '../schema/records.js';
import {
  NOTHING_ROLLED,
  advanceClock,
  applyEvent,
  cycleAt,
  inCapScope,
  type Applied,
} from '../ledger/ledger.js';
import { checkEvent, withinTotals } from '../ledger/check-event.js';
import {
  capFacts,
  caplessFacts,
  eventContext,
  subscriberFacts,
  writeCapFacts,
  writeSubscriberFacts,
  openDisputesOf,
  type OpenDisputes,
  copySubscriberFacts,
  blankSubscriberFacts,
  type EventContext,
} from '../ledger/facts.js';
import { RuleGroupEvaluator } from '../rules/engine.js';
import { CompiledRuleGroup, compileCondition, type CompiledCondition } from '../rules/conditions.js';
import { reconcile, ruleKey, type Evaluation, type MatchedRules } from '../reconcile/reconcile.js';
import { buildActions } from '../explain/actions.js';
import { previousWindow, type BillingWindow } from '../window/index.js';
import { cloneState } from './clone.js';

/**
 * What the engine remembers about a subscriber between two events, beside the state, so that an event
 * that crosses no threshold costs little more than the ledger fold.
 *
 * Restrictions are level-triggered and notices edge-triggered on the rules' results, so after a
 * reconciliation the state's restrictions and notices are a function of exactly: which rules matched,
 * which caps an agent override suppressed, and the window each group's notices re-arm in. When the next
 * event gives the same three, reconciling again changes nothing and produces no action, so it is skipped.
 * A memo is immutable (a new one is made when anything in it changes), so a state and its successor may
 * share one.
 */
export interface Memo {
  /**
   * Per rule of every group (caps in policy order, then the rules without a cap): 1 if it matched.
   * (Plain arrays of small integers: a typed array costs three objects to make, and a memo is made for
   * every decision with actions.)
   */
  readonly matched: readonly number[];
  /** Per cap: 1 if an agent override suppressed its restrictions. */
  readonly suppressed: readonly number[];
  /**
   * Per group: the window its notices re-arm in, or '' when none of its rules matched (then the window
   * makes no difference: no notice of the group is armed and no restriction held).
   */
  readonly windows: readonly string[];
  /** The billing cycle containing the state's clock, and the horizon it implies (null before any event). */
  readonly cycle: BillingWindow | null;
  readonly horizon: number;
}

/**
 * The memo of a state nothing has been decided on yet (no restriction, no notice): as if every rule had
 * been evaluated and none matched.
 */
export function freshMemo(policy: Policy): Memo {
  const rules = policy.caps.reduce((n, cap) => n + cap.rules.length, 0) + policy.caplessRules.length;
  return {
    matched: new Array<number>(rules).fill(0),
    suppressed: new Array<number>(policy.caps.length).fill(0),
    windows: new Array<string>(policy.caps.length + 1).fill(''),
    cycle: null,
    horizon: -Infinity,
  };
}

/** What deciding an event came to (the engine wraps it into a `Decision`). */
export interface Decided {
  readonly outcome: 'applied' | 'late' | 'duplicate' | 'rejected';
  readonly state: SubscriberState;
  /** Shared and frozen when empty: copy before handing it to a caller who may change it. */
  readonly actions: readonly Action[];
  readonly issues: readonly Issue[] | undefined;
  /** The memo that goes with `state`, or null when there is none yet. */
  readonly memo: Memo | null;
}

/** An applied event whose rules must be evaluated before the decision can be finished. */
export interface Pending {
  readonly draft: SubscriberState;
  readonly event: SpendEvent;
  readonly now: number;
  readonly applied: Applied;
  readonly rolled: ReadonlySet<string>;
  readonly context: EventContext;
  readonly cycle: BillingWindow;
  /** The horizon of `cycle`, when known. */
  readonly horizon: number | null;
  /**
   * Set by the fast path when only rules without a cap changed their result: then only those are
   * evaluated and reconciled (they can only notify), and every cap keeps what `memo` says of it.
   */
  readonly caplessOnly?: { readonly memo: Memo };
}

/** A group of rules with its facts, before evaluation. */
type Group = Omit<Evaluation, 'matched'> & { readonly evaluator: Evaluator | undefined };

/** The matches of a group without rules. */
const NO_MATCHES: MatchedRules = { has: () => false, size: 0 };

/** Evaluates one group of rules on a set of facts. */
type Evaluator = (facts: Facts) => MatchedRules | Promise<MatchedRules>;

/**
 * What `run`'s fast path knows about a subscriber it owns, built from the state and its memo after a
 * decision of the general path and valid until the next one: the current windows' totals of every cap
 * (the state's own objects, changed in place), the range of instants and clocks for which an event lands
 * in all of them without rolling any, and the open disputes' facts.
 */
export interface Hot {
  /** The memo the view was built from, or the one a re-arm on the fast path made from it. */
  memo: Memo;
  readonly cycle: BillingWindow;
  /** Per cap (policy order): the state's totals of its current window. */
  readonly cur: readonly WindowTotals[];
  /** An event at or after this lands in every current window and in the clock's cycle (not late). */
  readonly from: number;
  /** A clock before this leaves no window (no roll-over, no horizon move). */
  readonly until: number;
  /** The open disputes (the fast path leaves disputes alone, so they hold while the view does). */
  readonly open: OpenDisputes;
}

/** The fast path's answer for an event it decided whole. */
export const FOLDED_APPLIED = 1;
export const FOLDED_DUPLICATE = 2;

/** The evaluation of a cap's rules (null: of the rules without a cap). */
function evaluationOf(evaluations: readonly Evaluation[], cap: LoadedCap | null): Evaluation {
  for (const e of evaluations) if (e.cap === cap) return e;
  throw new Error(`no evaluation for cap ${cap === null ? '(none)' : cap.id}`);
}

/** The actions of a decision without any (one frozen array, not one per event). */
export const NO_ACTIONS: readonly Action[] = Object.freeze([]);

const isPending = (x: Decided | Pending): x is Pending => 'applied' in x;

/**
 * The decision procedure of one policy, shared by `process` and `run`.
 *
 * Two modes. The reference (`{ evaluator: 'json-rules-engine' }`) is the straightforward procedure:
 * `structuredClone` the state, check the event in full, roll every window, run json-rules-engine on
 * every group, reconcile and build the actions, for every event. The default mode gives the same
 * decisions and states (a differential property test holds it to the reference) with less work: compiled
 * conditions, a field-by-field copy (or none: `run` owns the states it folds), windows asked for only when
 * the clock leaves them, and, with a memo, reconciliation skipped when no rule's result changed.
 */
export class Decider {
  readonly policy: Policy;
  readonly reference: boolean;
  readonly #evaluators = new Map<string, Evaluator>();
  readonly #caplessEvaluator: Evaluator | null;
  /** Per cap, then the rules without a cap: each rule's compiled conditions (fast path). */
  readonly #tests: readonly (readonly CompiledCondition[])[];
  readonly #caplessTests: readonly CompiledCondition[];
  readonly #ruleCount: number;
  /** Per rule, in memo order: whether it only notifies (not block or throttle), and its notice key. */
  readonly #isNotice: Uint8Array;
  readonly #noticeKeys: readonly string[];
  /** Per rule, in memo order: its group (caps in policy order, then the rules without a cap). */
  readonly #groupOf: Uint8Array | Uint16Array;
  readonly #services: ReadonlySet<string>;
  /** Reused for every fast-path evaluation of a cap's rules (never handed out). */
  readonly #scratch: Facts;
  /** The same for the rules without a cap: its cap facts stay null. */
  readonly #caplessScratch: Facts;

  constructor(policy: Policy, reference: boolean) {
    this.policy = policy;
    this.reference = reference;
    const group = (rules: readonly LoadedRule[]): Evaluator => {
      if (reference) {
        const jre = new RuleGroupEvaluator(rules);
        return (facts) => jre.matches(facts);
      }
      const compiled = new CompiledRuleGroup(rules);
      return (facts) => compiled.matches(facts);
    };
    for (const cap of policy.caps) if (cap.rules.length > 0) this.#evaluators.set(cap.id, group(cap.rules));
    this.#caplessEvaluator = policy.caplessRules.length > 0 ? group(policy.caplessRules) : null;
    this.#tests = policy.caps.map((cap) => cap.rules.map((r) => compileCondition(r.conditions)));
    this.#caplessTests = policy.caplessRules.map((r) => compileCondition(r.conditions));
    this.#ruleCount = this.#tests.reduce((n, t) => n + t.length, 0) + this.#caplessTests.length;
    this.#services = new Set(policy.services);
    const ordered: { rule: LoadedRule; capId: string; group: number }[] = [];
    policy.caps.forEach((cap, group) => {
      for (const rule of cap.rules) ordered.push({ rule, capId: cap.id, group });
    });
    for (const rule of policy.caplessRules) ordered.push({ rule, capId: '', group: policy.caps.length });
    this.#isNotice = Uint8Array.from(ordered, ({ rule }) =>
      rule.event.type === 'block' || rule.event.type === 'throttle' ? 0 : 1,
    );
    this.#noticeKeys = ordered.map(({ rule, capId }) => ruleKey(capId, rule));
    this.#groupOf = Uint16Array.from(ordered, ({ group }) => group);
    this.#scratch = caplessFacts(blankSubscriberFacts());
    this.#caplessScratch = caplessFacts(blankSubscriberFacts());
  }

  /** The policy's services, for the fast event check. */
  get services(): ReadonlySet<string> {
    return this.#services;
  }

  /**
   * Checks and applies a validated event. Returns the decision when nothing is left to evaluate (a
   * rejection, a duplicate, a late record, or an event that changed no rule's result), or what remains
   * to evaluate. With `inPlace`, `state` itself is changed (only for a state the caller owns); otherwise
   * a copy is. Throws only for a state inconsistent with the policy (the engine turns that into a
   * rejection).
   */
  prepare(
    state: SubscriberState,
    event: SpendEvent,
    memo: Memo | null,
    inPlace: boolean,
    parsedAt = NaN,
    ids?: Set<string>,
  ): Decided | Pending {
    const policy = this.policy;
    // `parsedAt`, when given, is `Date.parse(event.at)` done already by the caller's validation.
    const at = Number.isNaN(parsedAt) ? Date.parse(event.at) : parsedAt;
    // A memo is only used while the state's clock is in the cycle it describes.
    const known =
      memo !== null && memo.cycle !== null && state.clock !== null && state.clock < memo.cycle.end
        ? (memo as Memo & { cycle: BillingWindow })
        : null;
    // A state no event has reached yet (no clock, the fresh memo) has no horizon and no totals, so the
    // quick checks answer for it as they do with a known memo: each subscriber's first event saves the
    // full check.
    const quick = known ?? (memo !== null && state.clock === null ? memo : null);
    if (quick === null || !this.#quickCheck(state, event, at, quick) || !withinTotals(state, event)) {
      const eventIssues = checkEvent(state, policy, event, at);
      // Ids are unique per subscriber and currency is the policy's: an id seen before on another
      // subscriber's or currency's event is a bad event, not a repeat.
      const identity = eventIssues.filter(
        (i) => i.code === 'subscriber_mismatch' || i.code === 'currency_mismatch',
      );
      if (identity.length > 0) return rejected(state, identity, memo);
      if (isSeen(state, ids, event.id)) return duplicate(state, memo);
      if (eventIssues.length > 0) return rejected(state, eventIssues, memo);
    } else if (isSeen(state, ids, event.id)) return duplicate(state, memo);

    const draft = inPlace ? state : this.reference ? structuredClone(state) : cloneState(state);
    // The state records the policy version that last decided on it (a new version of the same policy
    // carries on from a stored state).
    // (A state with a known memo was last decided by this engine: its version is already this one.)
    if (known === null && draft.policy.version !== policy.version)
      draft.policy = { id: policy.id, version: policy.version };
    const now = Math.max(draft.clock ?? at, at);
    const rolled = advanceClock(draft, policy, now, known?.cycle, known?.horizon, ids);
    let cycle: BillingWindow;
    let next = memo;
    if (known !== null && now < known.cycle.end) cycle = known.cycle;
    else {
      cycle = cycleAt(draft, now);
      if (memo !== null) {
        const { timeZone, cycleAnchorDay } = draft.profile;
        next = {
          matched: memo.matched,
          suppressed: memo.suppressed,
          windows: memo.windows,
          cycle,
          horizon: previousWindow(cycle, timeZone, cycleAnchorDay).start,
        };
      }
    }
    const applied = applyEvent(draft, policy, event, at, cycle, ids);
    if (applied.late) {
      const note: Issue = {
        code: 'late_event',
        path: '$.at',
        message: `${event.at} is before the current billing cycle (from ${cycle.key}): counted in its own window; no restriction of the current window changes`,
        severity: 'warning',
      };
      return {
        outcome: 'late',
        state: draft,
        actions: NO_ACTIONS,
        issues: [note, ...applied.notes],
        memo: next,
      };
    }
    const kept = next === null || this.reference ? null : this.#unchanged(draft, event, applied, now, next);
    if (kept !== null) {
      return {
        outcome: 'applied',
        state: draft,
        actions: NO_ACTIONS,
        issues: applied.notes.length > 0 ? applied.notes : undefined,
        memo: kept,
      };
    }
    const context = eventContext(policy, draft, event, applied.previousZone, applied.zoneChanged);
    return { draft, event, now, applied, rolled, context, cycle, horizon: next?.horizon ?? null };
  }

  /** Evaluates every group synchronously (the compiled evaluator). */
  evaluateSync(pending: Pending): Evaluation[] {
    const groups = this.#groups(pending);
    const out: Evaluation[] = new Array<Evaluation>(groups.length);
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      const matched = g.evaluator === undefined ? NO_MATCHES : (g.evaluator(g.facts) as MatchedRules);
      out[i] = { cap: g.cap, rules: g.rules, facts: g.facts, matched, window: g.window };
    }
    return out;
  }

  /** Evaluates every group, one after the other (json-rules-engine's evaluations are asynchronous). */
  async evaluate(pending: Pending): Promise<Evaluation[]> {
    const out: Evaluation[] = [];
    for (const g of this.#groups(pending)) {
      const matched = g.evaluator === undefined ? NO_MATCHES : await g.evaluator(g.facts);
      out.push({ cap: g.cap, rules: g.rules, facts: g.facts, matched, window: g.window });
    }
    return out;
  }

  /** Every group of rules with its facts: the rules without a cap first, then each cap in policy order. */
  #groups(pending: Pending): Group[] {
    const { draft, context, now, cycle } = pending;
    const policy = this.policy;
    const subscriber = subscriberFacts(draft, context, now);
    if (pending.caplessOnly !== undefined) {
      return [
        {
          cap: null,
          rules: policy.caplessRules,
          facts: caplessFacts(subscriber),
          window: cycle.key,
          evaluator: this.#caplessEvaluator!,
        },
      ];
    }
    const groups: Group[] = [];
    // First, so a welcome to a zone comes before the warnings that the same usage may trigger.
    if (this.#caplessEvaluator !== null) {
      groups.push({
        cap: null,
        rules: policy.caplessRules,
        facts: caplessFacts(subscriber),
        window: cycle.key,
        evaluator: this.#caplessEvaluator,
      });
    }
    for (const cap of policy.caps) {
      groups.push({
        cap,
        rules: cap.rules,
        facts: capFacts(draft, cap, subscriber, now),
        window: getOwn(draft.caps, cap.id)!.cur!.key,
        evaluator: this.#evaluators.get(cap.id),
      });
    }
    return groups;
  }

  /** Reconciles and builds the actions: the decision of an applied event whose results changed. */
  finish(pending: Pending, evaluations: readonly Evaluation[]): Decided {
    const { draft, event, now, applied, rolled, cycle } = pending;
    const policy = this.policy;
    const caplessOnly = pending.caplessOnly !== undefined;
    const changes = reconcile(
      draft,
      evaluations,
      { event, zoneChanged: applied.zoneChanged, rolled, restrictionsUnchanged: caplessOnly },
      now,
    );
    const actions = buildActions({ policy, state: draft, event, now }, evaluations, changes);
    return {
      outcome: 'applied',
      state: draft,
      actions,
      issues: applied.notes.length > 0 ? applied.notes : undefined,
      memo: this.reference
        ? null
        : this.#memoOf(draft, evaluations, cycle, pending.horizon, pending.caplessOnly?.memo),
    };
  }

  /** Decides synchronously with the compiled evaluator (the default mode). */
  decideSync(
    state: SubscriberState,
    event: SpendEvent,
    memo: Memo | null,
    inPlace: boolean,
    parsedAt = NaN,
    ids?: Set<string>,
  ): Decided {
    const prepared = this.prepare(state, event, memo, inPlace, parsedAt, ids);
    return isPending(prepared) ? this.finish(prepared, this.evaluateSync(prepared)) : prepared;
  }

  /** Decides in either mode. */
  async decide(
    state: SubscriberState,
    event: SpendEvent,
    memo: Memo | null,
    inPlace: boolean,
    parsedAt = NaN,
  ): Promise<Decided> {
    const prepared = this.prepare(state, event, memo, inPlace, parsedAt);
    if (!isPending(prepared)) return prepared;
    return this.finish(
      prepared,
      this.reference ? await this.evaluate(prepared) : this.evaluateSync(prepared),
    );
  }

  /**
   * The fast path's view of a state `run` owns, or null when its events must take the general path
   * (no memo yet, an override on record, a decided dispute due to be forgotten, a suppressed cap, or a
   * group's notices armed in a window that is not current: each is rare, and the general path handles
   * it exactly).
   */
  hotOf(state: SubscriberState, memo: Memo | null): Hot | null {
    if (this.reference || memo === null || memo.cycle === null || state.clock === null) return null;
    const cycle = memo.cycle;
    if (state.clock >= cycle.end) return null;
    for (const _ in state.overrides) return null;
    const caps = this.policy.caps;
    const cur: WindowTotals[] = new Array<WindowTotals>(caps.length);
    let from = cycle.start;
    let until = cycle.end;
    for (let i = 0; i < caps.length; i++) {
      const totals = getOwn(state.caps, caps[i]!.id)?.cur;
      if (totals == null || memo.suppressed[i] === 1) return null;
      const window = memo.windows[i];
      if (window !== '' && window !== totals.key) return null;
      cur[i] = totals;
      if (totals.start > from) from = totals.start;
      if (totals.end < until) until = totals.end;
    }
    if (this.#caplessTests.length > 0) {
      const window = memo.windows[caps.length];
      if (window !== '' && window !== cycle.key) return null;
    }
    const disputes = state.disputes;
    for (const reference in disputes) {
      if (!Object.prototype.hasOwnProperty.call(disputes, reference)) continue;
      const dispute = disputes[reference]!;
      // advanceClock forgets a decided one at the next event: leave that to the general path.
      if (dispute.status !== 'open' && dispute.openedAt < memo.horizon) return null;
    }
    return { memo, cycle, cur, from, until, open: openDisputesOf(state) };
  }

  /**
   * `run`'s fast path: a usage, location, payment or tick that lands in the current window of every cap,
   * is not late and leaves no window, applied in place exactly as `prepare` and `applyEvent` would apply
   * it. Returns null, having changed nothing, for any other event (the general path decides it);
   * FOLDED_DUPLICATE for an id applied before; FOLDED_APPLIED when no rule's result changed but for
   * notices re-arming (no action, no note; `hot.memo` is then the memo to keep); otherwise what remains
   * to evaluate, the event applied.
   */
  fold(
    state: SubscriberState,
    ids: Set<string> | undefined,
    hot: Hot,
    event: SpendEvent,
    at: number,
  ): Pending | typeof FOLDED_APPLIED | typeof FOLDED_DUPLICATE | null {
    const policy = this.policy;
    const profile = state.profile;
    // The checks `checkEvent` would make, answered as for any event with a memo; then the ones that keep
    // this event inside the current windows.
    if (!this.#quickCheck(state, event, at, hot.memo) || at < hot.from) return null;
    const clock = state.clock!;
    const now = at > clock ? at : clock;
    if (now >= hot.until) return null;
    const caps = policy.caps;
    const cur = hot.cur;
    const type = event.type;
    let service: string | null = null;
    let zone: string | null = null;
    if (type === 'usage') {
      service = event.service;
      zone = policy.zoneOf(event.country, profile.homeCountry);
      // A usage a quantity cap cannot count gets a note: the general path says so.
      for (let i = 0; i < caps.length; i++) {
        const cap = caps[i]!;
        if (cap.measure === 'quantity' && inCapScope(cap, service, zone)) {
          if (event.quantity === undefined || event.unit !== cap.unit) return null;
        }
      }
    } else if (type === 'location') {
      zone = policy.zoneOf(event.country, profile.homeCountry);
    }
    if (isSeen(state, ids, event.id)) return FOLDED_DUPLICATE;
    // A total that could leave the exact integers: the general path refuses the event, saying why.
    if (!withinTotals(state, event)) return null;

    // Apply: the totals, the location, the id, the clock.
    if (type === 'usage') {
      for (let i = 0; i < caps.length; i++) {
        const cap = caps[i]!;
        if (!inCapScope(cap, service!, zone!)) continue;
        cur[i]!.charged += cap.measure === 'cost' ? event.cost.amount : event.quantity!;
      }
    } else if (type === 'payment') {
      for (let i = 0; i < caps.length; i++) if (caps[i]!.measure === 'cost') cur[i]!.paid += event.amount;
    }
    const location = state.location;
    const previousZone = location.zone;
    if ((type === 'usage' || type === 'location') && (location.at === null || at >= location.at)) {
      location.country = event.country;
      location.zone = zone!;
      location.at = at;
    }
    const zoneChanged = location.zone !== previousZone;
    ids?.add(event.id);
    state.seen.ids.push(event.id);
    state.seen.at.push(at);
    state.clock = now;

    // The rules: the same facts `#unchanged` writes, from what this path knows. A notice rule that
    // stops matching only re-arms, as there; any other change is evaluated.
    const memo = hot.memo;
    const matched = memo.matched;
    const isNotice = this.#isNotice;
    const f = this.#scratch;
    writeSubscriberFacts(f, state, type, service, zone, previousZone, zoneChanged, now, hot.open);
    let same = true;
    let rearmed: number[] | null = null;
    let k = 0;
    for (let i = 0; i < caps.length && same; i++) {
      // No override is on record while the view holds.
      writeCapFacts(f, caps[i]!, cur[i]!, undefined, now);
      const tests = this.#tests[i]!;
      for (let j = 0; j < tests.length; j++, k++) {
        if ((tests[j]!(f) ? 1 : 0) === matched[k]) continue;
        if (matched[k] === 1 && isNotice[k] === 1) (rearmed ??= []).push(k);
        else {
          same = false;
          break;
        }
      }
    }
    const capless = this.#caplessTests;
    let caplessOnly = false;
    if (same && capless.length > 0) {
      const c = this.#caplessScratch;
      copySubscriberFacts(f, c);
      for (let j = 0; j < capless.length; j++, k++) {
        if ((capless[j]!(c) ? 1 : 0) === matched[k]) continue;
        if (matched[k] === 1 && isNotice[k] === 1) (rearmed ??= []).push(k);
        else {
          same = false;
          // Only the rules without a cap are evaluated then, unless a cap's notice re-arms too.
          caplessOnly = rearmed === null;
          break;
        }
      }
    }
    if (same) {
      if (rearmed !== null) hot.memo = this.#rearm(state, memo, rearmed);
      return FOLDED_APPLIED;
    }
    const applied: Applied = { late: false, notes: [], previousZone, zoneChanged };
    return {
      draft: state,
      event,
      now,
      applied,
      rolled: NOTHING_ROLLED,
      context: {
        type,
        service,
        zone,
        previousZone,
        zoneChanged,
      },
      cycle: hot.cycle,
      horizon: memo.horizon,
      ...(caplessOnly ? { caplessOnly: { memo } } : {}),
    };
  }

  /**
   * The checks of `checkEvent` for the common events, answered from the memo: true when `checkEvent`
   * would certainly find nothing (false sends the event through `checkEvent`, which says what is wrong).
   */
  #quickCheck(state: SubscriberState, event: SpendEvent, at: number, memo: Memo): boolean {
    if (event.subscriberId !== state.profile.subscriberId || at < memo.horizon) return false;
    switch (event.type) {
      case 'usage':
        return this.#services.has(event.service) && event.cost.currency === this.policy.currency;
      case 'payment':
        return event.currency === this.policy.currency;
      case 'location':
      case 'tick':
        return true;
      default:
        return false;
    }
  }

  /**
   * The memo to keep when reconciling would change nothing visible, or null when the event must be
   * reconciled. Nothing changes when every group's results, suppression and window are those the memo
   * recorded. A notice rule that stops matching only re-arms (reconcile deletes its notice key and does
   * nothing else), so that is done here too, and the memo updated; any other change goes the full way.
   */
  #unchanged(
    draft: SubscriberState,
    event: SpendEvent,
    applied: Applied,
    now: number,
    memo: Memo,
  ): Memo | null {
    const policy = this.policy;
    const country = event.type === 'usage' || event.type === 'location' ? event.country : null;
    const service = event.type === 'usage' ? event.service : null;
    const eventZone = country === null ? null : policy.zoneOf(country, draft.profile.homeCountry);
    const caps = policy.caps;
    const matched = memo.matched;
    const isNotice = this.#isNotice;
    let rearmed: number[] | null = null;
    let k = 0;
    // The subscriber facts once, into the caps' scratch facts (copied to the capless ones below).
    const f = this.#scratch;
    writeSubscriberFacts(
      f,
      draft,
      event.type,
      service,
      eventZone,
      applied.previousZone,
      applied.zoneChanged,
      now,
    );
    for (let i = 0; i < caps.length; i++) {
      const cap = caps[i]!;
      const cur = getOwn(draft.caps, cap.id)!.cur!;
      const window = memo.windows[i];
      if (window !== '' && window !== cur.key) return null;
      writeCapFacts(f, cap, cur, getOwn(draft.overrides, cap.id), now);
      if ((f.agentOverride === true ? 1 : 0) !== memo.suppressed[i]) return null;
      const tests = this.#tests[i]!;
      for (let j = 0; j < tests.length; j++, k++) {
        if ((tests[j]!(f) ? 1 : 0) === matched[k]) continue;
        if (matched[k] === 1 && isNotice[k] === 1) (rearmed ??= []).push(k);
        else return null;
      }
    }
    const tests = this.#caplessTests;
    if (tests.length > 0) {
      // The caller has moved the memo's cycle to the one containing `now`.
      const window = memo.windows[caps.length];
      if (window !== '' && window !== memo.cycle!.key) return null;
      const capless = this.#caplessScratch;
      copySubscriberFacts(f, capless);
      for (let j = 0; j < tests.length; j++, k++) {
        if ((tests[j]!(capless) ? 1 : 0) === matched[k]) continue;
        if (matched[k] === 1 && isNotice[k] === 1) (rearmed ??= []).push(k);
        else return null;
      }
    }
    return rearmed === null ? memo : this.#rearm(draft, memo, rearmed);
  }

  /**
   * Re-arms notice rules that stopped matching (`rearmed`, indexes in memo order), as reconcile would:
   * their notice keys deleted from the state, and the memo that says so.
   */
  #rearm(draft: SubscriberState, memo: Memo, rearmed: readonly number[]): Memo {
    const nextMatched = memo.matched.slice();
    for (const r of rearmed) {
      delete draft.notices[this.#noticeKeys[r]!];
      nextMatched[r] = 0;
    }
    // A group none of whose rules matches any more re-arms in any window.
    const windows = memo.windows.slice();
    for (const r of rearmed) {
      const group = this.#groupOf[r]!;
      let any = false;
      for (let q = 0; q < nextMatched.length; q++)
        if (this.#groupOf[q] === group && nextMatched[q] === 1) any = true;
      if (!any) windows[group] = '';
    }
    return {
      matched: nextMatched,
      suppressed: memo.suppressed,
      windows,
      cycle: memo.cycle,
      horizon: memo.horizon,
    };
  }

  #memoOf(
    draft: SubscriberState,
    evaluations: readonly Evaluation[],
    cycle: BillingWindow,
    horizon: number | null,
    /** The memo whose caps were not evaluated (only the rules without a cap were). */
    kept?: Memo,
  ): Memo {
    const caps = this.policy.caps;
    const capless = this.#caplessTests.length > 0;
    let matched: number[];
    let suppressed: readonly number[];
    let windows: string[];
    let k = 0;
    if (kept !== undefined) {
      // The caps' part as kept (memo arrays are never changed in place: shared, or copied to change).
      matched = kept.matched.slice();
      suppressed = kept.suppressed;
      windows = kept.windows.slice();
      k = this.#ruleCount - this.#caplessTests.length;
    } else {
      matched = new Array<number>(this.#ruleCount).fill(0);
      const off = new Array<number>(caps.length).fill(0);
      suppressed = off;
      windows = new Array<string>(caps.length + (capless ? 1 : 0));
      for (let i = 0; i < caps.length; i++) {
        const cap = caps[i]!;
        const e = evaluationOf(evaluations, cap);
        windows[i] = e.matched.size > 0 ? e.window : '';
        off[i] = e.facts.agentOverride === true ? 1 : 0;
        for (const rule of cap.rules) matched[k++] = e.matched.has(rule.name) ? 1 : 0;
      }
    }
    if (capless) {
      const e = evaluationOf(evaluations, null);
      windows[caps.length] = e.matched.size > 0 ? e.window : '';
      for (const rule of this.policy.caplessRules) matched[k++] = e.matched.has(rule.name) ? 1 : 0;
    }
    const { timeZone, cycleAnchorDay } = draft.profile;
    return {
      matched,
      suppressed,
      windows,
      cycle,
      // The caller knows the horizon of `cycle` when the clock stayed in the cycle it knew.
      horizon: horizon ?? previousWindow(cycle, timeZone, cycleAnchorDay).start,
    };
  }
}

/**
 * Whether an event id was applied: looked up in `ids`, the index `run` keeps of a state it owns, or else
 * in the state's list.
 */
function isSeen(state: SubscriberState, ids: Set<string> | undefined, id: string): boolean {
  return ids !== undefined ? ids.has(id) : state.seen.ids.indexOf(id) !== -1;
}

function rejected(state: SubscriberState, issues: readonly Issue[], memo: Memo | null): Decided {
  return { outcome: 'rejected', state, actions: NO_ACTIONS, issues, memo };
}

function duplicate(state: SubscriberState, memo: Memo | null): Decided {
  return { outcome: 'duplicate', state, actions: NO_ACTIONS, issues: undefined, memo };
}
