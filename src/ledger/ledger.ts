import type { Issue } from '../errors.js';
import type { LoadedCap, Policy } from '../policy/types.js';
import type { SpendEvent } from '../schema/events.js';
import type { SubscriberState, WindowTotals } from '../schema/state.js';
import { previousWindow, windowAt, type BillingWindow } from '../window/index.js';
import { dictionary, getOwn, setOwn } from '../schema/records.js';

/**
 * The ledger: a pure fold of events into per-cap, per-window totals in integer minor units. Functions
 * here change the draft state they are given (the engine hands them a private copy).
 */

/** Empty totals for a window. */
export function emptyTotals(window: BillingWindow): WindowTotals {
  return {
    key: window.key,
    start: window.start,
    end: window.end,
    charged: 0,
    credited: 0,
    disputed: 0,
    paid: 0,
  };
}

/**
 * Spend in a window: charges, less credits, less open disputes.
 *
 * @example
 * spendOf({ charged: 500, credited: 100, disputed: 50, paid: 0, key: '', start: 0, end: 1 }); // 350
 */
export function spendOf(totals: WindowTotals): number {
  return totals.charged - totals.credited - totals.disputed;
}

/** The billing cycle containing `instant` for this subscriber. */
export function cycleAt(state: SubscriberState, instant: number): BillingWindow {
  return windowAt('cycle', instant, state.profile.timeZone, state.profile.cycleAnchorDay);
}

/**
 * The earliest instant the ledger still keeps: the start of the billing cycle before the one containing
 * the clock. Anything older is rejected; anything newer is counted.
 */
export function horizonOf(state: SubscriberState): number | null {
  if (state.clock === null) return null;
  const { timeZone, cycleAnchorDay } = state.profile;
  return previousWindow(cycleAt(state, state.clock), timeZone, cycleAnchorDay).start;
}

export const NOTHING_ROLLED: ReadonlySet<string> = new Set();

/**
 * Moves the clock to `now`, rolling every cap's window that `now` has left: the current window becomes
 * the previous one (kept for late records), and the one before is forgotten. Returns the caps rolled.
 *
 * `clockCycle`, when given, is the billing cycle that contains the draft's clock before the move, for a
 * state this engine has kept since its windows were computed: a cap whose current window still contains
 * `now` is then left alone without asking for its window again, and the ids and disputes that fell
 * behind the horizon are only looked for when the cycle changes (the horizon moves only then);
 * `clockHorizon` is the horizon of that cycle. `ids`, when given, is an index of `draft.seen.ids` kept in
 * step with it.
 */
export function advanceClock(
  draft: SubscriberState,
  policy: Policy,
  now: number,
  clockCycle?: BillingWindow,
  clockHorizon?: number,
  ids?: Set<string>,
): ReadonlySet<string> {
  let rolled: Set<string> | null = null;
  const { timeZone, cycleAnchorDay } = draft.profile;
  const caps = policy.caps;
  for (let i = 0; i < caps.length; i++) {
    const cap = caps[i]!;
    const slot = getOwn(draft.caps, cap.id) ?? setOwn(draft.caps, cap.id, { cur: null, prev: null });
    const cur = slot.cur;
    if (clockCycle !== undefined && cur !== null && now >= cur.start && now < cur.end) continue;
    const window = windowAt(cap.window, now, timeZone, cycleAnchorDay);
    if (cur === null) {
      slot.cur = emptyTotals(window);
    } else if (window.start !== cur.start || window.end !== cur.end) {
      // Moving on keeps the window before as `prev` when it is adjacent. A window that changed shape
      // (the policy changed the cap's window, or the profile its anchor) starts afresh.
      slot.prev = cur.end === window.start ? cur : null;
      slot.cur = emptyTotals(window);
      (rolled ??= new Set()).add(cap.id);
    }
  }
  draft.clock = draft.clock === null ? now : Math.max(draft.clock, now);
  // Ids are applied at or after the horizon, so only a move of the horizon leaves any behind it. A
  // dispute opened before the horizon is kept while open, and goes once it is decided.
  const horizon = clockCycle === undefined || draft.clock >= clockCycle.end ? horizonOf(draft)! : null;
  if (horizon !== null) forgetIds(draft.seen, horizon, ids);
  for (const reference in draft.disputes) {
    if (!Object.prototype.hasOwnProperty.call(draft.disputes, reference)) continue;
    const dispute = draft.disputes[reference]!;
    if (dispute.status !== 'open' && dispute.openedAt < (horizon ?? clockHorizon!))
      delete draft.disputes[reference];
  }
  for (const capId in draft.overrides) {
    if (!Object.prototype.hasOwnProperty.call(draft.overrides, capId)) continue;
    const overrides = draft.overrides[capId]!;
    if (overrides.customer !== undefined && overrides.customer.until <= now) delete overrides.customer;
    if (overrides.agent !== undefined && overrides.agent.until <= now) delete overrides.agent;
    if (overrides.customer === undefined && overrides.agent === undefined) delete draft.overrides[capId];
  }
  return rolled ?? NOTHING_ROLLED;
}

