import { z } from 'zod';
import { strictObject } from '../schema/strict.js';
import { SubscriberProfileSchema } from '../schema/profile.js';
import { ScopeSchema, UnblockCauseSchema, type Action } from '../schema/actions.js';
import type { SpendcapEngine } from '../engine.js';

/** An expected action, matched partially: only the fields given are compared. `"notify:warn-80"` is short for `{ kind, rule }`. */
export const ExpectedActionSchema = z.union([
  z
    .string()
    .regex(/^[A-Za-z]+:.+$/, 'expected "kind:rule", e.g. "block:roaming-data-block-100"')
    .meta({ description: '"kind:rule", e.g. "notify:roaming-data-warn-80".' }),
  strictObject({
    kind: z
      .enum(['notify', 'block', 'throttle', 'unblock', 'offerPayment', 'careNote'])
      .meta({ description: 'The action kind.' }),
    rule: z.string().optional().meta({ description: 'The rule name (the action’s ruleId).' }),
    capId: z.string().nullable().optional().meta({ description: 'The cap, or null for a rule without one.' }),
    scope: ScopeSchema.optional().meta({ description: 'The exact, sorted scope.' }),
    cause: UnblockCauseSchema.optional().meta({ description: 'For an unblock: why it was lifted.' }),
  }),
]);

/** What one event of a scenario must produce. Events a scenario does not list must produce no action. */
export const ExpectationSchema = strictObject({
  event: z.string().meta({ description: 'The id of the event this expectation is about.' }),
  outcome: z
    .enum(['applied', 'late', 'duplicate', 'rejected'])
    .optional()
    .meta({ description: 'Default "applied".' }),
  actions: z.array(ExpectedActionSchema).meta({ description: 'Every action of the decision, in order.' }),
});

/** A scenario: a subscriber, a stream of events, and what each event must produce. */
export const ScenarioSchema = strictObject({
  name: z.string().min(1).meta({ description: 'What the scenario shows.' }),
  profile: SubscriberProfileSchema.optional().meta({ description: "Overrides the file's profile." }),
  events: z.array(z.unknown()).meta({ description: 'Input events, in order (validated by the engine).' }),
  expect: z.array(ExpectationSchema).meta({ description: 'Expectations by event id.' }),
});

/** A scenario file: the policy it is for, a default profile, and scenarios. */
export const ScenarioFileSchema = strictObject({
  policy: z
    .string()
    .meta({ description: 'The policy id (or file name without .json) the scenarios are for.' }),
  profile: SubscriberProfileSchema.meta({ description: 'The subscriber of every scenario that names none.' }),
  scenarios: z.array(ScenarioSchema).min(1),
});

export type ExpectedAction = z.infer<typeof ExpectedActionSchema>;
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioFile = z.infer<typeof ScenarioFileSchema>;

/** The result of one scenario. */
export interface ScenarioResult {
  readonly name: string;
  readonly passed: boolean;
  /** One line per mismatch: which event, what was expected, what happened. */
  readonly failures: readonly string[];
  /** The rules that produced an action in this scenario. */
  readonly fired: ReadonlySet<string>;
}

const label = (a: Action) => `${a.kind}:${a.ruleId}`;

function matches(expected: ExpectedAction, actual: Action): boolean {
  if (typeof expected === 'string') return expected === label(actual);
  if (expected.kind !== actual.kind) return false;
  if (expected.rule !== undefined && expected.rule !== actual.ruleId) return false;
  if (expected.capId !== undefined && expected.capId !== actual.capId) return false;
  if (
    expected.scope !== undefined &&
    JSON.stringify(expected.scope) !== JSON.stringify('scope' in actual ? actual.scope : undefined)
  ) {
    return false;
  }
  if (expected.cause !== undefined && (actual.kind !== 'unblock' || actual.cause !== expected.cause))
    return false;
  return true;
}

/**
 * Replays one scenario on an engine and compares every decision with its expectation.
 *
 * @example
 * const result = await runScenario(engine, file.profile, file.scenarios[0]);
 * if (!result.passed) console.log(result.failures.join('\n'));
 */
export async function runScenario(
  engine: SpendcapEngine,
  profile: ScenarioFile['profile'],
  scenario: Scenario,
): Promise<ScenarioResult> {
  let state = engine.init(scenario.profile ?? profile);
  const failures: string[] = [];
  const fired = new Set<string>();
  scenario.events.forEach((event, i) => {
    const id = (event as { id?: unknown })?.id;
    if (typeof id !== 'string') failures.push(`events[${i}]: has no string id`);
  });
  for (const expectation of scenario.expect) {
    if (!scenario.events.some((e) => (e as { id?: unknown })?.id === expectation.event)) {
      failures.push(`expect: no event '${expectation.event}' in the scenario`);
    }
  }
  for (const event of scenario.events) {
    const id = String((event as { id?: unknown })?.id);
    const decision = await engine.process(state, event);
    state = decision.state;
    for (const action of decision.actions) fired.add(action.ruleId);
    const expected = scenario.expect.find((e) => e.event === id);
    const outcome = expected?.outcome ?? 'applied';
    if (decision.outcome !== outcome) {
      const why = decision.issues?.map((issue) => `${issue.path}: ${issue.message}`).join('; ') ?? '';
      failures.push(
        `after ${id}: expected outcome ${outcome}, got ${decision.outcome}${why ? ` (${why})` : ''}`,
      );
    }
    const wanted = expected?.actions ?? [];
    const ok =
      wanted.length === decision.actions.length && wanted.every((w, k) => matches(w, decision.actions[k]!));
    if (!ok) {
      failures.push(
        `after ${id}: expected [${wanted.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))).join(', ')}], got [${decision.actions.map((a) => (a.kind === 'unblock' ? `${label(a)} (${a.cause})` : label(a))).join(', ')}]`,
      );
    }
  }
  return { name: scenario.name, passed: failures.length === 0, failures, fired };
}
