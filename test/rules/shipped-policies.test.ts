import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPolicy, createEngine, loadPolicy, runScenario, ScenarioFileSchema } from '../../src/index';

const rulesDir = new URL('../../rules/', import.meta.url);
const shipped = readdirSync(rulesDir).filter((f) => f.endsWith('.json'));
const scenarioFiles = readdirSync(new URL('./', import.meta.url)).filter((f) =>
  f.endsWith('.scenarios.json'),
);
const readScenarios = (file: string) =>
  ScenarioFileSchema.parse(JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')));
const readPolicy = (name: string) => loadPolicy(readFileSync(new URL(`${name}.json`, rulesDir), 'utf8'));

describe('every shipped policy', () => {
  it.each(shipped)('%s starts with $schema and loads with no issue at all', (file) => {
    const text = readFileSync(new URL(file, rulesDir), 'utf8');
    expect(text.trimStart().startsWith('{\n  "$schema": "../schema/policy.schema.json"')).toBe(true);
    expect(checkPolicy(text).issues).toEqual([]);
  });

  it.each(shipped)('%s has scenarios replayed here', (file) => {
    expect(scenarioFiles).toContain(file.replace(/\.json$/, '.scenarios.json'));
  });
});

for (const file of scenarioFiles) {
  const spec = readScenarios(file);
  const engine = createEngine(readPolicy(spec.policy));
  describe(`${spec.policy} scenarios`, () => {
    const fired = new Set<string>();
    it.each(spec.scenarios.map((s) => [s.name, s] as const))('%s', async (_, scenario) => {
      const result = await runScenario(engine, spec.profile, scenario);
      for (const rule of result.fired) fired.add(rule);
      expect(result.failures).toEqual([]);
    });

    it('fire every rule of the policy at least once', () => {
      const policy = engine.policy;
      const all = [...policy.caplessRules, ...policy.caps.flatMap((c) => c.rules)].map((r) => r.name);
      expect(all.filter((name) => !fired.has(name))).toEqual([]);
    });
  });
}

describe('runScenario', () => {
  const spec = readScenarios('graduated-postpaid.scenarios.json');
  const engine = createEngine(readPolicy(spec.policy));

  it('reports a wrong expectation with the event, what was expected and what happened', async () => {
    const scenario = structuredClone(spec.scenarios[0]!);
    scenario.expect[1]!.actions = ['notify:bill-warn-80'];
    const result = await runScenario(engine, spec.profile, scenario);
    expect(result.passed).toBe(false);
    expect(result.failures).toEqual([
      'after u1: expected [notify:bill-warn-80], got [notify:roaming-data-warn-80]',
    ]);
  });

  it('matches partially: a cause or scope that differs fails, a field left out is not compared', async () => {
    const scenario = structuredClone(spec.scenarios[0]!);
    const last = scenario.expect[scenario.expect.length - 1]!;
    last.actions = [{ kind: 'unblock', cause: 'credit' }, 'notify:roaming-data-block-100'];
    expect((await runScenario(engine, spec.profile, scenario)).failures[0]).toMatch(
      /^after p1: expected \[\{"kind":"unblock","cause":"credit"\}/,
    );
    last.actions = [{ kind: 'unblock' }, { kind: 'notify' }];
    expect((await runScenario(engine, spec.profile, scenario)).passed).toBe(true);
  });

  it('an event the scenario does not list must produce no action', async () => {
    const scenario = structuredClone(spec.scenarios[0]!);
    scenario.expect = scenario.expect.filter((e) => e.event !== 'u1');
    expect((await runScenario(engine, spec.profile, scenario)).failures).toEqual([
      'after u1: expected [], got [notify:roaming-data-warn-80]',
    ]);
  });
});
