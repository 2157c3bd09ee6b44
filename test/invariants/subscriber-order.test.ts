import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type BatchResult, type PolicyDocument } from '../../src/index';
import { interleave, streamArb, type Stream } from '../arbitraries/events';
import { budget, processStream } from '../arbitraries/harness';
import { SUBSCRIBER_IDS, SUBSCRIBER_IDS_PROTOTYPE } from '../arbitraries/profiles';
import {
  domainOf,
  loadCached,
  SHIPPED,
  SHIPPED_DOMAIN,
  SHIPPED_JSON,
  variantPolicyArb,
} from '../arbitraries/policies';

// Invariant 8, order of subscribers does not matter: interleaving the streams of different subscribers
// differently through `run` changes no subscriber's outcomes, actions or final state; and `run` decides
// exactly what `process` decides for each subscriber alone.

/** Per known subscriber: its decisions in order. */
function perSubscriber(stream: Stream, result: BatchResult) {
  const out = new Map<string, unknown[]>(stream.profiles.map((p) => [p.subscriberId, []]));
  for (const d of result.decisions) if (d.subscriberId !== null) out.get(d.subscriberId)?.push(d);
  return out;
}

async function checkOrder(doc: PolicyDocument, stream: Stream, picks: readonly number[]) {
  const engine = createEngine(loadCached(doc));
  const other = interleave(stream, picks);
  const a = await engine.run(stream.events, stream.profiles);
  // The other interleaving passes the profiles as a record, which `run` also takes.
  const b = await engine.run(
    other.events,
    Object.fromEntries(other.profiles.map((p) => [p.subscriberId, p])),
  );
  expect(perSubscriber(other, b)).toEqual(perSubscriber(stream, a));
  expect(b.states).toEqual(a.states);
  // Each subscriber alone through `process` decides the same (events `run` cannot route aside).
  const alone = await processStream(engine, stream);
  const routed = a.decisions.filter((d, i) => d.subscriberId === stream.labels[i]!.host);
  const same = alone.steps.filter((s, i) => a.decisions[s.index]!.subscriberId === stream.labels[i]!.host);
  expect(routed.map((d) => [d.outcome, d.actions])).toEqual(
    same.map((s) => [s.decision.outcome, s.decision.actions]),
  );
  for (const [id, state] of alone.states)
    if (Object.hasOwn(a.states, id)) expect(a.states[id]).toEqual(state);
}

const orderArb = (domain = SHIPPED_DOMAIN, ids: readonly string[] = SUBSCRIBER_IDS) =>
  fc.tuple(
    streamArb(domain, { subscribers: { min: 2, max: 4, ids } }),
    fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
  );

describe('invariant 8: order of subscribers does not matter', () => {
  it('gives each of two subscribers the same decisions whichever comes first', async () => {
    const engine = createEngine(SHIPPED);
    const profiles = [
      { subscriberId: 'a', homeCountry: 'PL', timeZone: 'Europe/Warsaw', cycleAnchorDay: 1 },
      { subscriberId: 'b', homeCountry: 'US', timeZone: 'America/New_York', cycleAnchorDay: 31 },
    ];
    const usage = (sub: string, id: string, at: string) => ({
      type: 'usage',
      id,
      subscriberId: sub,
      at,
      service: 'data',
      country: 'DE',
      cost: { amount: 11_000, currency: 'PLN' },
    });
    const aEvents = [usage('a', 'e1', '2026-03-02T10:00:00Z'), usage('a', 'e2', '2026-03-03T10:00:00Z')];
    const bEvents = [usage('b', 'e1', '2026-03-01T10:00:00Z'), usage('b', 'e2', '2026-03-04T10:00:00Z')];
    const one = await engine.run([...aEvents, ...bEvents], profiles);
    const two = await engine.run([bEvents[0], aEvents[0], bEvents[1], aEvents[1]], profiles);
    const of = (r: BatchResult, sub: string) => r.decisions.filter((d) => d.subscriberId === sub);
    expect(of(two, 'a')).toEqual(of(one, 'a'));
    expect(of(two, 'b')).toEqual(of(one, 'b'));
    expect(of(one, 'a')[1]!.actions.some((x) => x.kind === 'block')).toBe(true);
    expect(two.states).toEqual(one.states);
  });

  it('holds on generated streams under the shipped policy', async () => {
    await fc.assert(
      fc.asyncProperty(orderArb(), ([stream, picks]) => checkOrder(SHIPPED_JSON, stream, picks)),
      budget(60),
    );
  });

  it('holds for subscribers whose ids are named like Object.prototype members', async () => {
    await fc.assert(
      fc.asyncProperty(orderArb(SHIPPED_DOMAIN, SUBSCRIBER_IDS_PROTOTYPE), ([stream, picks]) =>
        checkOrder(SHIPPED_JSON, stream, picks),
      ),
      budget(60),
    );
  });

  it('holds on generated streams under generated variant policies', async () => {
    await fc.assert(
      fc.asyncProperty(
        variantPolicyArb.chain((doc) =>
          orderArb(domainOf(doc)).map(([stream, picks]) => ({ doc, stream, picks })),
        ),
        ({ doc, stream, picks }) => checkOrder(doc, stream, picks),
      ),
      budget(30),
    );
  });
});
