import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index';
import { streamArb } from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { budget, describeStep, processStream } from '../arbitraries/harness';
import { domainOf, loadCached, readShippedPolicy, SHIPPED } from '../arbitraries/policies';

// Invariant 2, home is safe: under the shipped policies no spend, at home or abroad, ever restricts a
// service at home. Checked on the actions and on the restrictions in force after every decision.

/** Every policy in `rules/`, so that a new shipped policy is held to this invariant too. */
const SHIPPED_POLICIES = readdirSync(new URL('../../rules/', import.meta.url))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));

async function checkHomeIsSafe(name: string, stream: Parameters<typeof processStream>[1]) {
  const engine = createEngine(loadCached(readShippedPolicy(name)));
  const { steps } = await processStream(engine, stream);
  let restricted = 0;
  for (const step of steps) {
    for (const action of step.decision.actions) {
      if (action.kind !== 'block' && action.kind !== 'throttle') continue;
      restricted++;
      expect(
        action.scope.filter((p) => p.zone === 'home'),
        `home pairs in ${describeStep(step)}`,
      ).toEqual([]);
    }
    for (const r of step.decision.state.restrictions) {
      expect(
        r.scope.filter((p) => p.zone === 'home'),
        `home pairs in force after ${describeStep(step)}`,
      ).toEqual([]);
    }
  }
  return restricted;
}

describe('invariant 2: home is safe', () => {
  const engine = createEngine(SHIPPED);
  const profile = S1_PROFILE;

  it('over the whole-bill limit from calls at home, pauses only roaming data', async () => {
    const { actions } = await engine.process(engine.init(profile), {
      type: 'usage',
      id: 'u1',
      subscriberId: 's1',
      at: '2026-03-02T10:00:00Z',
      service: 'voice',
      country: 'PL',
      cost: { amount: 160_000, currency: 'PLN' },
    });
    expect(actions.filter((a) => a.kind === 'block')).toMatchObject([
      {
        capId: 'bill',
        scope: [
          { service: 'data', zone: 'eu' },
          { service: 'data', zone: 'world' },
        ],
      },
    ]);
  });

  it('over the roaming-data limit abroad, leaves every service at home alone', async () => {
    const { state } = await engine.process(
      engine.init({ ...profile, homeCountry: 'US', timeZone: 'America/New_York' }),
      {
        type: 'usage',
        id: 'u1',
        subscriberId: 's1',
        at: '2026-03-02T10:00:00Z',
        service: 'data',
        country: 'JP',
        cost: { amount: 30_000, currency: 'PLN' },
      },
    );
    expect(state.restrictions.flatMap((r) => r.scope).some((p) => p.zone === 'home')).toBe(false);
    expect(state.restrictions.length).toBeGreaterThan(0);
  });

  for (const name of SHIPPED_POLICIES) {
    it(`holds on generated streams under the shipped policy '${name}'`, async () => {
      let restricted = 0;
      const domain = domainOf(readShippedPolicy(name));
      await fc.assert(
        fc.asyncProperty(streamArb(domain), async (stream) => {
          restricted += await checkHomeIsSafe(name, stream);
        }),
        budget(),
      );
      // A policy with restricting rules must have been exercised; one without (us-usage-alerts) never restricts.
      const restricts = readShippedPolicy(name).rules.some(
        (r) => r.event.type === 'block' || r.event.type === 'throttle',
      );
      if (restricts) expect(restricted).toBeGreaterThan(0);
      else expect(restricted).toBe(0);
    });
  }
});
