import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/index';
import { variantPolicyArb, VARIANT_JSON } from '../arbitraries/policies';
import {
  checkInvariants,
  DEFAULT_INVARIANTS,
  eventStreamArb,
  INVARIANTS,
  InvariantViolation,
} from '../../src/testing/index';

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const seed = 20261201;

describe('spendcap/testing: checkInvariants', () => {
  it('passes every invariant on the shipped restricting packs, having had something to check', async () => {
    for (const name of ['graduated-postpaid', 'eu-roaming-data']) {
      const report = await checkInvariants(read(`rules/${name}.json`), {
        invariants: INVARIANTS,
        numRuns: 40,
        seed,
      });
      const observed = Object.fromEntries(report.results.map((r) => [r.name, r.observed]));
      expect(report.results.map((r) => r.runs)).toEqual(INVARIANTS.map(() => 40));
      for (const invariant of [
        'scoped',
        'never-silent',
        'no-repeats',
        'conservation',
        'replay',
        'bad-input',
        'warn-first',
      ])
        expect(observed[invariant], `${name}: ${invariant}`).toBeGreaterThan(0);
    }
  });

  it('raises no false alarm on policies of other shapes: day windows, quantity caps, throttles, home scopes', async () => {
    const docs = [VARIANT_JSON, ...fc.sample(variantPolicyArb, { numRuns: 6, seed })];
    let observed = 0;
    for (const doc of docs) {
      const report = await checkInvariants(doc, { numRuns: 25, seed });
      observed += report.results.reduce((n, r) => n + r.observed, 0);
    }
    expect(observed).toBeGreaterThan(1000);
  });

  it('passes the default invariants on an alerts-only pack', async () => {
    const report = await checkInvariants(read('rules/us-usage-alerts.json'), { numRuns: 30, seed });
    expect(report.results.map((r) => r.name)).toEqual([...DEFAULT_INVARIANTS]);
  });

  it('catches the legacy all-or-nothing policy cutting home services and blocking without a warning', async () => {
    const legacy = read('examples/legacy-account-block.json');
    await expect(
      checkInvariants(legacy, { invariants: ['home-is-safe'], numRuns: 200, seed }),
    ).rejects.toThrow(/invariant 'home-is-safe': block of block-account restricts a home scope/);
    await expect(checkInvariants(legacy, { invariants: ['warn-first'], numRuns: 200, seed })).rejects.toThrow(
      /invariant 'warn-first': block-account blocked before any warning/,
    );
    // The failure is an InvariantViolation that names the seed to replay it with and the shrunk stream.
    const error = await checkInvariants(legacy, { invariants: ['home-is-safe'], numRuns: 200, seed }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(InvariantViolation);
    expect(error.invariant).toBe('home-is-safe');
    expect(error.message).toContain(`seed ${seed}`);
    expect(error.message).toContain(
      "replay: checkInvariants(policy, { invariants: ['home-is-safe'], seed: 20261201",
    );
    const shrunk = JSON.parse(error.message.slice(error.message.indexOf('shrunk counterexample: ') + 23));
    expect(shrunk.events.length).toBeGreaterThan(0);
  });

  it('refuses an invariant it does not know', async () => {
    await expect(
      checkInvariants(read('rules/graduated-postpaid.json'), {
        invariants: ['nope' as 'scoped'],
        numRuns: 1,
      }),
    ).rejects.toThrow(/unknown invariant 'nope'/);
  });
});

describe('spendcap/testing: eventStreamArb', () => {
  it('shapes streams by the policy: its currency, services, zone countries and limits', () => {
    const doc = read('rules/graduated-postpaid.json');
    doc.currency = 'EUR';
    doc.zones = { alps: ['CH', 'AT', 'LI'] };
    doc.caps = doc.caps.map((c: { limit: number }) => ({ ...c, limit: c.limit * 100 }));
    const policy = loadPolicy(doc);
    const streams = fc.sample(eventStreamArb(policy, { minEvents: 40 }), { numRuns: 30, seed });
    const usage = streams.flatMap((s) =>
      s.events.filter(
        (e, i): e is { country: string; cost: { amount: number; currency: string } } =>
          s.labels[i]!.kind === 'valid' && (e as { type?: string }).type === 'usage',
      ),
    );
    expect(usage.length).toBeGreaterThan(100);
    expect(new Set(usage.map((e) => e.cost.currency))).toEqual(new Set(['EUR']));
    const countries = new Set(usage.map((e) => e.country));
    for (const c of ['CH', 'AT', 'LI']) expect(countries.has(c)).toBe(true);
    // Amounts follow the limits: a hundred times the shipped ones, so charges of over 100,000 turn up.
    expect(Math.max(...usage.map((e) => e.cost.amount))).toBeGreaterThan(100_000);
    // Every kind of record is there, labelled.
    const kinds = new Set(streams.flatMap((s) => s.labels.map((l) => l.kind)));
    expect([...kinds].sort()).toEqual(['backdated', 'duplicate', 'invalid', 'valid']);
  });
});

describe('spendcap/testing as a package entry', () => {
  it('is exported as its own subpath, and the main entry does not load fast-check', async () => {
    const pkg = read('package.json');
    expect(pkg.exports['./testing'].import.default).toBe('./dist/testing.js');
    expect(pkg.peerDependenciesMeta['fast-check'].optional).toBe(true);
    const built = await import('../../dist/testing.js');
    expect(typeof built.checkInvariants).toBe('function');
    expect(typeof built.eventStreamArb).toBe('function');
    const main = readFileSync('dist/index.js', 'utf8');
    expect(main).not.toMatch(/from ["']fast-check["']/);
  });
});
