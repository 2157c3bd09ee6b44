import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPolicy, createEngine, loadPolicy, PolicyError } from '../../src/index';
import { shippedPolicyJson } from '../support/fixtures';

// Known payloads against json-rules-engine's `path` (JSONPath evaluated by jsonpath-plus; its
// CVE-2024-21534 family), written to leave a marker: a global and a file. None may ever be written.
const dir = mkdtempSync(join(tmpdir(), 'spendcap-attack-'));
const file = join(dir, 'marker');
const PAYLOADS = [
  `$..[?(@.constructor.constructor("globalThis.__spendcapMarker = 1")())]`,
  `$..[?(p="globalThis.__spendcapMarker = 2";a=''[['constructor']][['constructor']](p);a())]`,
  `$[?(@.a=process.mainModule.require('fs').writeFileSync('${file}','x'))]`,
  `$..[?(this.constructor.constructor("return process")().mainModule.require('fs').writeFileSync('${file}','x'))]`,
  `$.__proto__.polluted`,
];

const markerWritten = () =>
  (globalThis as Record<string, unknown>)['__spendcapMarker'] !== undefined || existsSync(file);

const prototypeClean = () =>
  (({}) as Record<string, unknown>)['polluted'] === undefined &&
  ({} as Record<string, unknown>)['isAdmin'] === undefined &&
  Object.getOwnPropertyNames(Object.prototype).every((k) => !['polluted', 'isAdmin'].includes(k));

afterEach(() => {
  expect(markerWritten(), 'a payload ran code').toBe(false);
  expect(prototypeClean(), 'Object.prototype was changed').toBe(true);
});

const usage = (amount: number, id = 'u1') => ({
  type: 'usage',
  id,
  subscriberId: 's1',
  at: '2026-11-10T10:00:00Z',
  service: 'data',
  country: 'DE',
  cost: { amount, currency: 'PLN' },
});
const profile = { subscriberId: 's1', homeCountry: 'PL', timeZone: 'Europe/Warsaw', cycleAnchorDay: 1 };

describe('JSONPath payloads in a policy', () => {
  it.each(PAYLOADS)('refuses `path` %s in a condition, and it never runs', (payload) => {
    const doc = shippedPolicyJson();
    doc.rules[1].conditions.all[0].path = payload;
    const report = checkPolicy(doc);
    expect(report.ok).toBe(false);
    expect(report.issues).toContainEqual(
      expect.objectContaining({ code: 'forbidden_key', path: '$.rules[1].conditions.all[0].path' }),
    );
    expect(() => loadPolicy(doc)).toThrow(PolicyError);
  });

  it.each(PAYLOADS)('refuses fact `params` holding %s', (payload) => {
    const doc = shippedPolicyJson();
    doc.rules[1].conditions.all[0].params = { path: payload };
    expect(checkPolicy(doc).issues.map((i) => i.path)).toContain('$.rules[1].conditions.all[0].params');
  });

  it('keeps payloads in names and texts as plain data, under either evaluator', async () => {
    const doc = shippedPolicyJson();
    doc.description = PAYLOADS[0];
    doc.templates['near-limit'].en = `{percent}% ${PAYLOADS[1]}`;
    doc.templates['near-limit'].pl = `{percent}% ${PAYLOADS[0]}`;
    const policy = loadPolicy(doc);
    for (const evaluator of ['compiled', 'json-rules-engine'] as const) {
      const engine = createEngine(policy, { evaluator });
      const d = await engine.process(engine.init(profile), usage(17_000));
      const notice = d.actions.find((a) => a.kind === 'notify' && a.template === 'near-limit');
      expect(notice?.kind === 'notify' && notice.message).toContain('constructor');
    }
  });
});

