import type { Facts } from '../schema/facts.js';
import type { LoadedCap, LoadedRule } from '../policy/types.js';
import type { WindowTotals } from '../schema/state.js';
import { testCondition } from '../rules/conditions.js';
import { moneyFacts } from '../ledger/facts.js';

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
  const holds = (f: Facts) => testCondition(rule.conditions, f);
  let payment: number | undefined;
  if (cap.measure === 'cost') {
    const withPayment = (extra: number) => holds({ ...facts, ...moneyFacts(cap, totals, extra) });
    let hi = Math.max(0, totals.charged - totals.credited - totals.disputed - totals.paid) + cap.limit + 1;
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
  const fresh = moneyFacts(cap, { ...totals, charged: 0, credited: 0, disputed: 0, paid: 0 });
  const windowEnd = holds({ ...facts, ...fresh }) ? undefined : totals.end;
  return {
    ...(payment !== undefined && payment > 0 ? { payment } : {}),
    optIn: facts.optedIn === false && !holds({ ...facts, optedIn: true }),
    ...(windowEnd !== undefined ? { windowEnd } : {}),
    returnHome:
      facts.roaming === true && !holds({ ...facts, zone: 'home', roaming: false, country: homeCountry }),
  };
}