/** Forgets the ids applied before `horizon` (and takes them out of the index `ids`, when given). */
function forgetIds(seen: SubscriberState['seen'], horizon: number, ids?: Set<string>): void {
  const list = seen.ids;
  const times = seen.at;
  let kept = 0;
  for (let i = 0; i < list.length; i++) {
    if (times[i]! >= horizon) {
      list[kept] = list[i]!;
      times[kept++] = times[i]!;
    } else ids?.delete(list[i]!);
  }
  list.length = kept;
  times.length = kept;
}

/**
 * The kept window of `cap` that contains `at`, or null when it is older than the previous window.
 */
function landingWindow(draft: SubscriberState, cap: LoadedCap, at: number): WindowTotals | null {
  const slot = getOwn(draft.caps, cap.id)!;
  const cur = slot.cur!;
  if (at >= cur.start) return cur;
  if (slot.prev !== null) return at >= slot.prev.start ? slot.prev : null;
  const before = previousWindow(
    { kind: cap.window, ...cur },
    draft.profile.timeZone,
    draft.profile.cycleAnchorDay,
  );
  if (at < before.start) return null;
  slot.prev = emptyTotals(before);
  return slot.prev;
}

/** Whether a usage of `service` in `zone` counts towards `cap`. */
export function inCapScope(cap: LoadedCap, service: string, zone: string): boolean {
  return cap.services.has(service) && cap.zones.has(zone);
}

/** Whether a cap counts every service in every zone: the whole bill. */
export function isAccountWide(policy: Policy, cap: LoadedCap): boolean {
  return cap.scope.length === policy.services.length * policy.zoneNames.length;
}

/**
 * The caps money without a `capId` goes to. Money that lowers spend (a payment, a credit, a dispute)
 * lowers every cost cap, as a payment lowers the whole outstanding balance. A charge without a `capId`
 * raises only the account-wide cost caps: a correction to a domestic call must not push roaming data
 * over its limit.
 */
export function moneyCaps(policy: Policy, capId: string | undefined, raises: boolean): LoadedCap[] {
  if (capId !== undefined) return [policy.capById.get(capId)!];
  return policy.caps.filter((cap) => cap.measure === 'cost' && (!raises || isAccountWide(policy, cap)));
}

/** The events that post money or usage to windows: only these can be late. */
const LEDGER_EVENTS: ReadonlySet<SpendEvent['type']> = new Set(['usage', 'payment', 'adjustment', 'dispute']);

