import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type PolicyDocument } from '../../src/index';
import { streamArb, type Stream, variantStreamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { budget, describeStep, processStream, restrictionActions } from '../arbitraries/harness';
import { loadCached, SHIPPED, SHIPPED_DOMAIN, SHIPPED_JSON, VARIANT_JSON } from '../arbitraries/policies';

// Invariant 10, never silent: every decision with a block, throttle or unblock also tells the subscriber,
// with a notify about exactly that scope.

let restrictionsSeen = 0;

async function checkNeverSilent(doc: PolicyDocument, stream: Stream) {
  const engine = createEngine(loadCached(doc));
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    const { actions } = step.decision;
    for (const action of restrictionActions(actions)) {
      restrictionsSeen++;
      const notices = actions.filter(
        (a) =>
          a.kind === 'notify' &&
          a.subscriberId === action.subscriberId &&
          JSON.stringify(a.scope) === JSON.stringify(action.scope),
      );
      expect(
        notices.length,
        `a notify about the scope of ${action.kind} ${JSON.stringify(action.scope)} in ${describeStep(step)}`,
      ).toBeGreaterThanOrEqual(1);
      for (const n of notices) {
        expect(
          n.kind === 'notify' && n.message.trim().length > 0,
          `a non-empty message in ${describeStep(step)}`,
        ).toBe(true);
      }
      expect(action.subscriberId).toBe(step.host);
    }
  }
}

const profile = S1_PROFILE;
const usage = (id: string, at: string, amount: number, currency = 'PLN') => ({
  type: 'usage',
  id,
  subscriberId: 's1',
  at,
  service: 'data',
  country: 'DE',
  cost: { amount, currency },
});

describe('invariant 10: never silent', () => {
  it('sends the restricted notice with a block and the lifted notice with its unblock', async () => {
    const engine = createEngine(SHIPPED);
    let state = engine.init(profile);
    const blocked = await engine.process(state, usage('u1', '2026-03-02T10:00:00Z', 21_000));
    state = blocked.state;
    const block = blocked.actions.find((a) => a.kind === 'block')!;
    expect(blocked.actions).toContainEqual(
      expect.objectContaining({
        kind: 'notify',
        template: 'restricted',
        scope: block.kind === 'block' ? block.scope : [],
      }),
    );
    const paid = await engine.process(state, {
      type: 'payment',
      id: 'p1',
      subscriberId: 's1',
      at: '2026-03-02T11:00:00Z',
      amount: 21_000,
      currency: 'PLN',
      reference: 'P1',
    });
    const unblock = paid.actions.find((a) => a.kind === 'unblock')!;
    expect(unblock).toMatchObject({ cause: 'payment' });
    expect(paid.actions).toContainEqual(
      expect.objectContaining({
        kind: 'notify',
        template: 'lifted',
        scope: unblock.kind === 'unblock' ? unblock.scope : [],
      }),
    );
  });

  it('falls back to the built-in texts when the policy names no notices', async () => {
    const engine = createEngine(loadCached(VARIANT_JSON));
    const state = engine.init(profile);
    const { actions } = await engine.process(state, usage('u1', '2026-03-02T10:00:00Z', 5_000, 'EUR'));
    const throttle = actions.find((a) => a.kind === 'throttle')!;
    expect(actions).toContainEqual(
      expect.objectContaining({
        kind: 'notify',
        template: 'spendcap:restricted',
        scope: throttle.kind === 'throttle' ? throttle.scope : [],
      }),
    );
  });

  it('holds on generated streams under the shipped policy', async () => {
    restrictionsSeen = 0;
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), (s) => checkNeverSilent(SHIPPED_JSON, s)),
      budget(),
    );
    expect(restrictionsSeen).toBeGreaterThan(0);
  });

  it('holds on generated streams under generated variant policies', async () => {
    restrictionsSeen = 0;
    await fc.assert(
      fc.asyncProperty(variantStreamArb(), ({ doc, stream }) => checkNeverSilent(doc, stream)),
      budget(50),
    );
    expect(restrictionsSeen).toBeGreaterThan(0);
  });
});
