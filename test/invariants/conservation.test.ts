import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createEngine,
  type Decision,
  type PolicyDocument,
  type SubscriberProfile,
  type SubscriberState,
} from '../../src/index';
import { streamArb, type EventJson, type Label, variantStreamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import {
  budget,
  capPairs,
  describeStep,
  pairKey,
  processStream,
  zoneOf,
  type Processed,
} from '../arbitraries/harness';
import {
  domainOf,
  loadCached,
  SHIPPED,
  SHIPPED_DOMAIN,
  SHIPPED_JSON,
  VARIANT_JSON,
} from '../arbitraries/policies';

// Invariant 6, conservation: a cap's `spend` is exactly charged - credited - disputed of the events
// applied in its window, in integers. The model below is an independent ledger written from the spec:
// it predicts each event's outcome (applied, late, duplicate, rejected) and the totals of every kept
// window, and the engine must agree after every event. Its windows come from `Intl` alone (the local
// calendar date of an instant in the subscriber's zone), not from the library's window module.

interface Totals {
  charged: number;
  credited: number;
  disputed: number;
  paid: number;
}

const zero = (): Totals => ({ charged: 0, credited: 0, disputed: 0, paid: 0 });

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The local calendar date (YYYY-MM-DD) of an instant in a time zone. */
function localDate(instant: number, timeZone: string): string {
  let f = dateFormats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return `${parts['year']}-${parts['month']}-${parts['day']}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The date a cycle anchored on `anchor` starts in month `m` (1-12) of year `y`: day 31 means the last day. */
function anchorDate(y: number, m: number, anchor: number): string {
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${y}-${pad(m)}-${pad(Math.min(anchor, days))}`;
}

/** The cycle key (its first local date) of the cycle holding a local date, and the key of the one before. */
function cycleKeys(date: string, anchor: number): { key: string; previous: string } {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const before = (yy: number, mm: number): [number, number] => (mm === 1 ? [yy - 1, 12] : [yy, mm - 1]);
  const here = anchorDate(y, m, anchor);
  const [py, pm] = before(y, m);
  if (date >= here) return { key: here, previous: anchorDate(py, pm, anchor) };
  return { key: anchorDate(py, pm, anchor), previous: anchorDate(...before(py, pm), anchor) };
}

function previousDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** The ledger of one subscriber, from the spec (sections 2 and 4), in exact integers. */
class LedgerModel {
  clock: number | null = null;
  readonly seen = new Map<string, number>();
  readonly disputes = new Map<
    string,
    { amount: number; status: string; openedAt: number; targets: Map<string, string> }
  >();
  /** `capId|windowKey` -> totals. */
  readonly totals = new Map<string, Totals>();

  constructor(
    readonly doc: PolicyDocument,
    readonly profile: SubscriberProfile,
  ) {}

  /** The key of the window of `kind` holding an instant, and of the window before it. */
  window(kind: 'cycle' | 'day', instant: number): { key: string; previous: string } {
    const date = localDate(instant, this.profile.timeZone);
    return kind === 'day'
      ? { key: date, previous: previousDay(date) }
      : cycleKeys(date, this.profile.cycleAnchorDay);
  }

  /** Whether an instant lies before the window with this key (windows start on their first local date). */
  before(instant: number, key: string): boolean {
    return localDate(instant, this.profile.timeZone) < key;
  }

  /** The kept windows of a cap: the one holding the clock and the one before it. */
  kept(kind: 'cycle' | 'day'): { cur: string; prev: string } {
    const { key, previous } = this.window(kind, this.clock!);
    return { cur: key, prev: previous };
  }

  at(capId: string, key: string): Totals {
    const k = `${capId}|${key}`;
    let t = this.totals.get(k);
    if (t === undefined) this.totals.set(k, (t = zero()));
    return t;
  }

  /** Adds to the window of `capId` holding `at`, when that window is still kept; returns its key. */
  land(capId: string, at: number, apply: (t: Totals) => void): string | null {
    const cap = this.doc.caps.find((c) => c.id === capId)!;
    if (this.before(at, this.kept(cap.window).prev)) return null;
    const key = this.window(cap.window, at).key;
    apply(this.at(capId, key));
    return key;
  }

  /** Money lowering spend goes to every cost cap; a charge without a capId only to account-wide ones. */
  costCaps(capId: unknown, raises = false): string[] {
    if (typeof capId === 'string') return [capId];
    const everything = this.doc.services.length * (Object.keys(this.doc.zones).length + 2);
    return this.doc.caps
      .filter(
        (c) => (c.measure ?? 'cost') === 'cost' && (!raises || capPairs(this.doc, c.id).size === everything),
      )
      .map((c) => c.id);
  }

  /** Applies an event and returns the outcome the spec expects. */
  process(input: unknown, label: Label): Decision['outcome'] {
    if (label.kind === 'invalid') return 'rejected';
    const e = input as EventJson;
    if (this.seen.has(e.id)) return 'duplicate';
    const at = Date.parse(e.at);
    // The ledger keeps the current and the previous billing cycle; anything older is refused.
    if (this.clock !== null && this.before(at, this.window('cycle', this.clock).previous)) return 'rejected';
    if (e.type === 'dispute') {
      const record = this.disputes.get(e['reference'] as string);
      const allowed =
        record === undefined
          ? e['status'] !== 'rejected'
          : record.status === 'open' && e['status'] !== 'open';
      if (!allowed) return 'rejected';
    }
    if (e.type === 'adjustment' && e['capId'] === undefined && (e['amount'] as number) > 0) {
      if (this.costCaps(undefined, true).length === 0) return 'rejected';
    }
    this.clock = Math.max(this.clock ?? at, at);
    const { key: cycle, previous: horizon } = this.window('cycle', this.clock);
    for (const [id, t] of this.seen) if (this.before(t, horizon)) this.seen.delete(id);
    for (const [ref, d] of this.disputes)
      if (d.status !== 'open' && this.before(d.openedAt, horizon)) this.disputes.delete(ref);
    // Only what posts to a window can be late; a location, an override or a tick acts on the present.
    const late = ['usage', 'payment', 'adjustment', 'dispute'].includes(e.type) && this.before(at, cycle);
    this.apply(e, at);
    this.seen.set(e.id, at);
    return late ? 'late' : 'applied';
  }

  apply(e: EventJson, at: number): void {
    switch (e.type) {
      case 'usage': {
        const zone = zoneOf(this.doc, e['country'] as string, this.profile.homeCountry);
        const pair = pairKey({ service: e['service'] as string, zone });
        for (const cap of this.doc.caps) {
          if (!capPairs(this.doc, cap.id).has(pair)) continue;
          if ((cap.measure ?? 'cost') === 'cost') {
            const amount = (e['cost'] as { amount: number }).amount;
            this.land(cap.id, at, (t) => (t.charged += amount));
          } else if (e['quantity'] !== undefined && e['unit'] === cap.unit) {
            const quantity = e['quantity'] as number;
            this.land(cap.id, at, (t) => (t.charged += quantity));
          }
        }
        break;
      }
      case 'payment':
        for (const capId of this.costCaps(undefined))
          this.land(capId, at, (t) => (t.paid += e['amount'] as number));
        break;
      case 'adjustment': {
        const amount = e['amount'] as number;
        for (const capId of this.costCaps(e['capId'], amount > 0)) {
          this.land(capId, at, (t) => (amount > 0 ? (t.charged += amount) : (t.credited += -amount)));
        }
        break;
      }
      case 'dispute': {
        const reference = e['reference'] as string;
        const amount = e['amount'] as number;
        const record = this.disputes.get(reference);
        if (record === undefined) {
          const targets = new Map<string, string>();
          for (const capId of this.costCaps(e['capId'])) {
            const key = this.land(capId, at, (t) =>
              e['status'] === 'open' ? (t.disputed += amount) : (t.credited += amount),
            );
            if (key !== null) targets.set(capId, key);
          }
          this.disputes.set(reference, { amount, status: e['status'] as string, openedAt: at, targets });
          break;
        }
        for (const [capId, key] of record.targets) {
          const cap = this.doc.caps.find((c) => c.id === capId)!;
          const { cur, prev } = this.kept(cap.window);
          if (key !== cur && key !== prev) continue;
          const t = this.at(capId, key);
          t.disputed -= record.amount;
          if (e['status'] === 'upheld') t.credited += amount;
        }
        record.status = e['status'] as string;
        break;
      }
      default:
    }
  }
}

function checkTotals(
  model: LedgerModel,
  state: SubscriberState,
  step: Processed,
  explainSpend: (capId: string) => unknown,
) {
  if (model.clock === null) return;
  for (const cap of model.doc.caps) {
    const slot = state.caps[cap.id];
    const { cur, prev } = model.kept(cap.window);
    const where = `cap '${cap.id}' after ${describeStep(step)}`;
    expect(slot?.cur?.key, `current window of ${where}`).toBe(cur);
    const { key: _k, start: _s, end: _e, ...curTotals } = slot!.cur!;
    const want = model.totals.get(`${cap.id}|${cur}`) ?? zero();
    expect(curTotals, `totals of the current window of ${where}`).toEqual(want);
    const prevWant = model.totals.get(`${cap.id}|${prev}`) ?? zero();
    if (slot!.prev === null) {
      expect(prevWant, `previous window of ${where} (the engine keeps none)`).toEqual(zero());
    } else {
      const { key, start: _ps, end: _pe, ...prevTotals } = slot!.prev;
      expect(key, `previous window of ${where}`).toBe(prev);
      expect(prevTotals, `totals of the previous window of ${where}`).toEqual(prevWant);
    }
    if ((cap.measure ?? 'cost') === 'cost') {
      for (const v of Object.values(curTotals))
        expect(Number.isSafeInteger(v), `integer totals of ${where}`).toBe(true);
    }
    expect(explainSpend(cap.id), `spend fact of ${where}`).toBe(want.charged - want.credited - want.disputed);
  }
}

async function checkConservation(doc: PolicyDocument, stream: Parameters<typeof processStream>[1]) {
  const engine = createEngine(loadCached(doc));
  const { steps } = await processStream(engine, stream);
  const models = new Map(stream.profiles.map((p) => [p.subscriberId, new LedgerModel(doc, p)]));
  for (const step of steps) {
    const model = models.get(step.host)!;
    const expected = model.process(step.event, step.label);
    expect(step.decision.outcome, `outcome of ${describeStep(step)}`).toBe(expected);
    const state = step.decision.state;
    checkTotals(model, state, step, (capId) => engine.explain(state).caps[capId]?.['spend']);
  }
}

const profile: SubscriberProfile = S1_PROFILE;

const base = { subscriberId: 's1' };
const usage = (id: string, at: string, amount: number, country = 'DE') => ({
  ...base,
  type: 'usage',
  id,
  at,
  service: 'data',
  country,
  cost: { amount, currency: 'PLN' },
});

describe('invariant 6: conservation', () => {
  const engine = createEngine(SHIPPED);

  async function run(events: unknown[]) {
    let state = engine.init(profile);
    const decisions: Decision[] = [];
    for (const e of events) {
      const d = await engine.process(state, e);
      decisions.push(d);
      state = d.state;
    }
    return { state, decisions };
  }

  it('counts charges, credits and disputes exactly', async () => {
    const { state } = await run([
      usage('u1', '2026-03-02T10:00:00+01:00', 1_001),
      usage('u2', '2026-03-02T11:00:00+01:00', 2_002),
      {
        ...base,
        type: 'adjustment',
        id: 'a1',
        at: '2026-03-03T10:00:00Z',
        amount: -300,
        reference: 'R1',
        reason: 'refund',
      },
      {
        ...base,
        type: 'dispute',
        id: 'd1',
        at: '2026-03-04T10:00:00Z',
        reference: 'C-1',
        amount: 500,
        status: 'open',
      },
      {
        ...base,
        type: 'dispute',
        id: 'd2',
        at: '2026-03-04T11:00:00Z',
        reference: 'C-2',
        amount: 700,
        status: 'open',
      },
      {
        ...base,
        type: 'dispute',
        id: 'd3',
        at: '2026-03-05T10:00:00Z',
        reference: 'C-1',
        amount: 500,
        status: 'upheld',
      },
      {
        ...base,
        type: 'dispute',
        id: 'd4',
        at: '2026-03-05T11:00:00Z',
        reference: 'C-2',
        amount: 700,
        status: 'rejected',
      },
      {
        ...base,
        type: 'payment',
        id: 'p1',
        at: '2026-03-06T10:00:00Z',
        amount: 1_000,
        currency: 'PLN',
        reference: 'P',
      },
    ]);
    expect(state.caps['roaming-data']!.cur).toMatchObject({
      charged: 3_003,
      credited: 800,
      disputed: 0,
      paid: 1_000,
    });
    expect(engine.explain(state).caps['roaming-data']).toMatchObject({ spend: 2_203, outstanding: 1_203 });
  });

  it('takes an open dispute out of spend until it is decided', async () => {
    const { state } = await run([
      usage('u1', '2026-03-02T10:00:00Z', 4_000),
      {
        ...base,
        type: 'dispute',
        id: 'd1',
        at: '2026-03-04T10:00:00Z',
        reference: 'C-1',
        amount: 1_500,
        status: 'open',
      },
    ]);
    expect(engine.explain(state).caps['bill']).toMatchObject({ spend: 2_500 });
  });

  it('counts a late usage in its own (previous) window, not the current one', async () => {
    const { state, decisions } = await run([
      usage('u1', '2026-03-30T10:00:00Z', 1_000),
      usage('u2', '2026-04-02T10:00:00Z', 2_000),
      usage('u3', '2026-03-31T10:00:00Z', 4_000),
    ]);
    expect(decisions.map((d) => d.outcome)).toEqual(['applied', 'applied', 'late']);
    expect(state.caps['bill']!.cur).toMatchObject({ key: '2026-04-01', charged: 2_000 });
    expect(state.caps['bill']!.prev).toMatchObject({ key: '2026-03-01', charged: 5_000 });
  });

  it('holds on generated streams under the shipped policy', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), (stream) => checkConservation(SHIPPED_JSON, stream)),
      budget(),
    );
  });

  it('holds when event ids and dispute references are named like Object.prototype members', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN, { ids: 'prototype', subscribers: { max: 1 } }), (stream) =>
        checkConservation(SHIPPED_JSON, stream),
      ),
      budget(),
    );
  });

  it('holds on generated streams under the fixed variant policy (day window, quantity cap)', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(domainOf(VARIANT_JSON)), (stream) =>
        checkConservation(VARIANT_JSON, stream),
      ),
      budget(50),
    );
  });

  it('holds on generated streams under generated variant policies', async () => {
    await fc.assert(
      fc.asyncProperty(variantStreamArb(), ({ doc, stream }) => checkConservation(doc, stream)),
      budget(50),
    );
  });
});