/** What applying an event did, beyond the totals. */
export interface Applied {
  /**
   * A usage, payment, adjustment or dispute dated before the current billing cycle: counted in its own
   * window, and it neither moves the subscriber nor changes a restriction of the current window.
   */
  readonly late: boolean;
  /** Caps the event could not be counted in, and why (nothing is dropped silently). */
  readonly notes: Issue[];
  /** The zone before the event, and whether the event moved the subscriber. */
  readonly previousZone: string;
  readonly zoneChanged: boolean;
}

/**
 * Folds one validated, checked event into the draft state at time `at` (epoch ms). The clock must already
 * have been advanced to at least `at`; `clockCycle` is the billing cycle containing it. `ids`, when given, is an
 * index of `draft.seen.ids`, and the event's id is added to it too.
 */
export function applyEvent(
  draft: SubscriberState,
  policy: Policy,
  event: SpendEvent,
  at: number,
  clockCycle: BillingWindow = cycleAt(draft, draft.clock!),
  ids?: Set<string>,
): Applied {
  const notes: Issue[] = [];
  const late = LEDGER_EVENTS.has(event.type) && at < clockCycle.start;
  const previousZone = draft.location.zone;
  // No closure here: one would make every call allocate a context for the variables it captures, the
  // usage records that are most events included (the money events build theirs in `counterFor`).

  switch (event.type) {
    case 'usage': {
      // Written without closures: this is the one branch run for most events.
      const zone = policy.zoneOf(event.country, draft.profile.homeCountry);
      const caps = policy.caps;
      for (let i = 0; i < caps.length; i++) {
        const cap = caps[i]!;
        if (!inCapScope(cap, event.service, zone)) continue;
        let amount: number;
        let path: string;
        if (cap.measure === 'cost') {
          amount = event.cost.amount;
          path = '$.cost.amount';
        } else if (event.quantity === undefined) {
          notes.push({
            code: 'not_counted',
            path: '$.quantity',
            message: `no quantity: not counted towards quantity cap '${cap.id}' (${cap.unit})`,
            severity: 'warning',
          });
          continue;
        } else if (event.unit !== cap.unit) {
          notes.push({
            code: 'not_counted',
            path: '$.unit',
            message: `quantity in '${event.unit ?? 'no unit'}' not counted towards cap '${cap.id}', which counts '${cap.unit}'`,
            severity: 'warning',
          });
          continue;
        } else {
          amount = event.quantity;
          path = '$.quantity';
        }
        const totals = landingWindow(draft, cap, at);
        if (totals === null) notes.push(notCounted(cap, path, event));
        else totals.charged += amount;
      }
      moveTo(draft, policy, event.country, at, late);
      break;
    }
    case 'location':
      moveTo(draft, policy, event.country, at, late);
      break;
    case 'payment':
      applyPayment(draft, policy, event, at, notes);
      break;
    case 'adjustment':
      applyAdjustment(draft, policy, event, at, notes);
      break;
    case 'dispute':
      applyDispute(draft, policy, event, at, counterFor(draft, event, at, notes), notes);
      break;
    case 'override': {
      const cap = policy.capById.get(event.capId)!;
      const until =
        event.until === 'window-end'
          ? windowAt(cap.window, at, draft.profile.timeZone, draft.profile.cycleAnchorDay).end
          : Date.parse(event.until);
      const slot = getOwn(draft.overrides, cap.id) ?? setOwn(draft.overrides, cap.id, {});
      slot[event.by] = {
        until,
        reason: event.reason,
        eventId: event.id,
        ...(event.agentId !== undefined ? { agentId: event.agentId } : {}),
      };
      break;
    }
    case 'tick':
      break;
  }
  draft.seen.ids.push(event.id);
  draft.seen.at.push(at);
  ids?.add(event.id);
  return { late, notes, previousZone, zoneChanged: draft.location.zone !== previousZone };
}

