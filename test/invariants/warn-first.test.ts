import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type Decision } from '../../src/index';
import { streamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { budget, describeStep, isRestricting, processStream, ratioThreshold } from '../arbitraries/harness';
import { SHIPPED, SHIPPED_DOMAIN, SHIPPED_JSON } from '../arbitraries/policies';

// Invariant 3, warn first: under the shipped policy, when every charge is smaller than the gap between a
// cap's warning threshold and its block threshold, the subscriber hears a notify about that cap before
// the cap's first block in each window.

/** The smallest gap, in minor units, between a cap's notify threshold and its block threshold. */
function smallestGap(): number {
  let gap = Infinity;
  for (const cap of SHIPPED_JSON.caps) {
    const rules = SHIPPED_JSON.rules.filter((r) => r.cap === cap.id);
    const warn = Math.min(
      ...rules.filter((r) => r.event.type === 'notify').map((r) => ratioThreshold(r) ?? Infinity),
    );
    const block = Math.min(...rules.filter(isRestricting).map((r) => ratioThreshold(r) ?? Infinity));
    gap = Math.min(gap, Math.round((block - warn) * cap.limit));
  }
  return gap;
}

const GAP = smallestGap();
const noticeRules = new Set(SHIPPED_JSON.rules.filter((r) => r.event.type === 'notify').map((r) => r.name));

describe('invariant 3: warn first', () => {
  const engine = createEngine(SHIPPED);
  const profile = S1_PROFILE;

  it('reads a gap of 20% of the roaming-data cap from the shipped policy', () => {
    expect(GAP).toBe(4_000);
  });

  it('warns at 80% of roaming data before blocking at 100%', async () => {
    let state = engine.init(profile);
    const kinds: string[][] = [];
    for (let i = 0; i < 6; i++) {
      const d: Decision = await engine.process(state, {
        type: 'usage',
        id: `u${i}`,
        subscriberId: 's1',
        at: `2026-03-0${i + 2}T10:00:00Z`,
        service: 'data',
        country: 'FR',
        cost: { amount: 3_999, currency: 'PLN' },
      });
      state = d.state;
      kinds.push(d.actions.map((a) => `${a.kind}:${a.ruleId}`));
    }
    expect(kinds[4]).toContain('notify:roaming-data-warn-80');
    expect(kinds[5]).toContain('block:roaming-data-block-100');
  });

  it('holds on generated streams with charges below the gap', async () => {
    let blocks = 0;
    await fc.assert(
      fc.asyncProperty(
        streamArb(SHIPPED_DOMAIN, {
          maxCharge: GAP - 1,
          subscribers: { max: 2 },
          minEvents: 30,
          weights: { usage: 90, payment: 2, adjustment: 2, override: 2 },
          homeShare: 10,
          dataShare: 85,
        }),
        async (stream) => {
          const { steps } = await processStream(engine, stream);
          // host|cap -> windows in which a notify about the cap was sent
          const warned = new Map<string, Set<string>>();
          for (const step of steps) {
            for (const action of step.decision.actions) {
              if (action.capId === null) continue;
              const key = `${step.host}|${action.capId}`;
              const window = step.decision.state.caps[action.capId]!.cur!.key;
              if (action.kind === 'notify' && noticeRules.has(action.ruleId)) {
                if (!warned.has(key)) warned.set(key, new Set());
                warned.get(key)!.add(window);
              }
              if (action.kind === 'block') {
                blocks++;
                expect(
                  warned.get(key)?.has(window) ?? false,
                  `a notify about cap '${action.capId}' in window ${window} before ${describeStep(step)}`,
                ).toBe(true);
              }
            }
          }
        },
      ),
      budget(),
    );
    expect(blocks).toBeGreaterThan(0);
  });
});
