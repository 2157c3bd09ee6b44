import type { Scope, UnblockCause } from '../schema/actions.js';
import type { Facts } from '../schema/facts.js';
import type { SpendEvent } from '../schema/events.js';
import type { Restriction, SubscriberState } from '../schema/state.js';
import type { LoadedCap, LoadedRule } from '../policy/types.js';
import { actionId } from '../explain/ids.js';
import { getOwn, setOwn } from '../schema/records.js';

/** The rules of a group that match, by name: a `Set` of names, or the compiled evaluator's `RuleMatches`. */
export interface MatchedRules {
  has(name: string): boolean;
  readonly size: number;
}

/** One group of rules evaluated on one set of facts: a cap's rules, or the rules without a cap. */
export interface Evaluation {
  readonly cap: LoadedCap | null;
  readonly rules: readonly LoadedRule[];
  readonly facts: Facts;
  /** Names of the rules that match. */
  readonly matched: MatchedRules;
  /** The window the notices re-arm in: the cap's current window, or the billing cycle for capless rules. */
  readonly window: string;
}

/** A restriction put in force by this decision. */
export interface Imposed {
  readonly restriction: Restriction;
  readonly rule: LoadedRule;
  readonly evaluation: Evaluation;
}

/** A restriction lifted by this decision. */
export interface Lifted {
  readonly restriction: Restriction;
  /** The pairs that are really free now: no other restriction of the same kind still holds them. */
  readonly scope: Scope;
  readonly cause: UnblockCause;
  readonly rule: LoadedRule | undefined;
  readonly evaluation: Evaluation | undefined;
}

/** A notice rule that went from not matching to matching. */
export interface Fired {
  readonly rule: LoadedRule;
  readonly evaluation: Evaluation;
}

/** What changed, for the action builder. */
export interface Reconciled {
  readonly imposed: readonly Imposed[];
  readonly lifted: readonly Lifted[];
  readonly fired: readonly Fired[];
}

/** A restriction a rule wants, with the key it is found by among those in force. */
interface Wanted {
  readonly capId: string;
  readonly ruleId: string;
  readonly rule: LoadedRule;
  readonly evaluation: Evaluation;
}

/** What about the triggering event decides an unblock's cause. */
export interface CauseContext {
  readonly event: SpendEvent;
  readonly zoneChanged: boolean;
  /** Caps whose window rolled over with this event. */
  readonly rolled: ReadonlySet<string>;
  /**
   * The restrictions in force stay as they are: only rules without a cap were evaluated (the caller
   * knows no cap's results changed, and those rules can only notify).
   */
  readonly restrictionsUnchanged?: boolean;
}

const pairKey = (service: string, zone: string) => `${service}\u0000${zone}`;

/**
 * `capId|ruleName` (`''` for a rule without a cap), the key of a rule's notice and restriction, made once
 * per rule and cap.
 *
 * @example
 * delete draft.notices[ruleKey('bill', rule)];
 */
const ruleKeys = new WeakMap<LoadedRule, Map<string, string>>();
export function ruleKey(capId: string, rule: LoadedRule): string {
  let byCap = ruleKeys.get(rule);
  if (byCap === undefined) ruleKeys.set(rule, (byCap = new Map()));
  let key = byCap.get(capId);
  if (key === undefined) byCap.set(capId, (key = `${capId}|${rule.name}`));
  return key;
}

/** Each rule's `ruleKey` in a group of a cap (or of no cap, ''), one table per group. */
const groupKeys = new WeakMap<readonly LoadedRule[], Map<string, readonly string[]>>();

function ruleKeysOf(capId: string, rules: readonly LoadedRule[]): readonly string[] {
  let byCap = groupKeys.get(rules);
  if (byCap === undefined) groupKeys.set(rules, (byCap = new Map()));
  let keys = byCap.get(capId);
  if (keys === undefined) byCap.set(capId, (keys = rules.map((rule) => ruleKey(capId, rule))));
  return keys;
}

function causeOf(capId: string, evaluation: Evaluation | undefined, context: CauseContext): UnblockCause {
  if (context.rolled.has(capId)) return 'window-reset';
  if (evaluation?.facts.agentOverride === true) return 'override';
  const event = context.event;
  switch (event.type) {
    case 'payment':
      return 'payment';
    case 'adjustment':
      return event.amount < 0 ? 'credit' : 'rule-cleared';
    case 'dispute':
      return 'dispute';
    case 'override':
      return 'override';
    case 'usage':
    case 'location':
      return context.zoneChanged ? 'left-zone' : 'rule-cleared';
    default:
      return 'rule-cleared';
  }
}

