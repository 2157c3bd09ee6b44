import type { Facts } from '../schema/facts.js';
import type { SpendEvent } from '../schema/events.js';
import type { SubscriberState, WindowTotals } from '../schema/state.js';
import type { LoadedCap, Policy } from '../policy/types.js';
import { getOwn } from '../schema/records.js';
import { spendOf } from './ledger.js';

const MS_PER_DAY = 86_400_000;

/** Facts about the subscriber and the triggering event, shared by every cap. */
export type SubscriberFacts = { -readonly [K in keyof SubscriberFactsRO]: SubscriberFactsRO[K] };
type SubscriberFactsRO = Pick<
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

/** The subscriber's open disputes: how many, their total, and when the oldest was opened. */
export interface OpenDisputes {
  readonly count: number;
  readonly amount: number;
  /** Epoch ms; Infinity when there is none. */
  readonly oldest: number;
}

/** The open disputes of a state. */
export function openDisputesOf(state: SubscriberState): OpenDisputes {
  let count = 0;
  let amount = 0;
  let oldest = Infinity;
  const disputes = state.disputes;
  for (const reference in disputes) {
    if (!Object.prototype.hasOwnProperty.call(disputes, reference)) continue;
    const dispute = disputes[reference]!;
    if (dispute.status !== 'open') continue;
    count++;
    amount += dispute.amount;
    oldest = Math.min(oldest, dispute.openedAt);
  }
  return { count, amount, oldest };
}

/**
 * Writes the facts every rule may see, at time `now`, into `into` (a new object, or one reused across
 * caps and events by the engine's fast path). `open`, the open disputes, is read from the state unless
 * the caller knows it (the fast path keeps it while the disputes do not change).
 */
export function writeSubscriberFacts(
  into: SubscriberFacts,
  state: SubscriberState,
  type: SpendEvent['type'],
  service: string | null,
  eventZone: string | null,
  previousZone: string,
  zoneChanged: boolean,
  now: number,
  open: OpenDisputes = openDisputesOf(state),
): void {
  const location = state.location;
  into.zone = location.zone;
  into.country = location.country;
  into.roaming = location.zone !== 'home';
  into.previousZone = previousZone;
  into.zoneChanged = zoneChanged;
  into.eventType = type;
  into.eventService = service;
  into.eventZone = eventZone;
  into.tenureMonths = state.profile.tenureMonths ?? null;
  into.segment = state.profile.segment ?? null;
  into.openDisputes = open.count;
  into.disputedAmount = open.amount;
  into.oldestOpenDisputeDays =
    open.count === 0 ? null : Math.max(0, Math.floor((now - open.oldest) / MS_PER_DAY));
}

/** Subscriber facts of a subscriber at home with no event yet, every key in place (to be written over). */
export function blankSubscriberFacts(): SubscriberFacts {
  return {
    zone: 'home',
    country: '',
    roaming: false,
    previousZone: 'home',
    zoneChanged: false,
    eventType: 'tick',
    eventService: null,
    eventZone: null,
    tenureMonths: null,
    segment: null,
    openDisputes: 0,
    disputedAmount: 0,
    oldestOpenDisputeDays: null,
  };
}

/** The names of the subscriber facts (every fact a rule without a cap may see). */
export const SUBSCRIBER_FACTS = [
  'zone',
  'country',
  'roaming',
  'previousZone',
  'zoneChanged',
  'eventType',
  'eventService',
  'eventZone',
  'tenureMonths',
  'segment',
  'openDisputes',
  'disputedAmount',
  'oldestOpenDisputeDays',
] as const satisfies readonly (keyof SubscriberFacts)[];

/** Fails to compile when a subscriber fact is missing from `SUBSCRIBER_FACTS`. */
type Never<T extends never> = T;
export type SubscriberFactsAllListed = Never<
  Exclude<keyof SubscriberFacts, (typeof SUBSCRIBER_FACTS)[number]>
>;

/** Copies the subscriber facts of `from` into `to`, leaving its cap facts as they are. */
export function copySubscriberFacts(from: SubscriberFacts, to: SubscriberFacts): void {
  // Written out (a loop over SUBSCRIBER_FACTS is a keyed access per name): this runs for every event.
  to.zone = from.zone;
  to.country = from.country;
  to.roaming = from.roaming;
  to.previousZone = from.previousZone;
  to.zoneChanged = from.zoneChanged;
  to.eventType = from.eventType;
  to.eventService = from.eventService;
  to.eventZone = from.eventZone;
  to.tenureMonths = from.tenureMonths;
  to.segment = from.segment;
  to.openDisputes = from.openDisputes;
  to.disputedAmount = from.disputedAmount;
  to.oldestOpenDisputeDays = from.oldestOpenDisputeDays;
}

