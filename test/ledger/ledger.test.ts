import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, loadPolicy, EventSchema, type SubscriberState } from '../../src/index';
import { advanceClock, applyEvent, horizonOf, spendOf } from '../../src/ledger/ledger';
import { checkEvent } from '../../src/ledger/check-event';
import { profile, shippedPolicyJson, SUB } from '../support/fixtures';

const policy = loadPolicy(shippedPolicyJson());
const engine = createEngine(policy);

/** Applies events straight through the ledger (no rules), as the engine does before evaluating. */
function fold(events: unknown[], state: SubscriberState = engine.init(profile)) {
  let draft = structuredClone(state);
  const outcomes: string[] = [];
  for (const raw of events) {
    const event = EventSchema.parse(raw);
    const at = Date.parse(event.at);
    if (checkEvent(draft, policy, event, at).length > 0) {
      outcomes.push('rejected');
      continue;
    }
    draft = structuredClone(draft);
    advanceClock(draft, policy, Math.max(draft.clock ?? at, at));
    outcomes.push(applyEvent(draft, policy, event, at).late ? 'late' : 'applied');
  }
  return { state: draft, outcomes };
}

const usage = (id: string, at: string, service: string, country: string, amount: number) => ({
  type: 'usage',
  id,
  subscriberId: SUB,
  at,
  service,
  country,
  cost: { amount, currency: 'PLN' },
});

describe('ledger', () => {
  it('counts usage in every cap whose scope holds it, in integer minor units', () => {
    const { state } = fold([
      usage('a', '2026-11-02T10:00:00Z', 'data', 'DE', 1234),
      usage('b', '2026-11-02T11:00:00Z', 'voice', 'DE', 99),
      usage('c', '2026-11-02T12:00:00Z', 'data', 'PL', 1),
    ]);
    expect(state.caps['roaming-data']!.cur!.charged).toBe(1234);
    expect(state.caps['bill']!.cur!.charged).toBe(1334);
  });

  it('keeps the current and the previous window, and forgets the one before', () => {
    const { state } = fold([
      usage('a', '2026-10-05T10:00:00Z', 'data', 'DE', 100),
      usage('b', '2026-11-05T10:00:00Z', 'data', 'DE', 200),
      usage('c', '2026-12-05T10:00:00Z', 'data', 'DE', 300),
    ]);
    const slot = state.caps['roaming-data']!;
    expect([slot.prev!.key, slot.prev!.charged, slot.cur!.key, slot.cur!.charged]).toEqual([
      '2026-11-01',
      200,
      '2026-12-01',
      300,
    ]);
  });

  it('drops the previous window when the clock jumps more than one window', () => {
    const { state } = fold([
      usage('a', '2026-09-05T10:00:00Z', 'data', 'DE', 100),
      usage('b', '2026-12-05T10:00:00Z', 'data', 'DE', 1),
    ]);
    expect(state.caps['roaming-data']!.prev).toBeNull();
    const late = fold([usage('c', '2026-11-20T10:00:00Z', 'data', 'DE', 7)], state);
    expect(late.outcomes).toEqual(['late']);
    expect(late.state.caps['roaming-data']!.prev).toMatchObject({ key: '2026-11-01', charged: 7 });
  });

  it('forgets event ids older than the horizon, and rejects events older than it', () => {
    const { state } = fold([
      usage('a', '2026-10-05T10:00:00Z', 'data', 'DE', 1),
      usage('b', '2026-12-05T10:00:00Z', 'data', 'DE', 1),
    ]);
    expect(horizonOf(state)).toBe(Date.parse('2026-10-31T23:00:00Z'));
    expect(state.seen).toEqual({ ids: ['b'], at: [Date.parse('2026-12-05T10:00:00Z')] });
    expect(fold([usage('a', '2026-10-05T10:00:00Z', 'data', 'DE', 1)], state).outcomes).toEqual(['rejected']);
  });

  it('payments lower every cost cap in their window; open disputes and credits lower spend', () => {
    const { state } = fold([
      usage('a', '2026-11-02T10:00:00Z', 'data', 'DE', 10_000),
      {
        type: 'payment',
        id: 'p',
        subscriberId: SUB,
        at: '2026-11-03T10:00:00Z',
        amount: 2_500,
        currency: 'PLN',
        reference: 'r',
      },
      {
        type: 'dispute',
        id: 'd',
        subscriberId: SUB,
        at: '2026-11-03T11:00:00Z',
        reference: 'C',
        amount: 1_000,
        status: 'open',
      },
      {
        type: 'adjustment',
        id: 'j',
        subscriberId: SUB,
        at: '2026-11-03T12:00:00Z',
        amount: -500,
        reference: 'r',
        reason: 'x',
      },
    ]);
    for (const capId of ['roaming-data', 'bill']) {
      const totals = state.caps[capId]!.cur!;
      expect(totals).toMatchObject({ charged: 10_000, paid: 2_500, disputed: 1_000, credited: 500 });
      expect(spendOf(totals)).toBe(8_500);
    }
  });

  it('conserves money: spend is exactly charges less credits less open disputes (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('usage' as const), amount: fc.integer({ min: 0, max: 10 ** 12 }) }),
      fc.record({ kind: fc.constant('credit' as const), amount: fc.integer({ min: 1, max: 10 ** 12 }) }),
      fc.record({
        kind: fc.constant('dispute' as const),
        amount: fc.integer({ min: 1, max: 10 ** 12 }),
        fate: fc.constantFrom('open', 'upheld', 'rejected'),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const events: unknown[] = [];
        let expected = 0;
        ops.forEach((o, i) => {
          const at = new Date(Date.parse('2026-11-02T00:00:00Z') + i * 60_000).toISOString();
          if (o.kind === 'usage') {
            events.push(usage(`u${i}`, at, 'data', 'DE', o.amount));
            expected += o.amount;
          } else if (o.kind === 'credit') {
            events.push({
              type: 'adjustment',
              id: `c${i}`,
              subscriberId: SUB,
              at,
              amount: -o.amount,
              reference: 'r',
              reason: 'x',
            });
            expected -= o.amount;
          } else {
            events.push({
              type: 'dispute',
              id: `d${i}`,
              subscriberId: SUB,
              at,
              reference: `R${i}`,
              amount: o.amount,
              status: 'open',
            });
            if (o.fate !== 'open') {
              events.push({
                type: 'dispute',
                id: `e${i}`,
                subscriberId: SUB,
                at,
                reference: `R${i}`,
                amount: o.amount,
                status: o.fate,
              });
            }
            if (o.fate !== 'rejected') expected -= o.amount;
          }
        });
        const { state } = fold(events);
        if (events.length > 0) expect(spendOf(state.caps['roaming-data']!.cur!)).toBe(expected);
      }),
    );
  });
});
