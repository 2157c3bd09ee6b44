import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPolicy, createEngine, loadPolicy, type Action } from '../../src/index';

interface Expectation {
  event: string;
  outcome?: string;
  actions: string[];
  cause?: string;
}
interface ScenarioFile {
  policy: string;
  profile: Record<string, unknown>;
  scenarios: { name: string; events: Record<string, unknown>[]; expect: Expectation[] }[];
}

const rulesDir = new URL('../../rules/', import.meta.url);
const shipped = readdirSync(rulesDir).filter((f) => f.endsWith('.json'));
const scenarioFiles = readdirSync(new URL('./', import.meta.url)).filter((f) =>
  f.endsWith('.scenarios.json'),
);

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

const label = (a: Action) => `${a.kind}:${a.ruleId}`;

const fired = new Map<string, Set<string>>();

for (const file of scenarioFiles) {
  const spec = JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as ScenarioFile;
  const policy = loadPolicy(JSON.parse(readFileSync(new URL(`${spec.policy}.json`, rulesDir), 'utf8')));
  describe(`${spec.policy} scenarios`, () => {
    it.each(spec.scenarios.map((s) => [s.name, s] as const))('%s', async (_, scenario) => {
      const engine = createEngine(policy);
      let state = engine.init(spec.profile as never);
      for (const event of scenario.events) {
        const decision = await engine.process(state, event);
        state = decision.state;
        for (const action of decision.actions) {
          const set = fired.get(spec.policy) ?? new Set<string>();
          fired.set(spec.policy, set.add(action.ruleId));
        }
        const expected = scenario.expect.find((e) => e.event === event['id']);
        const where = `after ${String(event['id'])}`;
        expect(decision.outcome, where).toBe(expected?.outcome ?? 'applied');
        expect(decision.actions.map(label), where).toEqual(expected?.actions ?? []);
        if (expected?.cause !== undefined) {
          expect(
            decision.actions.find((a) => a.kind === 'unblock'),
            where,
          ).toMatchObject({ cause: expected.cause });
        }
        // Never silent, and never a home scope: checked on every decision of every scenario.
        for (const action of decision.actions) {
          if (action.kind === 'block' || action.kind === 'throttle' || action.kind === 'unblock') {
            expect(
              decision.actions.some(
                (n) => n.kind === 'notify' && JSON.stringify(n.scope) === JSON.stringify(action.scope),
              ),
            ).toBe(true);
          }
          if (action.kind === 'block') expect(action.scope.some((p) => p.zone === 'home')).toBe(false);
        }
      }
    });
  });
}

describe('scenario coverage', () => {
  it.each(scenarioFiles)('%s fires every rule of its policy at least once', (file) => {
    const spec = JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as ScenarioFile;
    const policy = loadPolicy(JSON.parse(readFileSync(new URL(`${spec.policy}.json`, rulesDir), 'utf8')));
    const all = [...policy.caplessRules, ...policy.caps.flatMap((c) => c.rules)].map((r) => r.name);
    const missing = all.filter((name) => !fired.get(spec.policy)?.has(name));
    expect(missing).toEqual([]);
  });
});