/**
 * Facts every rule may see, at time `now`.
 *
 * @example
 * subscriberFacts(state, context, now).roaming; // true while abroad
 */
export function subscriberFacts(state: SubscriberState, context: EventContext, now: number): SubscriberFacts {
  // Made with every fact in place, so that writing them does not grow the object key by key.
  const out = blankSubscriberFacts();
  writeSubscriberFacts(
    out,
    state,
    context.type,
    context.service,
    context.zone,
    context.previousZone,
    context.zoneChanged,
    now,
  );
  return out;
}

/** The money facts of a cap. */
type MoneyFacts = Pick<Facts, (typeof MONEY_FACTS)[number]>;

/** The facts `writeMoneyFacts` writes (the lift analysis's payment search changes only these). */
export const MONEY_FACTS = ['spend', 'paid', 'outstanding', 'limit', 'usageRatio', 'remaining'] as const;

/**
 * Writes the money facts of a cap from its window's totals into `into`, with `extraPaid` more paid
 * (the "what would lift it" analysis varies it): the one place these facts are computed.
 */
export function writeMoneyFacts(into: MoneyFacts, cap: LoadedCap, totals: WindowTotals, extraPaid = 0): void {
  const spend = spendOf(totals);
  const paid = cap.measure === 'cost' ? totals.paid + extraPaid : 0;
  const outstanding = spend - paid;
  into.spend = spend;
  into.paid = paid;
  into.outstanding = outstanding;
  into.limit = cap.limit;
  into.usageRatio = outstanding / cap.limit;
  into.remaining = cap.limit - outstanding;
}

/** Money facts of a cap from its totals, as a new object. */
export function moneyFacts(cap: LoadedCap, totals: WindowTotals, extraPaid = 0): MoneyFacts {
  const facts: MoneyFacts = { spend: 0, paid: 0, outstanding: 0, limit: 0, usageRatio: 0, remaining: 0 };
  writeMoneyFacts(facts, cap, totals, extraPaid);
  return facts;
}

/**
 * Writes the facts of one cap (the money facts of its current window `totals`, its overrides and the
 * days left) into `into`, leaving the subscriber facts there as they are.
 */
export function writeCapFacts(
  into: Facts,
  cap: LoadedCap,
  totals: WindowTotals,
  overrides: SubscriberState['overrides'][string] | undefined,
  now: number,
): void {
  writeMoneyFacts(into, cap, totals);
  into.optedIn = overrides?.customer !== undefined && now < overrides.customer.until;
  into.agentOverride = overrides?.agent !== undefined && now < overrides.agent.until;
  // daysLeftInWindow's formula, without building a window object per cap and event.
  into.daysLeftInWindow = Math.max(0, Math.floor((totals.end - now) / MS_PER_DAY));
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
  const facts: Facts = {
    spend: 0,
    paid: 0,
    outstanding: 0,
    limit: 0,
    usageRatio: 0,
    remaining: 0,
    // The subscriber facts written out, in their order (a spread is a generic copy per cap and event).
    zone: subscriber.zone,
    country: subscriber.country,
    roaming: subscriber.roaming,
    previousZone: subscriber.previousZone,
    zoneChanged: subscriber.zoneChanged,
    eventType: subscriber.eventType,
    eventService: subscriber.eventService,
    eventZone: subscriber.eventZone,
    tenureMonths: subscriber.tenureMonths,
    segment: subscriber.segment,
    openDisputes: subscriber.openDisputes,
    disputedAmount: subscriber.disputedAmount,
    oldestOpenDisputeDays: subscriber.oldestOpenDisputeDays,
    optedIn: false,
    agentOverride: false,
    daysLeftInWindow: 0,
  };
  writeCapFacts(facts, cap, getOwn(state.caps, cap.id)!.cur!, getOwn(state.overrides, cap.id), now);
  return facts;
}

/** Facts for a rule without a cap: the subscriber facts, and null for every cap fact. */
export function caplessFacts(s: SubscriberFacts): Facts {
  return {
    zone: s.zone,
    country: s.country,
    roaming: s.roaming,
    previousZone: s.previousZone,
    zoneChanged: s.zoneChanged,
    eventType: s.eventType,
    eventService: s.eventService,
    eventZone: s.eventZone,
    tenureMonths: s.tenureMonths,
    segment: s.segment,
    openDisputes: s.openDisputes,
    disputedAmount: s.disputedAmount,
    oldestOpenDisputeDays: s.oldestOpenDisputeDays,
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
