import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type Decision, type PolicyDocument, type SubscriberState } from '../../src/index';
import {
  DEFECT_NAMES,
  formatInstant,
  hostileInputArb,
  INVALID_BASES,
  invalidate,
  planAndStreamArb,
  streamArb,
  writeEvent,
  type EventJson,
  type Stream,
} from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { budget, deepFreeze, describeStep, processStream } from '../arbitraries/harness';
import {
  domainOf,
  loadCached,
  SHIPPED,
  SHIPPED_DOMAIN,
  SHIPPED_JSON,
  variantPolicyArb,
  type Domain,
} from '../arbitraries/policies';

// Invariant 9, bad input: `process` never throws for an invalid event, never changes the state (neither
// the state it returns nor the object it was given), and always answers `rejected` with issues that
// carry a JSON path and a message.

/** Processes `input` against a frozen state and checks the rejection. */
async function expectRejected(
  engine: ReturnType<typeof createEngine>,
  state: SubscriberState,
  input: unknown,
  what: string,
) {
  const snapshot = structuredClone(state);
  deepFreeze(state);
  let decision: Decision;
  try {
    decision = await engine.process(state, input);
  } catch (error) {
    throw new Error(`process threw on ${what}: ${(error as Error).stack}`);
  }
  expect(decision.outcome, what).toBe('rejected');
  expect(decision.actions, what).toEqual([]);
  expect(decision.state, what).toEqual(snapshot);
  expect(state, what).toEqual(snapshot);
  if (decision.outcome !== 'rejected') return;
  expect(decision.issues.length, what).toBeGreaterThan(0);
  for (const issue of decision.issues) {
    expect(
      typeof issue.path === 'string' && issue.path.startsWith('$'),
      `path of ${JSON.stringify(issue)} for ${what}`,
    ).toBe(true);
    expect(typeof issue.message === 'string' && issue.message.length > 0, `message for ${what}`).toBe(true);
  }
}

/** Every invalid event the stream generator mixed in. */
async function checkStream(doc: PolicyDocument, stream: Stream) {
  const engine = createEngine(loadCached(doc));
  const { steps } = await processStream(engine, stream);
  for (const step of steps) {
    if (step.label.kind !== 'invalid') continue;
    const where = describeStep(step);
    expect(step.decision.outcome, where).toBe('rejected');
    expect(step.decision.state, where).toEqual(step.before);
    expect(step.decision.actions, where).toEqual([]);
  }
}

/** A state reached by a stream, then one invalid event made from a valid one with a chosen defect. */
function afterStreamArb(domain: Domain) {
  return fc.record({
    made: planAndStreamArb(domain, { subscribers: { max: 1 }, weights: { invalid: 0 } }),
    defect: fc.nat({ max: DEFECT_NAMES.length - 1 }),
    base: fc.nat({ max: INVALID_BASES.length - 1 }),
    n: fc.nat({ max: 9_999 }),
  });
}

async function stateAfter(doc: PolicyDocument, stream: Stream) {
  const engine = createEngine(loadCached(doc));
  const { states } = await processStream(engine, stream);
  const profile = stream.profiles[0]!;
  const state = states.get(profile.subscriberId)!;
  return { engine, state, profile };
}

