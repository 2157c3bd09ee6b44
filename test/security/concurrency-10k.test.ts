import { describe, expect, it } from 'vitest';
import {
  createEngine,
  loadPolicy,
  type Decision,
  type SubscriberProfile,
  type SubscriberState,
} from '../../src/index';
import { generateW1 } from '../../bench/workload.mjs';
import { shippedPolicyJson } from '../support/fixtures';

// 10,000 `process` calls over many subscribers, fired at one engine at once, give exactly the decisions
// the same calls give one after the other; and `run` gives one decision per input, in input order, even
// when some inputs are not events at all.

const policy = loadPolicy(shippedPolicyJson());
const w1 = generateW1({ subscribers: 150, events: 10_000, seed: 11 });
const profiles = w1.profiles as unknown as SubscriberProfile[];
const events = w1.events as unknown as { id: string; subscriberId: string }[];

/** The calls, as a sequential replay makes them: each event with its subscriber's state before it. */
async function sequential(evaluator: 'compiled' | 'json-rules-engine') {
  const engine = createEngine(policy, { evaluator });
  const states = new Map<string, SubscriberState>(profiles.map((p) => [p.subscriberId, engine.init(p)]));
  const calls: { state: SubscriberState; event: unknown; decision: Decision }[] = [];
  for (const event of events) {
    const state = states.get(event.subscriberId)!;
    const decision = await engine.process(state, event);
    calls.push({ state, event, decision });
    states.set(event.subscriberId, decision.state);
  }
  return calls;
}

describe('concurrency at scale', () => {
  for (const evaluator of ['compiled', 'json-rules-engine'] as const) {
    it(`Promise.all of 10,000 process calls on one ${evaluator} engine = the sequential decisions`, async () => {
      const calls = await sequential(evaluator);
      expect(calls).toHaveLength(10_000);
      expect(calls.filter((c) => c.decision.actions.length > 0).length).toBeGreaterThan(100);
      const engine = createEngine(policy, { evaluator });
      const concurrent = await Promise.all(calls.map((c) => engine.process(c.state, c.event)));
      expect(concurrent.map((d) => d.outcome)).toEqual(calls.map((c) => c.decision.outcome));
      expect(concurrent.map((d) => d.actions)).toEqual(calls.map((c) => c.decision.actions));
      expect(concurrent.map((d) => d.state)).toEqual(calls.map((c) => c.decision.state));
    }, 120_000);
  }

  it('run returns one decision per input, in input order, with invalid inputs among them', async () => {
    const engine = createEngine(policy);
    const garbage = [
      null,
      42,
      'usage',
      [],
      { type: 'usage' },
      { ...events[0], id: '' },
      { type: 'tick', id: 'x', subscriberId: 'nobody', at: '2026-10-20T00:00:00Z' },
    ];
    const inputs: unknown[] = [];
    const isEvent: boolean[] = [];
    events.forEach((e, i) => {
      if (i % 9 === 0) {
        inputs.push(garbage[i % garbage.length]);
        isEvent.push(false);
      }
      inputs.push(e);
      isEvent.push(true);
    });
    const { decisions } = await engine.run(inputs, profiles);
    expect(decisions).toHaveLength(inputs.length);
    inputs.forEach((input, i) => {
      const id =
        input !== null && typeof input === 'object' && typeof (input as { id?: unknown }).id === 'string'
          ? (input as { id: string }).id
          : null;
      expect(decisions[i]!.eventId, `decision ${i}`).toBe(id);
    });
    const rejected = decisions.filter((d) => d.outcome === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(inputs.length - events.length);
    for (const d of rejected) expect(d.issues!.length).toBeGreaterThan(0);
    expect(decisions.filter((_, i) => !isEvent[i]).every((d) => d.outcome === 'rejected')).toBe(true);
    // The garbage changes nothing else: the events decide as they do alone.
    const alone = await createEngine(policy).run(events, profiles);
    const mixed = decisions.filter((_, i) => isEvent[i]);
    expect(mixed.map((d) => [d.eventId, d.outcome, d.actions])).toEqual(
      alone.decisions.map((d) => [d.eventId, d.outcome, d.actions]),
    );
  });
});
