// Copy this file into your project's tests to hold your own policy to spendcap's guarantees (SPEC
// section 8) on generated event streams. It runs with vitest; fast-check must be installed
// (`npm install --save-dev fast-check vitest`). Point POLICY at your policy file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from 'spendcap';
import { checkInvariants, DEFAULT_INVARIANTS } from 'spendcap/testing';

const POLICY = new URL('../rules/graduated-postpaid.json', import.meta.url);
const policy = loadPolicy(JSON.parse(readFileSync(POLICY, 'utf8')));

// A fixed seed in CI, so that a red build replays; any seed locally. A failure prints the seed and the
// shrunk event stream that breaks the invariant.
const seed = process.env['CI'] ? 20261201 : undefined;

describe(`policy ${policy.id} keeps spendcap's invariants`, () => {
  for (const invariant of DEFAULT_INVARIANTS) {
    it(invariant, async () => {
      const report = await checkInvariants(policy, { invariants: [invariant], numRuns: 25, seed });
      expect(report.results[0]!.runs).toBe(25);
    });
  }

  // Promises this policy makes beyond the defaults: spend abroad never restricts home, and a warning
  // comes before every block.
  it('home-is-safe and warn-first', async () => {
    const report = await checkInvariants(policy, {
      invariants: ['home-is-safe', 'warn-first'],
      numRuns: 25,
      seed,
    });
    expect(report.results.find((r) => r.name === 'warn-first')!.observed).toBeGreaterThan(0);
  });
});