describe('invariant 9: bad input', () => {
  const engine = createEngine(SHIPPED);
  const profile = S1_PROFILE;
  const usage: EventJson = {
    type: 'usage',
    id: 'u1',
    subscriberId: 's1',
    at: '2026-03-02T10:00:00+01:00',
    service: 'data',
    country: 'DE',
    cost: { amount: 1_200, currency: 'PLN' },
  };

  it.each([
    [
      'a currency other than the policy one',
      { ...usage, cost: { amount: 1_200, currency: 'EUR' } },
      '$.cost.currency',
    ],
    ['an unknown service', { ...usage, service: 'video' }, '$.service'],
    ['NaN money', { ...usage, cost: { amount: Number.NaN, currency: 'PLN' } }, '$.cost.amount'],
    ['negative money', { ...usage, cost: { amount: -5, currency: 'PLN' } }, '$.cost.amount'],
    ['fractional money', { ...usage, cost: { amount: 12.5, currency: 'PLN' } }, '$.cost.amount'],
    ['a date without offset', { ...usage, at: '2026-03-02T10:00:00' }, '$.at'],
    ['a date that does not exist', { ...usage, at: '2026-02-30T10:00:00Z' }, '$.at'],
    ['a missing field', { ...usage, cost: undefined }, '$.cost'],
    ['an unknown key', { ...usage, amt: 5 }, '$.amt'],
    ['an unknown type', { ...usage, type: 'topup' }, '$.type'],
    ['another subscriber', { ...usage, subscriberId: 's2' }, '$.subscriberId'],
  ])('rejects %s with its path', async (_, input, path) => {
    const state = engine.init(profile);
    await expectRejected(engine, state, input, JSON.stringify(input));
    const decision = await engine.process(state, input);
    expect(decision.outcome === 'rejected' && decision.issues.map((i) => i.path)).toContain(path);
  });

  it('rejects a dispute decided before it was opened, and an override that ends before it starts', async () => {
    const state = engine.init(profile);
    const base = { subscriberId: 's1', at: '2026-03-02T10:00:00Z' };
    await expectRejected(
      engine,
      state,
      { ...base, type: 'dispute', id: 'd', reference: 'C-9', amount: 5, status: 'rejected' },
      'dispute',
    );
    await expectRejected(
      engine,
      state,
      {
        ...base,
        type: 'override',
        id: 'o',
        by: 'agent',
        capId: 'bill',
        until: '2026-03-02T09:00:00Z',
        reason: 'x',
      },
      'override',
    );
  });

  it('rejects every invalid event mixed into generated streams, leaving the state as it was', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), (s) => checkStream(SHIPPED_JSON, s)),
      budget(),
    );
  });

  it('rejects every defect on any reachable state, without throwing or mutating it (shipped policy)', async () => {
    await fc.assert(
      fc.asyncProperty(afterStreamArb(SHIPPED_DOMAIN), async ({ made, defect, base, n }) => {
        const { engine: e, state, profile: p } = await stateAfter(SHIPPED_JSON, made.stream);
        const time = (state.clock ?? made.plan.start) + 60_000;
        const write = (type: (typeof INVALID_BASES)[number]) =>
          type === 'dispute'
            ? {
                type,
                id: 'bad',
                subscriberId: p.subscriberId,
                at: formatInstant(time),
                reference: 'C-X',
                amount: 10,
                status: 'open',
              }
            : writeEvent(SHIPPED_DOMAIN, p, type, time, 'bad', { pick: n, pick2: n });
        const { defect: name, input } = invalidate(write, SHIPPED_DOMAIN, defect, base, n);
        await expectRejected(e, state, input, `${name}: ${JSON.stringify(input)}`);
      }),
      budget(),
    );
  });

  it('rejects every defect on any reachable state (generated variant policies)', async () => {
    await fc.assert(
      fc.asyncProperty(
        variantPolicyArb.chain((doc) => afterStreamArb(domainOf(doc)).map((x) => ({ doc, ...x }))),
        async ({ doc, made, defect, base, n }) => {
          const domain = domainOf(doc);
          const { engine: e, state, profile: p } = await stateAfter(doc, made.stream);
          const time = (state.clock ?? made.plan.start) + 60_000;
          const write = (type: (typeof INVALID_BASES)[number]) =>
            type === 'dispute'
              ? {
                  type,
                  id: 'bad',
                  subscriberId: p.subscriberId,
                  at: formatInstant(time),
                  reference: 'C-X',
                  amount: 10,
                  status: 'open',
                }
              : writeEvent(domain, p, type, time, 'bad', { pick: n, pick2: n });
          const { defect: name, input } = invalidate(write, domain, defect, base, n);
          await expectRejected(e, state, input, `${name}: ${JSON.stringify(input)}`);
        },
      ),
      budget(50),
    );
  });

  it('rejects inputs no JSON parser makes (BigInt, Symbol, cycles, odd prototypes, junk)', async () => {
    const state = engine.init(profile);
    await fc.assert(
      fc.asyncProperty(hostileInputArb(usage), (input) =>
        expectRejected(engine, structuredClone(state), input, String(typeof input)),
      ),
      budget(),
    );
  });

  it('rejects an input whose fields throw when read', async () => {
    const state = engine.init(profile);
    const throwing = Object.defineProperty({ ...usage }, 'cost', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    await expectRejected(engine, state, throwing, 'a getter that throws');
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    await expectRejected(engine, state, revoked.proxy, 'a revoked proxy');
  });

  it('never mutates the state it is given, for any event', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), async (stream) => {
        const states = new Map(stream.profiles.map((p) => [p.subscriberId, engine.init(p)]));
        for (let i = 0; i < stream.events.length; i++) {
          const host = stream.labels[i]!.host;
          const before = deepFreeze(states.get(host)!);
          const snapshot = structuredClone(before);
          const decision = await engine.process(before, stream.events[i]);
          expect(before).toEqual(snapshot);
          states.set(host, decision.state);
        }
      }),
      budget(50),
    );
  });
});
