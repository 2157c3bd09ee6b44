import type { Facts } from '../schema/facts.js';
import type { SpendEvent } from '../schema/events.js';
import type { SubscriberState, WindowTotals } from '../schema/state.js';
import type { LoadedCap, Policy } from '../policy/types.js';
import { daysLeftInWindow } from '../window/index.js';
import { getOwn } from '../schema/records.js';
import { spendOf } from './ledger.js';

const MS_PER_DAY = 86_400_000;

/** Facts about the subscriber and the triggering event, shared by every cap. */
export type SubscriberFacts = Pick<
  Facts,
  | 'zone'
  | 'country'
  | 'roaming'
  | 'previousZone'
  | 'zoneChanged'
  | 'eventType'
  | 'eventService'
  | 'eventZone'
  | 'tenureMonths'
  | 'segment'
  | 'openDisputes'
  | 'disputedAmount'
  | 'oldestOpenDisputeDays'
>;

/** What the triggering event contributes to the facts. */
export interface EventContext {
  readonly type: SpendEvent['type'];
  readonly service: string | null;
  readonly zone: string | null;
  readonly previousZone: string;
  readonly zoneChanged: boolean;
}

/**
 * The event context of an applied event.
 *
 * @example
 * eventContext(policy, state, event, applied.previousZone, applied.zoneChanged);
 */
export function eventContext(
  policy: Policy,
  state: SubscriberState,
  event: SpendEvent,
  previousZone: string,
  zoneChanged: boolean,
): EventContext {
  const country = event.type === 'usage' || event.type === 'location' ? event.country : null;
  return {
    type: event.type,
    service: event.type === 'usage' ? event.service : null,
    zone: country === null ? null : policy.zoneOf(country, state.profile.homeCountry),
    previousZone,
    zoneChanged,
  };
}

/**
 * Facts every rule may see, at time `now`.
 *
 * @example
 * subscriberFacts(state, context, now).roaming; // true while abroad
 */
export function subscriberFacts(state: SubscriberState, context: EventContext, now: number): SubscriberFacts {
  let openDisputes = 0;
  let disputedAmount = 0;
  let oldest = Infinity;
  for (const dispute of Object.values(state.disputes)) {
    if (dispute.status !== 'open') continue;
    openDisputes++;
    disputedAmount += dispute.amount;
    oldest = Math.min(oldest, dispute.openedAt);
  }
  return {
    zone: state.location.zone,
    country: state.location.country,
    roaming: state.location.zone !== 'home',
    previousZone: context.previousZone,
    zoneChanged: context.zoneChanged,
    eventType: context.type,
    eventService: context.service,
    eventZone: context.zone,
    tenureMonths: state.profile.tenureMonths ?? null,
    segment: state.profile.segment ?? null,
    openDisputes,
    disputedAmount,
    oldestOpenDisputeDays: openDisputes === 0 ? null : Math.max(0, Math.floor((now - oldest) / MS_PER_DAY)),
  };
}

/** Money facts of a cap from its totals, so the "what would lift it" analysis can vary `paid`. */
export function moneyFacts(cap: LoadedCap, totals: WindowTotals, extraPaid = 0) {
  const spend = spendOf(totals);
  const paid = cap.measure === 'cost' ? totals.paid + extraPaid : 0;
  const outstanding = spend - paid;
  return {
    spend,
    paid,
    outstanding,
    limit: cap.limit,
    usageRatio: outstanding / cap.limit,
    remaining: cap.limit - outstanding,
  };
}

/**
 * All facts of one cap at time `now`: the money facts of its current window, its overrides, and the
 * subscriber facts.
 *
 * @example
 * const facts = capFacts(state, cap, subscriber, now); facts.usageRatio;
 */
export function capFacts(
  state: SubscriberState,
  cap: LoadedCap,
  subscriber: SubscriberFacts,
  now: number,
): Facts {
  const totals = getOwn(state.caps, cap.id)!.cur!;
  const overrides = getOwn(state.overrides, cap.id);
  return {
    ...moneyFacts(cap, totals),
    ...subscriber,
    optedIn: overrides?.customer !== undefined && now < overrides.customer.until,
    agentOverride: overrides?.agent !== undefined && now < overrides.agent.until,
    daysLeftInWindow: daysLeftInWindow({ kind: cap.window, ...totals }, now),
  };
}

/** Facts for a rule without a cap: the subscriber facts, and null for every cap fact. */
export function caplessFacts(subscriber: SubscriberFacts): Facts {
  return {
    ...subscriber,
    spend: null,
    paid: null,
    outstanding: null,
    limit: null,
    usageRatio: null,
    remaining: null,
    optedIn: null,
    agentOverride: null,
    daysLeftInWindow: null,
  };
}
