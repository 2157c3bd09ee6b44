import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type BatchDecision, type PolicyDocument } from '../../src/index';
import { streamArb, type Stream, variantStreamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { budget, describeStep, processStream, viaJson, type Processed } from '../arbitraries/harness';
import {
  domainOf,
  loadCached,
  SHIPPED_DOMAIN,
  SHIPPED_JSON,
  variantPolicyArb,
} from '../arbitraries/policies';

// Invariant 7, replay: processing a stream in two parts, with the state stored as JSON in between, gives
// exactly the actions and final state of processing it whole; and a duplicate changes nothing.

const outcomeOf = (s: Processed) => ({
  index: s.index,
  outcome: s.decision.outcome,
  actions: s.decision.actions,
  issues: 'issues' in s.decision ? s.decision.issues : undefined,
});

async function checkSplit(doc: PolicyDocument, stream: Stream, at: number) {
  const engine = createEngine(loadCached(doc));
  const whole = await processStream(engine, stream);
  const split = Math.min(at, stream.events.length);
  const first = await processStream(engine, stream, { end: split });
  const stored = new Map([...first.states].map(([id, state]) => [id, viaJson(state)]));
  // A fresh engine for the second part, as after a restart.
  const second = await processStream(createEngine(loadCached(viaJson(doc))), stream, {
    from: stored,
    start: split,
  });
  expect([...first.steps, ...second.steps].map(outcomeOf)).toEqual(whole.steps.map(outcomeOf));
  expect(viaJson(Object.fromEntries(second.states))).toEqual(viaJson(Object.fromEntries(whole.states)));
  expect(Object.fromEntries(second.states)).toEqual(Object.fromEntries(whole.states));
}

export async function checkDuplicates(stream: Stream, doc: PolicyDocument = SHIPPED_JSON) {
  const engine = createEngine(loadCached(doc));
  const { steps, states } = await processStream(engine, stream);
  // Every repeat the generator mixed in: nothing changed, nothing said.
  for (const step of steps) {
    if (step.decision.outcome !== 'duplicate') continue;
    expect(step.decision.actions, describeStep(step)).toEqual([]);
    expect(step.decision.state, describeStep(step)).toEqual(step.before);
  }
  // Every applied event, repeated at the end of the stream.
  for (const step of steps) {
    if (step.decision.outcome !== 'applied' && step.decision.outcome !== 'late') continue;
    const state = states.get(step.host)!;
    const snapshot = structuredClone(state);
    const again = await engine.process(state, structuredClone(step.event));
    expect(again.actions, describeStep(step)).toEqual([]);
    expect(again.state, describeStep(step)).toEqual(snapshot);
    if (again.outcome === 'rejected') {
      // Only when the ledger no longer keeps the event's cycle (and so no longer remembers its id).
      expect(
        again.issues.map((i) => i.code),
        describeStep(step),
      ).toContain('too_old');
    } else expect(again.outcome, describeStep(step)).toBe('duplicate');
  }
}

/** `run` in two batches with the states stored as JSON in between. */
async function checkRunSplit(doc: PolicyDocument, stream: Stream, at: number) {
  const engine = createEngine(loadCached(doc));
  const split = Math.min(at, stream.events.length);
  const whole = await engine.run(stream.events, stream.profiles);
  const first = await engine.run(stream.events.slice(0, split), stream.profiles);
  const second = await engine.run(stream.events.slice(split), stream.profiles, viaJson(first.states));
  // Issues of an event `run` cannot route carry its position in the batch; compare the rest whole.
  const comparable = (d: BatchDecision) =>
    d.subscriberId !== null && stream.profiles.some((p) => p.subscriberId === d.subscriberId)
      ? d
      : { eventId: d.eventId, subscriberId: d.subscriberId, outcome: d.outcome, actions: d.actions };
  expect([...first.decisions, ...second.decisions].map(comparable)).toEqual(whole.decisions.map(comparable));
  expect(viaJson(second.states)).toEqual(viaJson(whole.states));
}

const splitArb = (domain = SHIPPED_DOMAIN) =>
  fc.tuple(streamArb(domain), fc.nat({ max: 60 })).map(([stream, at]) => ({ stream, at }));

describe('invariant 7: replay', () => {
  const profile = S1_PROFILE;
  const e = (id: string, at: string, amount: number) => ({
    type: 'usage',
    id,
    subscriberId: 's1',
    at,
    service: 'data',
    country: 'DE',
    cost: { amount, currency: 'PLN' },
  });
  const scenario: Stream = {
    profiles: [profile],
    events: [
      e('u1', '2026-03-02T10:00:00Z', 12_000),
      e('u2', '2026-03-03T10:00:00Z', 5_000),
      e('u3', '2026-03-04T10:00:00Z', 5_000),
      {
        type: 'payment',
        id: 'p1',
        subscriberId: 's1',
        at: '2026-03-05T10:00:00Z',
        amount: 9_000,
        currency: 'PLN',
        reference: 'P1',
      },
      e('u4', '2026-04-02T10:00:00Z', 100),
      e('u3', '2026-04-03T10:00:00Z', 5_000),
    ],
    labels: Array.from({ length: 6 }, () => ({ kind: 'valid' as const, host: 's1' })),
  };

  it('gives the same actions and state at every split of a block/unblock scenario', async () => {
    for (let at = 0; at <= scenario.events.length; at++) await checkSplit(SHIPPED_JSON, scenario, at);
  });

  it('treats a repeated id as a duplicate: same state, no action', async () => {
    const engine = createEngine(loadCached(SHIPPED_JSON));
    const { steps } = await processStream(engine, scenario);
    expect(steps.map((s) => s.decision.outcome)).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'duplicate',
    ]);
    expect(steps.flatMap((s) => s.decision.actions.map((a) => a.kind))).toContain('block');
    await checkDuplicates(scenario);
  });

  it('splits anywhere through JSON (process, shipped policy)', async () => {
    await fc.assert(
      fc.asyncProperty(splitArb(), ({ stream, at }) => checkSplit(SHIPPED_JSON, stream, at)),
      budget(),
    );
  });

  it('splits anywhere through JSON (process, generated variant policies)', async () => {
    await fc.assert(
      fc.asyncProperty(
        variantPolicyArb.chain((doc) => splitArb(domainOf(doc)).map((x) => ({ doc, ...x }))),
        ({ doc, stream, at }) => checkSplit(doc, stream, at),
      ),
      budget(40),
    );
  });

  it('splits anywhere through JSON (run with stored states)', async () => {
    await fc.assert(
      fc.asyncProperty(splitArb(), ({ stream, at }) => checkRunSplit(SHIPPED_JSON, stream, at)),
      budget(50),
    );
  });

  it('changes nothing on a duplicate (shipped policy)', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), (stream) => checkDuplicates(stream)),
      budget(50),
    );
  });

  it('changes nothing on a duplicate whose id is named like an Object.prototype member', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN, { ids: 'prototype', subscribers: { max: 1 } }), (stream) =>
        checkDuplicates(stream),
      ),
      budget(50),
    );
  });

  it('changes nothing on a duplicate (generated variant policies)', async () => {
    await fc.assert(
      fc.asyncProperty(variantStreamArb(), ({ doc, stream }) => checkDuplicates(stream, doc)),
      budget(30),
    );
  });
});
