// A straightforward ledger fold, written for the benchmark (not the library's): per subscriber, per cap,
// the current and previous window's totals in integer minor units. It is the floor the engine is measured
// against (`floorEventsPerSec`) and the fact source of the naive baseline.
//
// What one `apply(event)` includes:
//   - the subscriber's ledger looked up (created on first sight from the profile);
//   - duplicate detection: a Set of the subscriber's applied event ids (never pruned here);
//   - `Date.parse` of `at`; the clock moved to max(clock, at);
//   - billing windows: a range check against the current window and, only when the clock leaves it, a
//     lookup in windows memoised per (kind, zone, anchor), filled by the library's `windowAt` (roll-over keeps the adjacent window as `prev`, as the engine does); the
//     too-old horizon (start of the cycle before the clock's) and `late` (a ledger event before the
//     clock's cycle) as the engine defines them;
//   - the totals: usage cost (or quantity, for quantity caps of the same unit) to every cap whose scope
//     holds (service, zone); payments to every cost cap; adjustments (charges to `capId` or the
//     account-wide cost caps, credits to `capId` or every cost cap); disputes (open: disputed, upheld:
//     credited, rejected: counts again; the windows they were opened in are remembered);
//   - the subscriber's location (country, zone) from usage and location events.
// What it leaves out: schema validation, policy checks of the event (currency, services, transitions),
// overrides, cloning, rule evaluation, reconciliation of restrictions, actions and explanations.

import { windowAt } from 'spendcap';

const LEDGER_EVENTS = new Set(['usage', 'payment', 'adjustment', 'dispute']);

/**
 * Billing windows memoised per (kind, zone, anchor): a short list of the windows met so far, searched by
 * range, filled by the library's `windowAt` on a miss.
 */
function windowMemo() {
  const memo = new Map();
  return function windowOf(kind, instant, timeZone, anchorDay) {
    const key = `${kind}|${timeZone}|${anchorDay}`;
    let list = memo.get(key);
    if (list === undefined) memo.set(key, (list = []));
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if (w.start <= instant && instant < w.end) return w;
    }
    const w = windowAt(kind, instant, timeZone, anchorDay);
    list.push(w);
    return w;
  };
}

