import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type PolicyDocument } from '../../src/index';
import { streamArb, type Stream, variantStreamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { budget, describeStep, holds, processStream, windowKeyAt } from '../arbitraries/harness';
import { loadCached, SHIPPED, SHIPPED_DOMAIN, SHIPPED_JSON } from '../arbitraries/policies';

// Invariant 5, no repeats: a notice (notify, offerPayment, careNote) fires at most once per rule, cap and
// window until its rule stops matching. Whether a rule matches is decided here from the facts the engine
// reports (`explain`) and the rule's conditions, evaluated by the test's own evaluator. The check also
// holds the engine to the other half of edge triggering (section 4): a notice whose rule starts
// matching, or matches in a new window, does fire.

const NOTICE_KINDS = new Set(['notify', 'offerPayment', 'careNote']);

let fired = 0;

async function checkNoRepeats(doc: PolicyDocument, stream: Stream) {
  const engine = createEngine(loadCached(doc));
  const notices = doc.rules.filter((r) => NOTICE_KINDS.has(r.event.type));
  const { steps } = await processStream(engine, stream);
  // host|cap|rule -> window of the last firing while the rule has kept matching since
  const armed = new Map<string, string>();
  for (const step of steps) {
    const { decision } = step;
    const where = describeStep(step);
    if (decision.outcome !== 'applied') {
      expect(decision.actions, `no action from a ${decision.outcome} event: ${where}`).toEqual([]);
      continue;
    }
    const state = decision.state;
    const explained = engine.explain(state);
    const subscriberFacts = {
      zone: state.location.zone,
      roaming: state.location.zone !== 'home',
      previousZone: step.before.location.zone,
      zoneChanged: state.location.zone !== step.before.location.zone,
    };
    for (const rule of notices) {
      const capId = rule.cap ?? null;
      const facts = { ...(capId === null ? {} : explained.caps[capId]), ...subscriberFacts };
      const window =
        capId === null ? windowKeyAt('cycle', state.clock!, step.profile) : state.caps[capId]!.cur!.key;
      const matches = holds(rule.conditions, facts);
      const firings = decision.actions.filter(
        (a) => a.ruleId === rule.name && a.capId === capId && a.kind === rule.event.type,
      );
      const key = `${step.host}|${capId}|${rule.name}`;
      expect(firings.length, `firings of ${rule.name} in ${where}`).toBeLessThanOrEqual(1);
      if (!matches) {
        expect(firings, `${rule.name} fired without matching in ${where}`).toEqual([]);
        armed.delete(key);
        continue;
      }
      const last = armed.get(key);
      if (firings.length > 0) {
        fired++;
        expect(
          last,
          `${rule.name} fired again in window ${window} without having stopped matching: ${where}`,
        ).not.toBe(window);
      } else {
        expect(last, `${rule.name} started matching in window ${window} but did not fire: ${where}`).toBe(
          window,
        );
      }
      armed.set(key, window);
    }
  }
}

describe('invariant 5: no repeats', () => {
  const engine = createEngine(SHIPPED);
  const profile = S1_PROFILE;
  const usage = (id: string, at: string, amount: number) => ({
    type: 'usage',
    id,
    subscriberId: 's1',
    at,
    service: 'data',
    country: 'DE',
    cost: { amount, currency: 'PLN' },
  });
  const warnings = (actions: readonly { kind: string; ruleId: string }[]) =>
    actions.filter((a) => a.ruleId === 'roaming-data-warn-80').length;

  it('warns once at 80%, again only after a payment took the cap under 80%', async () => {
    let state = engine.init(profile);
    const counts: number[] = [];
    const events = [
      usage('u1', '2026-03-02T10:00:00Z', 16_000),
      usage('u2', '2026-03-02T11:00:00Z', 500),
      usage('u3', '2026-03-02T12:00:00Z', 500),
      {
        type: 'payment',
        id: 'p1',
        subscriberId: 's1',
        at: '2026-03-02T13:00:00Z',
        amount: 5_000,
        currency: 'PLN',
        reference: 'P',
      },
      usage('u4', '2026-03-02T14:00:00Z', 4_000),
      usage('u5', '2026-04-02T10:00:00Z', 17_000),
    ];
    for (const e of events) {
      const d = await engine.process(state, e);
      state = d.state;
      counts.push(warnings(d.actions));
    }
    expect(counts).toEqual([1, 0, 0, 0, 1, 1]);
  });

  it('welcomes once per arrival in a roaming zone', async () => {
    let state = engine.init(profile);
    const welcomes: number[] = [];
    for (const [id, country] of [
      ['l1', 'DE'],
      ['l2', 'FR'],
      ['l3', 'US'],
      ['l4', 'US'],
      ['l5', 'PL'],
      ['l6', 'DE'],
    ] as const) {
      const d = await engine.process(state, {
        type: 'location',
        id,
        subscriberId: 's1',
        at: `2026-03-0${id[1]}T10:00:00Z`,
        country,
      });
      state = d.state;
      welcomes.push(d.actions.filter((a) => a.ruleId === 'welcome-roaming').length);
    }
    expect(welcomes).toEqual([1, 0, 1, 0, 0, 1]);
  });

  it('holds on generated streams under the shipped policy', async () => {
    fired = 0;
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), (s) => checkNoRepeats(SHIPPED_JSON, s)),
      budget(),
    );
    expect(fired).toBeGreaterThan(0);
  });

  it('holds on generated streams under generated variant policies', async () => {
    fired = 0;
    await fc.assert(
      fc.asyncProperty(variantStreamArb(), ({ doc, stream }) => checkNoRepeats(doc, stream)),
      budget(50),
    );
    expect(fired).toBeGreaterThan(0);
  });
});
