import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type Decision, type PolicyDocument, type SubscriberState } from '../../src/index';
import {
  formatInstant,
  streamArb,
  type Stream,
  type StreamOptions,
  variantStreamArb,
} from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import {
  budget,
  capOf,
  describeStep,
  pairKey,
  processStream,
  ratioThreshold,
  ruleOf,
} from '../arbitraries/harness';
import { loadCached, SHIPPED, SHIPPED_DOMAIN, SHIPPED_JSON } from '../arbitraries/policies';

// Invariant 4, payment lifts: a payment that brings a cap's usageRatio under the threshold of a rule
// restricting the subscriber ends that restriction in the same decision, with an unblock of every pair
// no other restriction of the same kind still holds.

/** usageRatio of a cost cap from the state's current window: (charged - credited - disputed - paid) / limit. */
function ratio(doc: PolicyDocument, state: SubscriberState, capId: string): number {
  const t = state.caps[capId]!.cur!;
  return (t.charged - t.credited - t.disputed - t.paid) / capOf(doc, capId).limit;
}

let lifts = 0;

/** Checks one applied payment decision; returns whether it lifted anything. */
function checkPayment(doc: PolicyDocument, before: SubscriberState, decision: Decision, where: string) {
  if (decision.outcome !== 'applied') return;
  const after = decision.state;
  const under = before.restrictions.filter((r) => {
    const threshold = ratioThreshold(ruleOf(doc, r.ruleId));
    return (
      (capOf(doc, r.capId).measure ?? 'cost') === 'cost' &&
      threshold !== undefined &&
      ratio(doc, after, r.capId) < threshold
    );
  });
  if (under.length === 0) return;
  const unblocked = new Map<string, Set<string>>([
    ['block', new Set()],
    ['throttle', new Set()],
  ]);
  for (const a of decision.actions) {
    if (a.kind !== 'unblock') continue;
    expect(['payment', 'window-reset'], `cause of ${JSON.stringify(a)} in ${where}`).toContain(a.cause);
    for (const p of a.scope) unblocked.get(a.lifts)!.add(pairKey(p));
  }
  for (const r of under) {
    expect(
      after.restrictions.some((x) => x.capId === r.capId && x.ruleId === r.ruleId),
      `restriction ${r.capId}/${r.ruleId} still in force after ${where}`,
    ).toBe(false);
    const held = new Set(
      after.restrictions.filter((x) => x.kind === r.kind).flatMap((x) => x.scope.map(pairKey)),
    );
    const free = r.scope.map(pairKey).filter((p) => !held.has(p));
    expect(
      free.filter((p) => !unblocked.get(r.kind)!.has(p)),
      `pairs of ${r.capId}/${r.ruleId} not unblocked by ${where}`,
    ).toEqual([]);
    if (free.length > 0) lifts++;
  }
}

async function checkStream(doc: PolicyDocument, stream: Stream) {
  const { steps } = await processStream(createEngine(loadCached(doc)), stream);
  for (const step of steps) {
    if ((step.event as { type?: unknown } | null)?.type !== 'payment' || step.label.kind === 'invalid')
      continue;
    checkPayment(doc, step.before, step.decision, describeStep(step));
  }
}

/** After a stream, each restricted subscriber pays just enough to bring every cost cap under its rules. */
async function checkLiftingPayment(doc: PolicyDocument, stream: Stream) {
  const engine = createEngine(loadCached(doc));
  const { states } = await processStream(engine, stream);
  for (const [subscriberId, state] of states) {
    if (state.clock === null) continue;
    let amount = 0;
    for (const r of state.restrictions) {
      const cap = capOf(doc, r.capId);
      const threshold = ratioThreshold(ruleOf(doc, r.ruleId));
      if ((cap.measure ?? 'cost') !== 'cost' || threshold === undefined) continue;
      const t = state.caps[r.capId]!.cur!;
      const outstanding = t.charged - t.credited - t.disputed - t.paid;
      amount = Math.max(amount, Math.floor(outstanding - threshold * cap.limit) + 1);
    }
    if (amount <= 0) continue;
    const payment = {
      type: 'payment',
      id: 'lifting-payment',
      subscriberId,
      at: formatInstant(state.clock, 60),
      amount,
      currency: doc.currency,
      reference: 'TOP-UP',
    };
    const decision = await engine.process(state, payment);
    expect(decision.outcome).toBe('applied');
    checkPayment(doc, state, decision, `${JSON.stringify(payment)} after ${JSON.stringify(stream.events)}`);
  }
}

const heavy: StreamOptions = { weights: { usage: 60, payment: 4 }, homeShare: 20, dataShare: 70 };

describe('invariant 4: payment lifts', () => {
  const engine = createEngine(SHIPPED);
  const profile = S1_PROFILE;
  const pay = (id: string, at: string, amount: number) => ({
    type: 'payment',
    id,
    subscriberId: 's1',
    at,
    amount,
    currency: 'PLN',
    reference: id,
  });

  it('unblocks roaming data in the decision of the payment that brings it under 100%', async () => {
    let state = engine.init(profile);
    const usage = {
      type: 'usage',
      id: 'u1',
      subscriberId: 's1',
      at: '2026-03-02T10:00:00Z',
      service: 'data',
      country: 'DE',
      cost: { amount: 25_000, currency: 'PLN' },
    };
    state = (await engine.process(state, usage)).state;
    expect(state.restrictions).toHaveLength(1);
    const short = await engine.process(state, pay('p1', '2026-03-02T11:00:00Z', 5_000));
    expect(short.actions.filter((a) => a.kind === 'unblock')).toEqual([]);
    const enough = await engine.process(short.state, pay('p2', '2026-03-02T12:00:00Z', 1));
    expect(enough.actions.filter((a) => a.kind === 'unblock')).toMatchObject([
      {
        cause: 'payment',
        scope: [
          { service: 'data', zone: 'eu' },
          { service: 'data', zone: 'world' },
        ],
      },
    ]);
    expect(enough.state.restrictions).toEqual([]);
  });

  it('holds for every payment in generated streams (shipped policy)', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN, heavy), (s) => checkStream(SHIPPED_JSON, s)),
      budget(),
    );
  });

  it('holds for a payment of just enough after generated streams (shipped policy)', async () => {
    lifts = 0;
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN, heavy), (s) => checkLiftingPayment(SHIPPED_JSON, s)),
      budget(),
    );
    expect(lifts).toBeGreaterThan(0);
  });

  it('holds for a payment of just enough after generated streams (generated variant policies)', async () => {
    lifts = 0;
    await fc.assert(
      fc.asyncProperty(variantStreamArb(heavy), async ({ doc, stream }) => {
        await checkStream(doc, stream);
        await checkLiftingPayment(doc, stream);
      }),
      budget(50),
    );
    expect(lifts).toBeGreaterThan(0);
  });
});
