import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FACTS, OPERATORS, loadPolicy, createEngine, type Condition } from '../../src/index';
import { RuleGroupEvaluator } from '../../src/rules/engine';
import {
  CompiledRuleGroup,
  compileCondition,
  testCondition,
  applyOperator,
} from '../../src/rules/conditions';
import type { Facts } from '../../src/schema/facts';
import type { LoadedRule } from '../../src/policy/types';
import { drive, ev, shippedPolicyJson } from '../support/fixtures';

const baseFacts: Facts = {
  spend: 100,
  paid: 0,
  outstanding: 100,
  limit: 200,
  usageRatio: 0.5,
  remaining: 100,
  zone: 'eu',
  country: 'DE',
  roaming: true,
  previousZone: 'home',
  zoneChanged: true,
  eventType: 'usage',
  eventService: 'data',
  eventZone: 'eu',
  optedIn: false,
  agentOverride: false,
  tenureMonths: null,
  segment: null,
  daysLeftInWindow: 12,
  openDisputes: 0,
  disputedAmount: 0,
  oldestOpenDisputeDays: null,
};

const rule = (name: string, conditions: Condition): LoadedRule => ({
  name,
  capId: 'c',
  priority: 1,
  index: 0,
  conditions,
  event: { type: 'block' },
  scope: [],
  leaves: [],
  facts: new Set(),
});

describe('json-rules-engine wrapper', () => {
  it('reports the rules that match', async () => {
    const evaluator = new RuleGroupEvaluator([
      rule('over-40', { all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 0.4 }] }),
      rule('over-60', { all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 0.6 }] }),
      rule('roaming', { any: [{ fact: 'roaming', operator: 'equal', value: true }] }),
    ]);
    expect([...(await evaluator.matches(baseFacts))].sort()).toEqual(['over-40', 'roaming']);
  });

  it('never lets a missing fact match silently (allowUndefinedFacts: false)', async () => {
    const evaluator = new RuleGroupEvaluator([
      rule('typo', { all: [{ fact: 'usageRatoi' as never, operator: 'notEqual', value: 1 }] }),
    ]);
    await expect(evaluator.matches(baseFacts)).rejects.toThrow(/Undefined fact: usageRatoi/);
  });

  it('gives the sequential answers to many overlapping evaluations on one instance', async () => {
    const rules = Array.from({ length: 6 }, (_, i) =>
      rule(`r${i}`, { all: [{ fact: 'spend', operator: 'greaterThanInclusive', value: i * 10 }] }),
    );
    // Different priorities make json-rules-engine run rule sets one after another: the case its shared
    // status flag breaks when runs overlap.
    const prioritised = rules.map((r, i) => ({ ...r, priority: i + 1 }));
    const evaluator = new RuleGroupEvaluator(prioritised);
    const inputs = Array.from({ length: 200 }, (_, i) => ({ ...baseFacts, spend: i % 70 }));
    const sequential: string[][] = [];
    for (const facts of inputs) sequential.push([...(await evaluator.matches(facts))].sort());
    const overlapped = await Promise.all(inputs.map((facts) => evaluator.matches(facts)));
    expect(overlapped.map((s) => [...s].sort())).toEqual(sequential);
  });

  it('many process calls on one engine through Promise.all give exactly the sequential decisions', async () => {
    // json-rules-engine itself evaluates here: the mode whose shared status flag is the hazard.
    const engine = createEngine(loadPolicy(shippedPolicyJson()), { evaluator: 'json-rules-engine' });
    const d = drive();
    await d.send(ev.location('2026-11-02T10:00:00+01:00', 'DE'));
    const base = d.state;
    const events = Array.from({ length: 60 }, (_, i) =>
      ev.usage(`2026-11-02T11:${String(i).padStart(2, '0')}:00+01:00`, 'data', 'DE', 500 * i),
    );
    const sequential = [];
    for (const e of events) sequential.push(await engine.process(base, e));
    const parallel = await Promise.all(events.map((e) => engine.process(base, e)));
    expect(parallel).toEqual(sequential);
    expect(sequential.some((s) => s.actions.some((a) => a.kind === 'block'))).toBe(true);
  });
});

const factName = fc.constantFrom(...(Object.keys(FACTS) as (keyof typeof FACTS)[]));
const scalar = fc.oneof(
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.constantFrom('eu', 'home', 'world', 'usage', 'data'),
  fc.constant(null),
);
// Conditions of the shapes a policy can load: `in` / `notIn` always take a list (checkPolicy refuses
// anything else, and json-rules-engine would throw), the others a literal or another fact.
const listOperator = fc.constantFrom('in', 'notIn');
const scalarOperator = fc.constantFrom(...OPERATORS.filter((o) => o !== 'in' && o !== 'notIn'));
const leaf = fc.oneof(
  fc.record({ fact: factName, operator: listOperator, value: fc.array(scalar, { maxLength: 3 }) }),
  fc.record({
    fact: factName,
    operator: scalarOperator,
    value: fc.oneof(
      scalar,
      factName.map((fact) => ({ fact })),
    ),
  }),
);
const condition: fc.Arbitrary<Condition> = fc.letrec<{ node: Condition }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf as fc.Arbitrary<Condition>,
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
    tie('node').map((not) => ({ not })),
  ),
})).node;
const facts = fc.record(
  Object.fromEntries(Object.keys(FACTS).map((k) => [k, scalar])) as Record<
    keyof Facts,
    fc.Arbitrary<Facts[keyof Facts]>
  >,
);

describe('the synchronous evaluator (explanations, what-if) agrees with json-rules-engine', () => {
  it('applyOperator matches json-rules-engine on edge cases', () => {
    expect(applyOperator('greaterThan', null, 0)).toBe(false);
    expect(applyOperator('lessThan', '3' as never, 5)).toBe(true);
    expect(applyOperator('in', 'eu', ['eu', 'world'])).toBe(true);
    expect(applyOperator('contains', 'eu', 'e')).toBe(false);
  });

  it('gives the same match as json-rules-engine for generated conditions and facts (tree walk and compiled)', async () => {
    await fc.assert(
      fc.asyncProperty(condition, facts, async (tree, f) => {
        const top: Condition = 'fact' in tree ? { all: [tree] } : tree;
        const evaluator = new RuleGroupEvaluator([rule('r', top)]);
        const expected = (await evaluator.matches(f)).has('r');
        expect(testCondition(top, f)).toBe(expected);
        expect(compileCondition(top)(f)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('a compiled group matches the rules json-rules-engine matches, by name and by count', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(condition, { minLength: 1, maxLength: 5 }), facts, async (trees, f) => {
        const rules = trees.map((tree, i) => rule(`r${i}`, 'fact' in tree ? { all: [tree] } : tree));
        const expected = await new RuleGroupEvaluator(rules).matches(f);
        const matches = new CompiledRuleGroup(rules).matches(f);
        expect(new Set(rules.map((r) => r.name).filter((name) => matches.has(name)))).toEqual(expected);
        expect(matches.size).toBe(expected.size);
        for (const r of rules) expect(matches.has(r.name)).toBe(expected.has(r.name));
        expect(matches.has('no such rule')).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
