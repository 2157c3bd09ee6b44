import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, loadPolicy, type SubscriberState } from '../../src/index';
import { reconcile, type Evaluation } from '../../src/reconcile/reconcile';
import type { Facts } from '../../src/schema/facts';
import { profile, shippedPolicyJson, SUB } from '../support/fixtures';

const policy = loadPolicy(shippedPolicyJson());
const cap = policy.capById.get('roaming-data')!;
const engine = createEngine(policy);
const facts = (extra: Partial<Facts> = {}) => ({ agentOverride: false, ...extra }) as Facts;
const evaluation = (matched: string[], extra: Partial<Facts> = {}, window = '2026-11-01'): Evaluation => ({
  cap,
  rules: cap.rules,
  facts: facts(extra),
  matched: new Set(matched),
  window,
});
const tick = { type: 'tick' as const, id: 't', subscriberId: SUB, at: '2026-11-02T10:00:00Z' };
const payment = {
  type: 'payment' as const,
  id: 'p',
  subscriberId: SUB,
  at: '2026-11-02T10:00:00Z',
  amount: 1,
  currency: 'PLN',
  reference: 'r',
};
const fresh = (): SubscriberState => engine.init(profile);

describe('reconcile', () => {
  it('imposes what the rules want and is not in force, once', () => {
    const draft = fresh();
    const first = reconcile(
      draft,
      [evaluation(['roaming-data-block-100'])],
      { event: tick, zoneChanged: false, rolled: new Set() },
      1,
    );
    expect(first.imposed.map((i) => i.restriction.ruleId)).toEqual(['roaming-data-block-100']);
    const again = reconcile(
      draft,
      [evaluation(['roaming-data-block-100'])],
      { event: tick, zoneChanged: false, rolled: new Set() },
      2,
    );
    expect(again.imposed).toEqual([]);
    expect(draft.restrictions).toHaveLength(1);
    expect(draft.restrictions[0]!.since).toBe(1);
  });

  it('lifts what no rule wants any more, with the cause the event gives', () => {
    const draft = fresh();
    reconcile(
      draft,
      [evaluation(['roaming-data-block-100'])],
      { event: tick, zoneChanged: false, rolled: new Set() },
      1,
    );
    const lifted = reconcile(
      draft,
      [evaluation([])],
      { event: payment, zoneChanged: false, rolled: new Set() },
      2,
    ).lifted;
    expect(lifted.map((l) => [l.restriction.ruleId, l.cause])).toEqual([
      ['roaming-data-block-100', 'payment'],
    ]);
    expect(draft.restrictions).toEqual([]);
  });

  it('a rolled window outranks the event as the cause; an agent override suppresses the restriction', () => {
    const draft = fresh();
    reconcile(
      draft,
      [evaluation(['roaming-data-block-100'])],
      { event: tick, zoneChanged: false, rolled: new Set() },
      1,
    );
    const rolled = reconcile(
      structuredClone(draft),
      [evaluation([])],
      { event: payment, zoneChanged: false, rolled: new Set([cap.id]) },
      2,
    );
    expect(rolled.lifted[0]!.cause).toBe('window-reset');
    const suppressed = reconcile(
      draft,
      [evaluation(['roaming-data-block-100'], { agentOverride: true })],
      { event: tick, zoneChanged: false, rolled: new Set() },
      2,
    );
    expect(suppressed.lifted[0]!.cause).toBe('override');
  });

  it('fires a notice on the rising edge only, once per window, and re-arms when the rule stops matching (property)', () => {
    // Each step: does the warning rule match, and in which window.
    const step = fc.record({ matches: fc.boolean(), window: fc.constantFrom('2026-11-01', '2026-12-01') });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const draft = fresh();
        let previous: { matches: boolean; window: string } | undefined;
        for (const s of steps) {
          const fired = reconcile(
            draft,
            [evaluation(s.matches ? ['roaming-data-warn-80'] : [], {}, s.window)],
            { event: tick, zoneChanged: false, rolled: new Set() },
            1,
          ).fired;
          const expected = s.matches && !(previous?.matches === true && previous.window === s.window);
          expect(fired.length).toBe(expected ? 1 : 0);
          previous = s;
        }
      }),
    );
  });
});