/** Counts into the window of a cap an event at `at` lands in, or notes that it is no longer kept. */
function counterFor(
  draft: SubscriberState,
  event: SpendEvent,
  at: number,
  notes: Issue[],
): (cap: LoadedCap, apply: (totals: WindowTotals) => void, path: string) => void {
  return (cap, apply, path) => {
    const totals = landingWindow(draft, cap, at);
    if (totals === null) notes.push(notCounted(cap, path, event));
    else apply(totals);
  };
}

function applyPayment(
  draft: SubscriberState,
  policy: Policy,
  event: Extract<SpendEvent, { type: 'payment' }>,
  at: number,
  notes: Issue[],
): void {
  const count = counterFor(draft, event, at, notes);
  for (const cap of moneyCaps(policy, undefined, false))
    count(cap, (t) => (t.paid += event.amount), '$.amount');
}

function applyAdjustment(
  draft: SubscriberState,
  policy: Policy,
  event: Extract<SpendEvent, { type: 'adjustment' }>,
  at: number,
  notes: Issue[],
): void {
  const count = counterFor(draft, event, at, notes);
  for (const cap of moneyCaps(policy, event.capId, event.amount > 0)) {
    count(
      cap,
      (t) => (event.amount > 0 ? (t.charged += event.amount) : (t.credited -= event.amount)),
      '$.amount',
    );
  }
}

function notCounted(cap: LoadedCap, path: string, event: SpendEvent): Issue {
  return {
    code: 'not_counted',
    path,
    message: `not counted towards cap '${cap.id}': its ${cap.window} window containing ${event.at} is no longer kept`,
    severity: 'warning',
  };
}

/** The subscriber is where its latest (not late) usage or location event says. */
function moveTo(draft: SubscriberState, policy: Policy, country: string, at: number, late: boolean): void {
  const location = draft.location;
  if (!late && (location.at === null || at >= location.at)) {
    // In place: the draft's location is its own (a copy, or a state `run` owns).
    location.country = country;
    location.zone = policy.zoneOf(country, draft.profile.homeCountry);
    location.at = at;
  }
}

function applyDispute(
  draft: SubscriberState,
  policy: Policy,
  event: Extract<SpendEvent, { type: 'dispute' }>,
  at: number,
  count: (cap: LoadedCap, apply: (t: WindowTotals) => void, path: string) => void,
  notes: Issue[],
) {
  const record = getOwn(draft.disputes, event.reference);
  const windowOf = (capId: string, key: string): WindowTotals | null => {
    const slot = getOwn(draft.caps, capId);
    if (slot?.cur?.key === key) return slot.cur;
    if (slot?.prev?.key === key) return slot.prev;
    return null;
  };
  if (record === undefined) {
    // Opening, or a dispute decided before spendcap heard it was opened (upheld: a credit at once).
    const targets: Record<string, string> = {};
    for (const cap of moneyCaps(policy, event.capId, false)) {
      count(
        cap,
        (t) => {
          if (event.status === 'open') t.disputed += event.amount;
          else t.credited += event.amount;
          setOwn(targets, cap.id, t.key);
        },
        '$.amount',
      );
    }
    // The first dispute turns the record into a dictionary-mode one: its keys are data (see `dictionary`).
    if (Object.keys(draft.disputes).length === 0) draft.disputes = dictionary();
    setOwn(draft.disputes, event.reference, {
      amount: event.amount,
      status: event.status,
      openedAt: at,
      targets,
    });
    return;
  }
  // open -> upheld | rejected (checked before): the open amount stops being disputed.
  for (const [capId, key] of Object.entries(record.targets)) {
    const totals = windowOf(capId, key);
    if (totals === null) {
      notes.push({
        code: 'not_counted',
        path: '$.status',
        message: `dispute '${event.reference}' is ${event.status}, but cap '${capId}' no longer keeps the window it was opened in (${key}): its totals are unchanged`,
        severity: 'warning',
      });
      continue;
    }
    totals.disputed -= record.amount;
    if (event.status === 'upheld') totals.credited += event.amount;
  }
  record.status = event.status;
}
