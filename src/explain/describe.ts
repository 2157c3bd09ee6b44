import type { ConditionResult, Scope } from '../schema/actions.js';
import type { FactValue } from '../schema/facts.js';
import type { LoadedCap, Policy } from '../policy/types.js';
import { formatMoney, quantityFormatter } from './template.js';

/** What a sentence needs to name amounts: the cap (null for a rule without one) and the policy. */
export interface DescribeContext {
  readonly policy: Policy;
  readonly cap: LoadedCap | null;
  /** Locale for amounts in explanation sentences (they are written in English). */
  readonly locale: string;
}

const OPERATOR_WORDS: Readonly<Record<string, string>> = {
  equal: 'equal to',
  notEqual: 'not',
  lessThan: 'under',
  lessThanInclusive: 'at most',
  greaterThan: 'over',
  greaterThanInclusive: 'at least',
  in: 'one of',
  notIn: 'none of',
  contains: 'containing',
  doesNotContain: 'not containing',
};

const MONEY_FACTS = new Set(['spend', 'paid', 'outstanding', 'limit', 'remaining']);

/**
 * A cap amount for people: money formatted with `Intl` for cost caps, `N unit` for quantity caps.
 *
 * @example
 * formatAmount(20000, context); // 'PLN 200.00'
 */
export function formatAmount(amount: number, context: DescribeContext): string {
  return capAmount(amount, context.cap, context.policy.currency, context.locale);
}

/** `formatAmount` without a context object: a cap's amount in `locale`. */
export function capAmount(amount: number, cap: LoadedCap | null, currency: string, locale: string): string {
  if (cap?.measure === 'quantity') return `${quantityFormatter(locale).format(amount)} ${cap.unit}`;
  return formatMoney(Math.round(amount), currency, locale);
}

/** A ratio as a whole percentage, rounded down so "100%" is only said when the limit is reached. */
export function formatPercent(ratio: number): string {
  return `${percentOf(ratio)}%`;
}

/** The whole percentage `formatPercent` writes, without the sign. */
export function percentOf(ratio: number): number {
  return Math.floor(ratio * 100 + 1e-9);
}

function formatFact(fact: string, value: FactValue | readonly FactValue[], context: DescribeContext): string {
  if (Array.isArray(value)) return value.map((v) => formatFact(fact, v, context)).join(', ');
  if (value === null) return 'none';
  if (typeof value === 'number') {
    if (fact === 'usageRatio') return formatPercent(value);
    if (MONEY_FACTS.has(fact)) return formatAmount(value, context);
    if (fact === 'disputedAmount') return formatMoney(value, context.policy.currency, context.locale);
  }
  return String(value);
}

/**
 * One condition as words: "usage is at 85% of the roaming data limit (at least 80%)".
 *
 * @example
 * describeCondition(result, context);
 */
export function describeCondition(c: ConditionResult, context: DescribeContext): string {
  const label = context.cap?.label ?? 'the';
  const is = (value: FactValue) => formatFact(c.fact, value, context);
  const comparedFact =
    c.value !== null && typeof c.value === 'object' && !Array.isArray(c.value) ? `${c.value.fact} ` : '';
  const bound = `${OPERATOR_WORDS[c.operator] ?? c.operator} ${comparedFact}${formatFact(c.fact, c.compareTo, context)}`;
  const threshold = c.result ? bound : `needs ${bound}`;
  const bool = typeof c.factValue === 'boolean' ? c.factValue : null;
  switch (c.fact) {
    case 'usageRatio':
      return `usage is at ${is(c.factValue)} of the ${label} limit (${threshold})`;
    case 'spend':
      return `${label} spend is ${is(c.factValue)} (${threshold})`;
    case 'outstanding':
      return `${is(c.factValue)} of ${label} spend is unpaid (${threshold})`;
    case 'remaining':
      return `${is(c.factValue)} of the ${label} limit remains (${threshold})`;
    case 'optedIn':
      return bool ? 'the customer opted in to continue' : 'the customer has not opted in to continue';
    case 'agentOverride':
      return bool ? 'a care agent suspended the restrictions' : 'no care-agent override is active';
    case 'roaming':
      return bool ? 'the subscriber is roaming' : 'the subscriber is at home';
    case 'eventType':
      return `the event is a ${String(c.factValue)}`;
    case 'openDisputes':
      return `${String(c.factValue)} dispute(s) open (${threshold})`;
    case 'zone':
      return `the subscriber is in zone ${String(c.factValue)} (${threshold})`;
    case 'zoneChanged':
      return bool ? 'the subscriber has just moved to another zone' : 'the subscriber did not change zone';
    default:
      return `${c.fact} is ${is(c.factValue)} (${threshold})`;
  }
}