/**
 * Level-triggered restrictions and edge-triggered notices. The restrictions the rules want now are
 * compared with those in force: new ones are imposed, ones no rule wants are lifted, in this same
 * decision. A notice rule fires when it goes from not matching to matching, once per cap and window,
 * and re-arms when it stops matching. An active agent override wants no restriction on its cap.
 * Changes the draft's `restrictions` and `notices`.
 *
 * @example
 * const { imposed, lifted, fired } = reconcile(draft, evaluations, { event, zoneChanged, rolled }, now);
 */
export function reconcile(
  draft: SubscriberState,
  evaluations: readonly Evaluation[],
  context: CauseContext,
  now: number,
): Reconciled {
  // The restrictions the rules want, in rule order (a decision has a handful: a list costs less than a
  // table); a wanted one still in force is taken out of the list as it is found.
  const wanted: Wanted[] = [];
  const fired: Fired[] = [];
  for (const evaluation of evaluations) {
    const capId = evaluation.cap?.id ?? '';
    const suppressed = evaluation.facts.agentOverride === true;
    const rules = evaluation.rules;
    const keys = ruleKeysOf(capId, rules);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const matches = evaluation.matched.has(rule.name);
      const kind = rule.event.type;
      if (kind === 'block' || kind === 'throttle') {
        if (matches && !suppressed) wanted.push({ capId, ruleId: rule.name, rule, evaluation });
        continue;
      }
      const key = keys[i]!;
      if (!matches) {
        // Re-arm; most rules were not armed, and a delete of a key that is not there still costs.
        if (Object.prototype.hasOwnProperty.call(draft.notices, key)) delete draft.notices[key];
      } else if (getOwn(draft.notices, key) !== evaluation.window) {
        setOwn(draft.notices, key, evaluation.window);
        fired.push({ rule, evaluation });
      }
    }
  }

  if (context.restrictionsUnchanged === true) return { imposed: [], lifted: [], fired };
  const kept: Restriction[] = [];
  const liftedRestrictions: Restriction[] = [];
  for (const restriction of draft.restrictions) {
    const at = wanted.findIndex((w) => w.capId === restriction.capId && w.ruleId === restriction.ruleId);
    if (at !== -1) {
      kept.push(restriction);
      wanted.splice(at, 1);
    } else liftedRestrictions.push(restriction);
  }
  const imposed: Imposed[] = [];
  for (const { rule, evaluation } of wanted) {
    // A copy: the decision's state must never share arrays with the loaded policy.
    const scope = rule.scope!.map((pair) => ({ ...pair }));
    const kind = rule.event.type as 'block' | 'throttle';
    const restriction: Restriction = {
      capId: evaluation.cap!.id,
      ruleId: rule.name,
      kind,
      scope,
      ...(rule.event.type === 'throttle' ? { kbps: rule.event.params.kbps } : {}),
      since: now,
      actionId: actionId({
        subscriberId: draft.profile.subscriberId,
        capId: evaluation.cap!.id,
        ruleId: rule.name,
        window: evaluation.window,
        kind,
        scope,
        causeEventId: context.event.id,
      }),
    };
    imposed.push({ restriction, rule, evaluation });
  }
  // A new list only when the restrictions in force change.
  if (imposed.length > 0 || liftedRestrictions.length > 0)
    draft.restrictions = [...kept, ...imposed.map((i) => i.restriction)];

  const lifted: Lifted[] = [];
  if (liftedRestrictions.length === 0) return { imposed, lifted, fired };
  const held = new Set<string>();
  for (const r of draft.restrictions)
    for (const p of r.scope) held.add(`${r.kind}\u0000${pairKey(p.service, p.zone)}`);
  for (const restriction of liftedRestrictions) {
    // A pair another restriction of the same kind still holds is not free; a pair an earlier lift in
    // this decision already freed is said once.
    const scope = restriction.scope.filter((p) => {
      const key = `${restriction.kind}\u0000${pairKey(p.service, p.zone)}`;
      if (held.has(key)) return false;
      held.add(key);
      return true;
    });
    if (scope.length === 0) continue;
    const evaluation = evaluations.find((e) => e.cap !== null && e.cap.id === restriction.capId);
    lifted.push({
      restriction,
      scope,
      cause: causeOf(restriction.capId, evaluation, context),
      rule: evaluation?.rules.find((r) => r.name === restriction.ruleId),
      evaluation,
    });
  }
  return { imposed, lifted, fired };
}
