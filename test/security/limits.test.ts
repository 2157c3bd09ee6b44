import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPolicy, createEngine, loadPolicy, POLICY_LIMITS, type Decision } from '../../src/index';
import { shippedPolicyJson } from '../support/fixtures';

// Every documented limit (README "Limits"), at its edge: the largest value allowed passes, one past it
// is refused with a clear message at its path.

const policy = loadPolicy(shippedPolicyJson());
const engine = createEngine(policy);
const profile = { subscriberId: 's1', homeCountry: 'PL', timeZone: 'Europe/Warsaw', cycleAnchorDay: 1 };
const usage = (over: Record<string, unknown> = {}) => ({
  type: 'usage',
  id: 'u1',
  subscriberId: 's1',
  at: '2026-11-10T10:00:00Z',
  service: 'voice',
  country: 'PL',
  cost: { amount: 100, currency: 'PLN' },
  ...over,
});
const once = (event: unknown): Promise<Decision> => engine.process(engine.init(profile), event);
const issueAt = async (event: unknown) => (await once(event)).issues?.[0];

describe('limits of an event', () => {
  it('ids: 200 characters pass, 201 are refused', async () => {
    expect((await once(usage({ id: 'i'.repeat(200) }))).outcome).toBe('applied');
    expect(await issueAt(usage({ id: 'i'.repeat(201) }))).toMatchObject({ path: '$.id', code: 'too_big' });
    expect(await issueAt(usage({ subscriberId: 's'.repeat(201) }))).toMatchObject({ path: '$.subscriberId' });
  });

  it('texts: 1,000 characters pass, 1,001 are refused', async () => {
    const payment = (reference: string) => ({
      type: 'payment',
      id: 'p1',
      subscriberId: 's1',
      at: '2026-11-10T10:00:00Z',
      amount: 100,
      currency: 'PLN',
      reference,
    });
    expect((await once(payment('r'.repeat(1000)))).outcome).toBe('applied');
    expect(await issueAt(payment('r'.repeat(1001)))).toMatchObject({ path: '$.reference', code: 'too_big' });
  });

  it('money: any safe integer passes, beyond Number.MAX_SAFE_INTEGER or a fraction is refused', async () => {
    expect((await once(usage({ cost: { amount: Number.MAX_SAFE_INTEGER, currency: 'PLN' } }))).outcome).toBe(
      'applied',
    );
    for (const amount of [Number.MAX_SAFE_INTEGER + 1, 2 ** 53 + 2, 1.5, -1]) {
      const issue = await issueAt(usage({ cost: { amount, currency: 'PLN' } }));
      expect(issue?.path, String(amount)).toBe('$.cost.amount');
    }
  });

  it("money: an amount that would take a window's total past Number.MAX_SAFE_INTEGER is refused", async () => {
    // The roaming data and the bill both count this usage: one total reaches the edge exactly.
    const edge = Number.MAX_SAFE_INTEGER - 10;
    const first = await once(usage({ cost: { amount: edge, currency: 'PLN' } }));
    expect(first.outcome).toBe('applied');
    for (const [amount, outcome] of [
      [10, 'applied'],
      [11, 'rejected'],
    ] as const) {
      const d = await engine.process(
        first.state,
        usage({ id: `u-${amount}`, cost: { amount, currency: 'PLN' } }),
      );
      expect(d.outcome, `+${amount}`).toBe(outcome);
      if (outcome === 'rejected') {
        expect(d.issues![0]).toMatchObject({ code: 'too_big', path: '$.cost.amount' });
        expect(d.issues![0]!.message).toContain('Number.MAX_SAFE_INTEGER');
        expect(d.state).toBe(first.state);
      } else expect(d.state.caps['bill']!.cur!.charged).toBe(Number.MAX_SAFE_INTEGER);
    }
    // The same through run's fast path, which must not fold it in either (the check is on the largest
    // total kept, so a payment too counts against the charged total at the edge).
    const batch = await engine.run(
      [
        usage({ cost: { amount: edge, currency: 'PLN' } }),
        usage({ id: 'u2', cost: { amount: 11, currency: 'PLN' } }),
        {
          type: 'payment',
          id: 'p',
          subscriberId: 's1',
          at: '2026-11-10T11:00:00Z',
          amount: 10,
          currency: 'PLN',
          reference: 'r',
        },
        {
          type: 'payment',
          id: 'p2',
          subscriberId: 's1',
          at: '2026-11-10T12:00:00Z',
          amount: 11,
          currency: 'PLN',
          reference: 'r',
        },
      ],
      [profile],
    );
    expect(batch.decisions.map((d) => d.outcome)).toEqual(['applied', 'rejected', 'applied', 'rejected']);
    expect(batch.states['s1']!.caps['bill']!.cur!.charged).toBe(edge);
  });

  it('times: from 2000-01-01T00:00:00Z to before 2100-01-01T00:00:00Z', async () => {
    const at = async (t: string) => (await once(usage({ at: t }))).outcome;
    expect(await at('2000-01-01T00:00:00Z')).toBe('applied');
    expect(await at('2099-12-31T23:59:59.999Z')).toBe('applied');
    expect(await at('2000-01-01T00:59:59+01:00')).toBe('rejected'); // 1999-12-31T23:59:59Z
    expect(await at('2100-01-01T00:00:00Z')).toBe('rejected');
    expect(await issueAt(usage({ at: '9999-12-31T23:59:59Z' }))).toMatchObject({ path: '$.at' });
    expect((await issueAt(usage({ at: '1970-01-01T00:00:00Z' })))?.message).toContain('2000-01-01');
  });
});