function totals(window) {
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
 * @param {import('spendcap').Policy} policy a loaded policy (caps with expanded scopes, `zoneOf`)
 * @param {Map<string, object>} profilesById
 */
export function createLedger(policy, profilesById) {
  const caps = policy.caps;
  const costCaps = caps.map((cap, i) => i).filter((i) => caps[i].measure === 'cost');
  const allZones = policy.zoneNames.length;
  const accountWide = costCaps.filter(
    (i) => caps[i].services.size === policy.services.length && caps[i].zones.size === allZones,
  );
  const windowOf = windowMemo();
  const capIndex = new Map(caps.map((cap, i) => [cap.id, i]));
  /** subscriberId -> ledger */
  const ledgers = new Map();

  /** The outcome of the last `apply`, reused to avoid an allocation per event. */
  const last = { outcome: 'applied', ledger: null, now: 0, previousZone: 'home', zoneChanged: false };

  function ledgerOf(subscriberId) {
    let ledger = ledgers.get(subscriberId);
    if (ledger === undefined) {
      const profile = profilesById.get(subscriberId);
      ledger = {
        profile,
        clock: null,
        cycle: null, // the billing cycle holding the clock
        horizon: -Infinity,
        caps: caps.map(() => ({ cur: null, prev: null })),
        seen: new Set(),
        disputes: new Map(),
        country: profile.homeCountry,
        zone: 'home',
        locationAt: null,
      };
      ledgers.set(subscriberId, ledger);
    }
    return ledger;
  }

  function landing(ledger, i, at) {
    const slot = ledger.caps[i];
    const cur = slot.cur;
    if (at >= cur.start) return cur;
    if (slot.prev !== null) return at >= slot.prev.start ? slot.prev : null;
    const before = windowOf(
      caps[i].window,
      cur.start - 1,
      ledger.profile.timeZone,
      ledger.profile.cycleAnchorDay,
    );
    if (at < before.start) return null;
    slot.prev = totals(before);
    return slot.prev;
  }

  function moveTo(ledger, country, at, late) {
    if (!late && (ledger.locationAt === null || at >= ledger.locationAt)) {
      ledger.country = country;
      ledger.zone = policy.zoneOf(country, ledger.profile.homeCountry);
      ledger.locationAt = at;
    }
  }

  function apply(event) {
    const ledger = ledgerOf(event.subscriberId);
    last.ledger = ledger;
    if (ledger.seen.has(event.id)) {
      last.outcome = 'duplicate';
      return last;
    }
    const at = Date.parse(event.at);
    if (at < ledger.horizon) {
      last.outcome = 'rejected';
      return last;
    }
    const { timeZone, cycleAnchorDay, homeCountry } = ledger.profile;
    const now = ledger.clock === null ? at : Math.max(ledger.clock, at);
    ledger.clock = now;
    last.now = now;
    if (ledger.cycle === null || now >= ledger.cycle.end) {
      ledger.cycle = windowOf('cycle', now, timeZone, cycleAnchorDay);
      ledger.horizon = windowOf('cycle', ledger.cycle.start - 1, timeZone, cycleAnchorDay).start;
    }
    for (let i = 0; i < caps.length; i++) {
      const slot = ledger.caps[i];
      if (slot.cur !== null && now < slot.cur.end) continue;
      const window = windowOf(caps[i].window, now, timeZone, cycleAnchorDay);
      if (slot.cur === null) slot.cur = totals(window);
      else {
        slot.prev = slot.cur.end === window.start ? slot.cur : null;
        slot.cur = totals(window);
      }
    }
    const late = LEDGER_EVENTS.has(event.type) && at < ledger.cycle.start;
    const previousZone = ledger.zone;

    switch (event.type) {
      case 'usage': {
        const zone = policy.zoneOf(event.country, homeCountry);
        for (let i = 0; i < caps.length; i++) {
          const cap = caps[i];
          if (!cap.services.has(event.service) || !cap.zones.has(zone)) continue;
          if (cap.measure === 'cost') {
            const t = landing(ledger, i, at);
            if (t !== null) t.charged += event.cost.amount;
          } else if (event.quantity !== undefined && event.unit === cap.unit) {
            const t = landing(ledger, i, at);
            if (t !== null) t.charged += event.quantity;
          }
        }
        moveTo(ledger, event.country, at, late);
        break;
      }
      case 'location':
        moveTo(ledger, event.country, at, late);
        break;
      case 'payment':
        for (const i of costCaps) {
          const t = landing(ledger, i, at);
          if (t !== null) t.paid += event.amount;
        }
        break;
      case 'adjustment': {
        const targets =
          event.capId !== undefined ? [capIndex.get(event.capId)] : event.amount > 0 ? accountWide : costCaps;
        for (const i of targets) {
          const t = landing(ledger, i, at);
          if (t === null) continue;
          if (event.amount > 0) t.charged += event.amount;
          else t.credited -= event.amount;
        }
        break;
      }
      case 'dispute': {
        const record = ledger.disputes.get(event.reference);
        if (record === undefined) {
          const targets = [];
          for (const i of event.capId !== undefined ? [capIndex.get(event.capId)] : costCaps) {
            const t = landing(ledger, i, at);
            if (t === null) continue;
            if (event.status === 'open') t.disputed += event.amount;
            else t.credited += event.amount;
            targets.push(i, t.key);
          }
          ledger.disputes.set(event.reference, {
            amount: event.amount,
            status: event.status,
            openedAt: at,
            targets,
          });
        } else {
          for (let k = 0; k < record.targets.length; k += 2) {
            const slot = ledger.caps[record.targets[k]];
            const key = record.targets[k + 1];
            const t = slot.cur?.key === key ? slot.cur : slot.prev?.key === key ? slot.prev : null;
            if (t === null) continue;
            t.disputed -= record.amount;
            if (event.status === 'upheld') t.credited += event.amount;
          }
          record.status = event.status;
        }
        break;
      }
      default:
      // tick, override: nothing to count
    }
    ledger.seen.add(event.id);
    last.outcome = late ? 'late' : 'applied';
    last.previousZone = previousZone;
    last.zoneChanged = ledger.zone !== previousZone;
    return last;
  }

  return { apply, ledgers };
}

/** Spend in a window: charges, less credits, less open disputes. */
export function spendOf(t) {
  return t.charged - t.credited - t.disputed;
}