/**
 * The conditions that explain an outcome, joined: the true ones for a match, the false ones for a
 * rule that stopped matching.
 *
 * @example
 * explainConditions(results, true, context); // 'usage is at 100% of ... and the customer has not opted in ...'
 */
export function explainConditions(
  results: readonly ConditionResult[],
  matched: boolean,
  context: DescribeContext,
): string {
  const chosen = results.filter((c) => c.result === matched);
  const list = (chosen.length > 0 ? chosen : results).map((c) => describeCondition(c, context));
  if (list.length <= 1) return list[0] ?? 'its conditions hold';
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/**
 * A scope as words: "data while roaming (eu, world)", "voice at home".
 *
 * @example
 * describeScope([{ service: 'data', zone: 'eu' }, { service: 'data', zone: 'world' }], policy);
 */
export function describeScope(scope: Scope, policy: Policy): string {
  // A policy's rules restrict few distinct scopes, described for every action, notice, `because` and
  // care note: each is worded once per policy. The last few are found by comparing their pairs (mostly
  // the policy's own strings, equal at a glance), the others by a key made of the pairs (a table per
  // scope array would add an entry for every restriction ever imposed).
  let known = scopeTexts.get(policy);
  if (known === undefined) scopeTexts.set(policy, (known = { recent: [], byKey: new Map() }));
  const recent = known.recent;
  for (let i = 0; i < recent.length; i++) {
    const r = recent[i]!;
    if (samePairs(r.scope, scope)) return r.text;
  }
  let key = '';
  for (const pair of scope) key += `${pair.service}\u0000${pair.zone}\u0001`;
  let text = known.byKey.get(key);
  if (text === undefined) {
    text = scopeText(scope, policy);
    if (known.byKey.size >= MAX_SCOPE_TEXTS) known.byKey.clear();
    known.byKey.set(key, text);
  }
  const copy = scope.map((p) => ({ service: p.service, zone: p.zone }));
  if (recent.length >= RECENT_SCOPES) recent.pop();
  recent.unshift({ scope: copy, text });
  return text;
}

function samePairs(a: Scope, b: Scope): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.service !== b[i]!.service || a[i]!.zone !== b[i]!.zone) return false;
  }
  return true;
}

interface ScopeTexts {
  /** The scopes described last (copies), most recent first. */
  readonly recent: { readonly scope: Scope; readonly text: string }[];
  readonly byKey: Map<string, string>;
}

/** How many scopes `describeScope` compares before it builds a key. */
const RECENT_SCOPES = 8;

const scopeTexts = new WeakMap<Policy, ScopeTexts>();
/** Bounds the table for a policy whose restrictions have many scopes (per-service zone lists). */
const MAX_SCOPE_TEXTS = 1000;

function scopeText(scope: Scope, policy: Policy): string {
  const byService = new Map<string, string[]>();
  for (const { service, zone } of scope) byService.set(service, [...(byService.get(service) ?? []), zone]);
  const roamingZones = policy.zoneNames.filter((z) => z !== 'home');
  const parts: string[] = [];
  for (const [service, zones] of byService) {
    const all = zones.length === policy.zoneNames.length;
    const roaming = !zones.includes('home') && zones.length === roamingZones.length;
    if (all) parts.push(`${service} everywhere`);
    else if (roaming) parts.push(`${service} while roaming (${zones.join(', ')})`);
    else if (zones.length === 1 && zones[0] === 'home') parts.push(`${service} at home`);
    else parts.push(`${service} in ${zones.join(', ')}`);
  }
  return parts.join('; ');
}