describe('prototype pollution payloads', () => {
  const proto = (extra: string) => JSON.parse(`{"__proto__": {"polluted": "yes", "isAdmin": true}${extra}}`);

  it('in a policy: an own __proto__, constructor or prototype key anywhere is refused with its path', () => {
    const places: [string, (doc: Record<string, any>) => Record<string, any>][] = [
      ['$', (d) => d],
      ['$.caps[0]', (d) => d.caps[0]],
      ['$.rules[0]', (d) => d.rules[0]],
      ['$.rules[1].conditions.all[0]', (d) => d.rules[1].conditions.all[0]],
      ['$.rules[1].event.params', (d) => d.rules[1].event.params],
      ['$.zones', (d) => d.zones],
      ['$.templates', (d) => d.templates],
    ];
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      for (const [where, target] of places) {
        const doc = shippedPolicyJson();
        Object.defineProperty(target(doc), key, {
          value: { polluted: 'yes', isAdmin: true },
          enumerable: true,
          configurable: true,
          writable: true,
        });
        const report = checkPolicy(doc);
        expect(report.ok, `${key} at ${where}`).toBe(false);
        expect(
          report.issues.some((i) => i.path.startsWith(where) && i.path.includes(key)),
          `${key} at ${where}: ${JSON.stringify(report.issues)}`,
        ).toBe(true);
      }
    }
    // The same through JSON.parse, as a policy file would arrive.
    const text = JSON.stringify(shippedPolicyJson()).replace(/^\{/, '{"__proto__": {"polluted": "yes"},');
    expect(checkPolicy(JSON.parse(text)).ok).toBe(false);
  });

  it('in events: rejected with the path, and neither the state nor Object.prototype changes', async () => {
    const engine = createEngine(loadPolicy(shippedPolicyJson()));
    const state = engine.init(profile);
    const before = JSON.stringify(state);
    const bad = [
      Object.assign(proto(''), usage(10)),
      { ...usage(10), cost: Object.assign(proto(''), { amount: 10, currency: 'PLN' }) },
      { ...usage(10), constructor: { prototype: { polluted: 'yes' } } },
      { ...usage(10), prototype: { polluted: 'yes' } },
    ];
    for (const event of bad) {
      const d = await engine.process(state, event);
      expect(d.outcome).toBe('rejected');
      expect(d.issues!.every((i) => i.path.startsWith('$'))).toBe(true);
    }
    const batch = await engine.run(bad, [profile]);
    expect(batch.decisions.map((d) => d.outcome)).toEqual(bad.map(() => 'rejected'));
    expect(JSON.stringify(state)).toBe(before);
  });

  it('in stored states: a state carrying __proto__ keys is refused, never merged', async () => {
    const engine = createEngine(loadPolicy(shippedPolicyJson()));
    const { state } = await engine.process(engine.init(profile), usage(10));
    // As JSON.parse makes them: an own key named __proto__, in each place a state holds records.
    const withProto = (pick: (s: Record<string, any>) => Record<string, unknown>) => {
      const copy = JSON.parse(JSON.stringify(state));
      Object.defineProperty(pick(copy), '__proto__', {
        value: { polluted: 'yes', isAdmin: true },
        enumerable: true,
        configurable: true,
        writable: true,
      });
      return JSON.stringify(copy);
    };
    const variants = [
      withProto((s) => s.caps),
      withProto((s) => s.overrides),
      withProto((s) => s.notices),
      withProto((s) => s),
      withProto((s) => s.profile),
    ];
    for (const v of variants) {
      const stored = JSON.parse(v);
      const d = await engine.process(stored, usage(10, 'u2'));
      expect(d.outcome, v.slice(0, 80)).toBe('rejected');
      expect(d.issues![0]!.code).toBe('invalid_state');
      expect(() => engine.explain(stored)).toThrow();
    }
  });

  it('as subscriber ids and dispute references: kept as data', async () => {
    const engine = createEngine(loadPolicy(shippedPolicyJson()));
    const ids = ['__proto__', 'constructor', 'prototype', 'toString'];
    const profiles = ids.map((subscriberId) => ({ ...profile, subscriberId }));
    const events = ids.flatMap((subscriberId, i) => [
      { ...usage(25_000, `u${i}`), subscriberId },
      {
        type: 'dispute',
        id: `d${i}`,
        subscriberId,
        at: '2026-11-10T11:00:00Z',
        reference: '__proto__',
        amount: 100,
        status: 'open',
      },
    ]);
    const { decisions, states } = await engine.run(events, profiles);
    expect(decisions.map((d) => d.outcome)).toEqual(events.map(() => 'applied'));
    for (const id of ids) {
      expect(Object.prototype.hasOwnProperty.call(states, id)).toBe(true);
      expect(states[id]!.profile.subscriberId).toBe(id);
      expect(Object.keys(states[id]!.disputes)).toEqual(['__proto__']);
    }
  });
});
