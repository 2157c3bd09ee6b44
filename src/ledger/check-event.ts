import type { Issue, IssueCode } from '../errors.js';
import type { Policy } from '../policy/types.js';
import type { SpendEvent } from '../schema/events.js';
import type { SubscriberState } from '../schema/state.js';
import { didYouMean } from '../schema/zod-issues.js';
import { horizonOf, moneyCaps } from './ledger.js';
import { windowAt } from '../window/index.js';
import { getOwn } from '../schema/records.js';

/**
 * The checks an event must pass against the policy and the subscriber's state before it is applied:
 * an event that fails any is rejected whole, and the state is unchanged.
 *
 * @example
 * const issues = checkEvent(state, policy, event, Date.parse(event.at));
 * if (issues.length > 0) return reject(issues);
 */
export function checkEvent(state: SubscriberState, policy: Policy, event: SpendEvent, at: number): Issue[] {
  const out: Issue[] = [];
  const fail = (code: IssueCode, path: string, message: string) =>
    out.push({ code, path, message, severity: 'error' });
  if (event.subscriberId !== state.profile.subscriberId) {
    fail(
      'subscriber_mismatch',
      '$.subscriberId',
      `event is for '${event.subscriberId}' but the state is '${state.profile.subscriberId}'`,
    );
  }
  const currency = (path: string, code: string | undefined) => {
    if (code !== undefined && code !== policy.currency) {
      fail('currency_mismatch', path, `found currency '${code}'; the policy counts in '${policy.currency}'`);
    }
  };
  const costCap = (capId: string | undefined) => {
    if (capId === undefined) return;
    const cap = policy.capById.get(capId);
    if (cap === undefined)
      fail('unknown_cap', '$.capId', `unknown cap '${capId}'${didYouMean(capId, policy.capById.keys())}`);
    else if (cap.measure !== 'cost')
      fail('invalid_value', '$.capId', `cap '${capId}' counts quantity, not money`);
  };
  switch (event.type) {
    case 'usage':
      if (!policy.services.includes(event.service)) {
        fail(
          'unknown_service',
          '$.service',
          `unknown service '${event.service}'${didYouMean(event.service, policy.services)} (the policy declares ${policy.services.join(', ')})`,
        );
      }
      currency('$.cost.currency', event.cost.currency);
      break;
    case 'payment':
      currency('$.currency', event.currency);
      break;
    case 'adjustment':
      currency('$.currency', event.currency);
      costCap(event.capId);
      if (event.capId === undefined && event.amount > 0 && moneyCaps(policy, undefined, true).length === 0) {
        fail(
          'missing_key',
          '$.capId',
          "a charge without 'capId' counts in the account-wide cost caps (every service, every zone), and this policy has none: name the cap",
        );
      }
      break;
    case 'dispute': {
      currency('$.currency', event.currency);
      costCap(event.capId);
      const record = getOwn(state.disputes, event.reference);
      const from = record?.status ?? 'none';
      const allowed =
        record === undefined
          ? event.status !== 'rejected'
          : record.status === 'open' && event.status !== 'open';
      if (!allowed) {
        fail(
          'invalid_transition',
          '$.status',
          `dispute '${event.reference}' cannot go from ${from} to ${event.status} (open -> upheld | rejected; a dispute can also arrive already upheld)`,
        );
      }
      break;
    }
    case 'override': {
      const cap = policy.capById.get(event.capId);
      if (cap === undefined) {
        fail(
          'unknown_cap',
          '$.capId',
          `unknown cap '${event.capId}'${didYouMean(event.capId, policy.capById.keys())}`,
        );
        break;
      }
      const { timeZone, cycleAnchorDay } = state.profile;
      const until =
        event.until === 'window-end'
          ? windowAt(cap.window, at, timeZone, cycleAnchorDay).end
          : Date.parse(event.until);
      const now = Math.max(state.clock ?? at, at);
      if (until <= now) {
        fail(
          'invalid_value',
          '$.until',
          `the override would end at ${new Date(until).toISOString()}, not after ${new Date(now).toISOString()}: it would never be in force`,
        );
      }
      break;
    }
    default:
  }
  // Totals stay exact integers: an amount that could take a kept window's total past
  // Number.MAX_SAFE_INTEGER is refused (the check is on the largest total kept, so it is conservative).
  if (!withinTotals(state, event)) {
    const amount = moneyOf(event);
    fail(
      'too_big',
      event.type === 'usage' ? '$.cost.amount' : '$.amount',
      `an amount of ${amount} would take a window's total past ${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER), where integer sums stop being exact`,
    );
  }
  const horizon = horizonOf(state);
  if (horizon !== null && at < horizon) {
    fail(
      'too_old',
      '$.at',
      `${event.at} is before ${new Date(horizon).toISOString()}, the start of the previous billing cycle: the ledger keeps only the current and the previous window`,
    );
  }
  return out;
}

/**
 * Whether the event's amount keeps every kept total of the state an exact integer (what `checkEvent`
 * refuses otherwise), for callers that skip `checkEvent` on events they know to be well-formed.
 */
export function withinTotals(state: SubscriberState, event: SpendEvent): boolean {
  const amount = moneyOf(event);
  return amount === 0 || amount <= Number.MAX_SAFE_INTEGER - largestTotal(state);
}

/** The money an event moves (its absolute amount), 0 for events that move none. */
function moneyOf(event: SpendEvent): number {
  switch (event.type) {
    case 'usage':
      return Math.max(event.cost.amount, event.quantity ?? 0);
    case 'payment':
    case 'adjustment':
    case 'dispute':
      return Math.abs(event.amount);
    default:
      return 0;
  }
}

/**
 * The largest total any kept window of the state holds.
 *
 * @example
 * largestTotal(state); // 0 for a fresh state
 */
export function largestTotal(state: SubscriberState): number {
  let largest = 0;
  for (const key in state.caps) {
    if (!Object.prototype.hasOwnProperty.call(state.caps, key)) continue;
    const slot = state.caps[key]!;
    if (slot.cur != null)
      largest = Math.max(largest, slot.cur.charged, slot.cur.credited, slot.cur.disputed, slot.cur.paid);
    if (slot.prev != null)
      largest = Math.max(largest, slot.prev.charged, slot.prev.credited, slot.prev.disputed, slot.prev.paid);
  }
  return largest;
}
