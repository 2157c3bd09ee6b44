import type { Facts } from '../schema/facts.js';
import type { LoadedCap, LoadedRule, Policy } from '../policy/types.js';
import type { Restriction, SubscriberState, WindowTotals } from '../schema/state.js';
import { getOwn } from '../schema/records.js';
import { compiledOf } from '../rules/conditions.js';
import { MONEY_FACTS, writeMoneyFacts } from '../ledger/facts.js';
import { spendOf } from '../ledger/ledger.js';

/** The ways a restriction can end, found by asking the rule what-if questions. */
export interface LiftOptions {
  /** The smallest payment (minor units) after which the rule no longer matches; absent if none does. */
  readonly payment?: number;
  /** Whether a customer opt-in would end it. */
  readonly optIn: boolean;
  /** When the window ends, if a fresh window would end it. */
  readonly windowEnd?: number;
  /** Whether coming home would end it. */
  readonly returnHome: boolean;
}

/**
 * What would lift a restriction, asked of the rule itself rather than guessed from its text: the
 * smallest payment that makes it stop matching (binary search over the payment, the rule's answer
 * being monotone in it for every threshold rule), and whether an opt-in, a new window or coming home
 * would end it.
 *
 * @example
 * const lift = liftOptions(rule, cap, totals, facts, homeCountry); // { payment: 1201, optIn: true, ... }
 */
export function liftOptions(
  rule: LoadedRule,
  cap: LoadedCap,
  totals: WindowTotals,
  facts: Facts,
  homeCountry: string,
): LiftOptions {
  const holds = compiledOf(rule.conditions);
  // One copy of the facts, changed in place for each question asked (and put back after).
  const probe: Facts = { ...facts };
  let payment: number | undefined;
  if (cap.measure === 'cost') {
    const withPayment = (extra: number) => {
      writeMoneyFacts(probe, cap, totals, extra);
      return holds(probe);
    };
    let hi = Math.max(0, spendOf(totals) - totals.paid) + cap.limit + 1;
    if (!withPayment(hi)) {
      let lo = 0;
      // Invariant: the rule holds with `lo` paid and not with `hi` paid.
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (withPayment(mid)) lo = mid;
        else hi = mid;
      }
      payment = hi;
    }
  }
  // Each question changes only the facts it is about, and puts them back (the payment search changed
  // only the money facts). Written out: this runs for every restriction imposed.
  // A fresh window: nothing charged, credited, disputed or paid.
  writeMoneyFacts(probe, cap, EMPTY_TOTALS);
  const windowEnd = holds(probe) ? undefined : totals.end;
  for (const key of MONEY_FACTS) (probe as Record<string, unknown>)[key] = facts[key];
  let optIn = false;
  if (facts.optedIn === false) {
    probe.optedIn = true;
    optIn = !holds(probe);
    probe.optedIn = facts.optedIn;
  }
  let returnHome = false;
  if (facts.roaming === true) {
    probe.zone = 'home';
    probe.roaming = false;
    probe.country = homeCountry;
    returnHome = !holds(probe);
  }
  return liftOf(payment !== undefined && payment > 0 ? payment : undefined, optIn, windowEnd, returnHome);
}

/** The totals of a window nothing has been counted in (only its money is read). */
const EMPTY_TOTALS: WindowTotals = Object.freeze({
  key: '',
  start: 0,
  end: 0,
  charged: 0,
  credited: 0,
  disputed: 0,
  paid: 0,
});

/** Lift options with their keys in one order, the optional ones only when set (no spreads: per action). */
function liftOf(
  payment: number | undefined,
  optIn: boolean,
  windowEnd: number | undefined,
  returnHome: boolean,
): LiftOptions {
  if (payment !== undefined) {
    return windowEnd !== undefined
      ? { payment, optIn, windowEnd, returnHome }
      : { payment, optIn, returnHome };
  }
  return windowEnd !== undefined ? { optIn, windowEnd, returnHome } : { optIn, returnHome };
}

/**
 * What lifts a restriction for the subscriber: every restriction of the same kind that holds any of
 * its pairs must end, so the advice is what ends all of them (the largest payment, an opt-in only when
 * every one yields to it, the latest window end). Advice for one rule alone could name a payment after
 * which another cap still holds the very same pairs.
 *
 * @example
 * const lift = liftForScope(state, policy, restriction, (cap) => capFacts(state, cap, subscriber, now));
 */
export function liftForScope(
  state: SubscriberState,
  policy: Policy,
  restriction: Restriction,
  factsOf: (cap: LoadedCap) => Facts,
): LiftOptions {
  const overlaps = (r: Restriction) =>
    r.kind === restriction.kind &&
    r.scope.some((p) => restriction.scope.some((q) => q.service === p.service && q.zone === p.zone));
  const holders = [restriction, ...state.restrictions.filter((r) => r !== restriction && overlaps(r))];
  const lifts: LiftOptions[] = [];
  for (const holder of holders) {
    const cap = policy.capById.get(holder.capId);
    const rule = cap?.rules.find((r) => r.name === holder.ruleId);
    const totals = cap === undefined ? undefined : getOwn(state.caps, cap.id)?.cur;
    if (cap === undefined || rule === undefined || totals == null) continue;
    lifts.push(liftOptions(rule, cap, totals, factsOf(cap), state.profile.homeCountry));
  }
  if (lifts.length === 0) return liftOf(undefined, false, undefined, false);
  if (lifts.length === 1) return lifts[0]!;
  // What ends all of them: the largest payment and the latest window end, if every one has one.
  let { payment, optIn, windowEnd, returnHome } = lifts[0]!;
  for (let i = 1; i < lifts.length; i++) {
    const l = lifts[i]!;
    payment = payment === undefined || l.payment === undefined ? undefined : Math.max(payment, l.payment);
    windowEnd =
      windowEnd === undefined || l.windowEnd === undefined ? undefined : Math.max(windowEnd, l.windowEnd);
    optIn &&= l.optIn;
    returnHome &&= l.returnHome;
  }
  return liftOf(payment, optIn, windowEnd, returnHome);
}
