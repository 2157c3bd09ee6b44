import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type PolicyDocument } from '../../src/index';
import { streamArb, type Stream, variantStreamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { budget, processStream } from '../arbitraries/harness';
import { loadCached, SHIPPED, SHIPPED_DOMAIN, SHIPPED_JSON } from '../arbitraries/policies';

// json-rules-engine's `Engine.run` flips a shared status flag, so two evaluations overlapping on one
// instance can skip each other's lower-priority rules. Many `process` calls on ONE spendcap engine at
// once (`Promise.all`) must still give exactly what the same calls give one after the other.

async function checkConcurrent(doc: PolicyDocument, stream: Stream) {
  // The reference evaluator is json-rules-engine itself: the mode whose shared flag is the hazard.
  const sequential = await processStream(
    createEngine(loadCached(doc), { evaluator: 'json-rules-engine' }),
    stream,
  );
  const engine = createEngine(loadCached(doc), { evaluator: 'json-rules-engine' });
  const concurrent = await Promise.all(sequential.steps.map((s) => engine.process(s.before, s.event)));
  expect(concurrent).toEqual(sequential.steps.map((s) => s.decision));
}

describe('concurrency: Promise.all over process on one engine', () => {
  it('gives every overlapping call the sequential answer on a state at the limit', async () => {
    const engine = createEngine(SHIPPED, { evaluator: 'json-rules-engine' });
    const state = engine.init(S1_PROFILE);
    const events = Array.from({ length: 40 }, (_, i) => ({
      type: 'usage',
      id: `u${i}`,
      subscriberId: 's1',
      at: '2026-03-02T10:00:00Z',
      service: i % 2 === 0 ? 'data' : 'voice',
      country: i % 3 === 0 ? 'PL' : 'DE',
      cost: { amount: 15_000 + i * 500, currency: 'PLN' },
    }));
    const sequential = [];
    for (const e of events)
      sequential.push(await createEngine(SHIPPED, { evaluator: 'json-rules-engine' }).process(state, e));
    const concurrent = await Promise.all(events.map((e) => engine.process(state, e)));
    expect(concurrent).toEqual(sequential);
    // Rules of every priority fired: warn (10), offer (9), block (8), care (7).
    expect([...new Set(concurrent.flatMap((d) => d.actions.map((a) => a.ruleId)))]).toEqual(
      expect.arrayContaining([
        'roaming-data-warn-80',
        'roaming-data-offer-100',
        'roaming-data-block-100',
        'roaming-data-care-100',
      ]),
    );
  });

  it('holds on generated streams under the shipped policy', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), (s) => checkConcurrent(SHIPPED_JSON, s)),
      budget(),
    );
  });

  it('holds on generated streams under generated variant policies', async () => {
    await fc.assert(
      fc.asyncProperty(variantStreamArb(), ({ doc, stream }) => checkConcurrent(doc, stream)),
      budget(40),
    );
  });

  it('runs overlapping batches on one engine as if one after the other', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(streamArb(SHIPPED_DOMAIN, { maxEvents: 30 }), { minLength: 2, maxLength: 4 }),
        async (streams) => {
          const engine = createEngine(SHIPPED, { evaluator: 'json-rules-engine' });
          const alone = [];
          for (const s of streams)
            alone.push(
              await createEngine(SHIPPED, { evaluator: 'json-rules-engine' }).run(s.events, s.profiles),
            );
          const together = await Promise.all(streams.map((s) => engine.run(s.events, s.profiles)));
          expect(together).toEqual(alone);
        },
      ),
      budget(30),
    );
  });
});
