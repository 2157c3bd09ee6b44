import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type PolicyDocument } from '../../src/index';
import { streamArb, type Stream, variantStreamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import {
  budget,
  capPairs,
  describeStep,
  pairKey,
  processStream,
  ruleOf,
  rulePairs,
} from '../arbitraries/harness';
import { loadCached, SHIPPED, SHIPPED_DOMAIN, SHIPPED_JSON, VARIANT_JSON } from '../arbitraries/policies';

// Invariant 1, scoped: a block or throttle never names a (service, zone) outside the scope of the cap
// whose rule fired. Scopes are read from the policy document here, not from the loaded policy.

async function checkScoped(doc: PolicyDocument, stream: Stream) {
  const engine = createEngine(loadCached(doc));
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    for (const action of step.decision.actions) {
      if (action.kind !== 'block' && action.kind !== 'throttle') continue;
      const where = describeStep(step);
      const rule = ruleOf(doc, action.ruleId);
      expect(rule.cap, `the rule of ${action.kind} in ${where}`).toBe(action.capId);
      expect(rule.event.type, where).toBe(action.kind);
      const pairs = action.scope.map(pairKey);
      const inCap = capPairs(doc, action.capId!);
      expect(
        pairs.filter((p) => !inCap.has(p)),
        `pairs outside cap '${action.capId}' in ${where}`,
      ).toEqual([]);
      // Concrete and sorted, and exactly the rule's scope.
      expect(pairs, where).toEqual([...rulePairs(doc, rule)].sort());
      expect(action.scope, where).toEqual(
        [...action.scope].sort((a, b) => a.service.localeCompare(b.service) || a.zone.localeCompare(b.zone)),
      );
    }
    for (const r of step.decision.state.restrictions) {
      const inCap = capPairs(doc, r.capId);
      expect(
        r.scope.map(pairKey).filter((p) => !inCap.has(p)),
        `restriction in force after ${describeStep(step)}`,
      ).toEqual([]);
    }
  }
}

describe('invariant 1: scoped', () => {
  it('blocks only roaming data when the roaming-data cap is reached', async () => {
    const engine = createEngine(SHIPPED);
    const state = engine.init(S1_PROFILE);
    const { actions } = await engine.process(state, {
      type: 'usage',
      id: 'u1',
      subscriberId: 's1',
      at: '2026-03-02T10:00:00+01:00',
      service: 'data',
      country: 'DE',
      cost: { amount: 20_000, currency: 'PLN' },
    });
    const block = actions.find((a) => a.kind === 'block');
    expect(block).toMatchObject({
      capId: 'roaming-data',
      scope: [
        { service: 'data', zone: 'eu' },
        { service: 'data', zone: 'world' },
      ],
    });
  });

  it('throttles only the scope a variant rule names inside its cap', async () => {
    const engine = createEngine(loadCached(VARIANT_JSON));
    const state = engine.init(S1_PROFILE);
    const { actions } = await engine.process(state, {
      type: 'usage',
      id: 'u1',
      subscriberId: 's1',
      at: '2026-03-02T10:00:00+01:00',
      service: 'data',
      country: 'DE',
      cost: { amount: 5_000, currency: 'EUR' },
    });
    expect(actions.filter((a) => a.kind === 'throttle')).toMatchObject([
      {
        capId: 'daily-roaming',
        ruleId: 'daily-throttle',
        scope: [{ service: 'data', zone: 'eu' }],
        kbps: 128,
      },
    ]);
  });

  it('holds on generated streams under the shipped policy', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), (stream) => checkScoped(SHIPPED_JSON, stream)),
      budget(),
    );
  });

  it('holds on generated streams under generated variant policies', async () => {
    await fc.assert(
      fc.asyncProperty(variantStreamArb(), ({ doc, stream }) => checkScoped(doc, stream)),
      budget(50),
    );
  });
});