describe('limits of a policy', () => {
  const many = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));

  it(`rules: ${POLICY_LIMITS.rules} pass, one more is refused`, () => {
    const rule = (i: number) => ({
      name: `r${i}`,
      cap: 'bill',
      conditions: {
        all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 0.5 + i / 10_000 }],
      },
      event: { type: 'careNote', params: { queue: 'payments' } },
    });
    const doc = shippedPolicyJson();
    doc.rules = many(POLICY_LIMITS.rules, rule);
    expect(checkPolicy(doc).issues.filter((i) => i.code === 'limit_exceeded')).toEqual([]);
    doc.rules = many(POLICY_LIMITS.rules + 1, rule);
    expect(checkPolicy(doc).issues).toContainEqual(
      expect.objectContaining({ code: 'limit_exceeded', path: '$.rules' }),
    );
  });

  it(`conditions: ${POLICY_LIMITS.maxConditionDepth} levels and ${POLICY_LIMITS.maxConditionsPerRule} leaves pass, one more is refused`, () => {
    const leaf = { fact: 'usageRatio', operator: 'greaterThanInclusive', value: 1 };
    const nest = (depth: number) => {
      let c: unknown = { all: [leaf] };
      for (let i = 1; i < depth; i++) c = { all: [c] };
      return c;
    };
    const doc = shippedPolicyJson();
    doc.rules[1].conditions = nest(POLICY_LIMITS.maxConditionDepth);
    expect(checkPolicy(doc).ok).toBe(true);
    doc.rules[1].conditions = nest(POLICY_LIMITS.maxConditionDepth + 1);
    expect(checkPolicy(doc).issues).toContainEqual(
      expect.objectContaining({ code: 'limit_exceeded', path: '$.rules[1].conditions' }),
    );
    doc.rules[1].conditions = { all: many(POLICY_LIMITS.maxConditionsPerRule, () => leaf) };
    expect(checkPolicy(doc).ok).toBe(true);
    doc.rules[1].conditions = { all: many(POLICY_LIMITS.maxConditionsPerRule + 1, () => leaf) };
    expect(checkPolicy(doc).issues[0]).toMatchObject({
      code: 'limit_exceeded',
      path: '$.rules[1].conditions',
    });
    // Far deeper than any stack: refused, not thrown.
    doc.rules[1].conditions = nest(200_000);
    expect(checkPolicy(doc).issues[0]).toMatchObject({ code: 'limit_exceeded' });
  });

  it(`services: ${POLICY_LIMITS.services} pass, one more is refused`, () => {
    const doc = shippedPolicyJson();
    doc.services = many(POLICY_LIMITS.services, (i) =>
      i < 4 ? ['data', 'voice', 'sms', 'mms'][i] : `s${i}`,
    );
    expect(checkPolicy(doc).issues.filter((i) => i.code === 'limit_exceeded')).toEqual([]);
    doc.services.push('extra');
    expect(checkPolicy(doc).issues).toContainEqual(
      expect.objectContaining({ code: 'limit_exceeded', path: '$.services' }),
    );
  });
});

describe('limits of the CLI inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spendcap-limits-'));
  const cli = (args: string[]) => spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });

  it('a policy file over 1 MiB is refused before it is parsed (exit 2)', () => {
    const doc = shippedPolicyJson();
    doc.description = 'd'.repeat(2_000_000);
    const file = join(dir, 'big.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = cli(['check', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('a policy file is at most 1048576');
  });

  it('an event line over 64 KiB is a rejected decision naming its line, not a crash', () => {
    const events = join(dir, 'events.ndjson');
    writeFileSync(
      events,
      [JSON.stringify(usage()), JSON.stringify(usage({ id: 'x'.repeat(70_000) }))].join('\n'),
    );
    const profiles = join(dir, 'profiles.json');
    writeFileSync(profiles, JSON.stringify([profile]));
    const r = cli(['simulate', 'rules/graduated-postpaid.json', events, '--profiles', profiles]);
    expect(r.status).toBe(2);
    const [first, second] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(first.outcome).toBe('applied');
    expect(second).toMatchObject({ line: 2, outcome: 'rejected' });
    expect(second.issues[0].message).toMatch(
      /events\.ndjson:2:1: the line is 70\d{3} characters long; an event is at most 65536/,
    );
  });
});
