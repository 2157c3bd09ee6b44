import fc from 'fast-check';
import {
  windowAt,
  type Action,
  type Condition,
  type Decision,
  type PolicyDocument,
  type Rule,
  type ScopePair,
  type SpendcapEngine,
  type SubscriberProfile,
  type SubscriberState,
} from '../index.js';
import type { Label, Stream } from './events.js';

/**
 * Helpers the invariant tests share: feeding a generated stream through `process`, and an independent
 * reading of the policy document (scopes, zones, thresholds, conditions) to check the engine against.
 * Nothing here imports the library's internals: the checks must not reuse the code they check.
 */

/**
 * Options for `fc.assert` on stream properties. A run processes up to 60 events, so shrinking a failure
 * can take minutes: it stops after 35 s (well inside vitest's 60 s test timeout), and the failure is still
 * reported with the smallest counterexample found so far and the seed to replay it.
 */
export function budget(numRuns?: number): fc.Parameters<unknown> {
  return { ...(numRuns !== undefined ? { numRuns } : {}), plugins: [fc.interruptAfterTimeLimit(35_000)] };
}

/** One event of a stream as it went through `process`. */
export interface Processed {
  readonly index: number;
  readonly event: unknown;
  readonly label: Label;
  readonly host: string;
  readonly profile: SubscriberProfile;
  /** The host's state the event was processed against. */
  readonly before: SubscriberState;
  readonly decision: Decision;
}

export interface ProcessedStream {
  readonly steps: readonly Processed[];
  /** Final state per subscriber (every profile, even one that saw no event). */
  readonly states: ReadonlyMap<string, SubscriberState>;
}

/**
 * Feeds each event of a stream to `process` with its host subscriber's current state (an invalid event,
 * even one naming another subscriber or none, goes to its host). `from` resumes from earlier states.
 */
export async function processStream(
  engine: SpendcapEngine,
  stream: Stream,
  options: { from?: ReadonlyMap<string, SubscriberState>; start?: number; end?: number } = {},
): Promise<ProcessedStream> {
  const profiles = new Map(stream.profiles.map((p) => [p.subscriberId, p]));
  const states = new Map<string, SubscriberState>();
  for (const p of stream.profiles)
    states.set(p.subscriberId, options.from?.get(p.subscriberId) ?? engine.init(p));
  const steps: Processed[] = [];
  const end = options.end ?? stream.events.length;
  for (let index = options.start ?? 0; index < end; index++) {
    const label = stream.labels[index]!;
    const event = stream.events[index];
    const before = states.get(label.host)!;
    const decision = await engine.process(before, event);
    states.set(label.host, decision.state);
    steps.push({
      index,
      event,
      label,
      host: label.host,
      profile: profiles.get(label.host)!,
      before,
      decision,
    });
  }
  return { steps, states };
}

/** A (service, zone) pair as one string. */
export const pairKey = (p: ScopePair): string => `${p.service}@${p.zone}`;

export function zoneNames(doc: PolicyDocument): string[] {
  return ['home', ...Object.keys(doc.zones), doc.otherZone];
}

/** The zone of a country for a subscriber at home in `home`, read from the document. */
export function zoneOf(doc: PolicyDocument, country: string, home: string): string {
  if (country === home) return 'home';
  for (const [zone, countries] of Object.entries(doc.zones)) if (countries.includes(country)) return zone;
  return doc.otherZone;
}

function services(doc: PolicyDocument, list: '*' | readonly string[]): string[] {
  return list === '*' ? [...doc.services] : [...list];
}

function zones(doc: PolicyDocument, list: '*' | 'roaming' | readonly string[]): string[] {
  if (list === '*') return zoneNames(doc);
  if (list === 'roaming') return zoneNames(doc).filter((z) => z !== 'home');
  return [...list];
}

/** Every pair of a policy scope. */
export function scopePairs(
  doc: PolicyDocument,
  scope: { services: '*' | readonly string[]; zones: '*' | 'roaming' | readonly string[] },
): Set<string> {
  const out = new Set<string>();
  for (const service of services(doc, scope.services))
    for (const zone of zones(doc, scope.zones)) out.add(pairKey({ service, zone }));
  return out;
}

export function capOf(doc: PolicyDocument, capId: string) {
  const cap = doc.caps.find((c) => c.id === capId);
  if (cap === undefined) throw new Error(`no cap '${capId}' in policy '${doc.id}'`);
  return cap;
}

export function ruleOf(doc: PolicyDocument, name: string): Rule {
  const rule = doc.rules.find((r) => r.name === name);
  if (rule === undefined) throw new Error(`no rule '${name}' in policy '${doc.id}'`);
  return rule;
}

/** The pairs a cap counts. */
export function capPairs(doc: PolicyDocument, capId: string): Set<string> {
  return scopePairs(doc, capOf(doc, capId));
}

/** The pairs a block/throttle rule restricts: its own scope, or its cap's. */
export function rulePairs(doc: PolicyDocument, rule: Rule): Set<string> {
  const params =
    rule.event.type === 'block' || rule.event.type === 'throttle' ? rule.event.params : undefined;
  const scope = params?.scope ?? capOf(doc, rule.cap!);
  return scopePairs(doc, scope);
}

/** Whether a rule restricts (block or throttle). */
export const isRestricting = (rule: Rule): boolean =>
  rule.event.type === 'block' || rule.event.type === 'throttle';

/** The `usageRatio` threshold of a rule written `all: [usageRatio >= t, ...]`, or undefined. */
export function ratioThreshold(rule: Rule): number | undefined {
  const c = rule.conditions;
  if (!('all' in c)) return undefined;
  for (const leaf of c.all) {
    if ('fact' in leaf && leaf.fact === 'usageRatio' && leaf.operator === 'greaterThanInclusive') {
      return leaf.value as number;
    }
  }
  return undefined;
}

type FactValue = number | boolean | string | null;

/** json-rules-engine's default operators, written out again for the tests. */
function compare(operator: string, a: FactValue, b: FactValue | readonly FactValue[]): boolean {
  const num = typeof a === 'number';
  switch (operator) {
    case 'equal':
      return a === b;
    case 'notEqual':
      return a !== b;
    case 'in':
      return Array.isArray(b) && b.includes(a);
    case 'notIn':
      return Array.isArray(b) && !b.includes(a);
    case 'lessThan':
      return num && a < (b as number);
    case 'lessThanInclusive':
      return num && a <= (b as number);
    case 'greaterThan':
      return num && a > (b as number);
    case 'greaterThanInclusive':
      return num && a >= (b as number);
    default:
      return false;
  }
}

/** Whether a rule's conditions hold for the facts. */
export function holds(condition: Condition, facts: Readonly<Record<string, unknown>>): boolean {
  if ('all' in condition) return condition.all.every((c) => holds(c, facts));
  if ('any' in condition) return condition.any.some((c) => holds(c, facts));
  if ('not' in condition) return !holds(condition.not, facts);
  const value = condition.value;
  const other =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (facts[value.fact] as FactValue)
      : (value as FactValue | FactValue[]);
  return compare(condition.operator, facts[condition.fact] as FactValue, other);
}

/** The key of the window of `kind` containing the state's clock, computed from the profile. */
export function windowKeyAt(kind: 'cycle' | 'day', instant: number, profile: SubscriberProfile): string {
  return windowAt(kind, instant, profile.timeZone, profile.cycleAnchorDay).key;
}

/** Restriction actions of a decision. */
export const restrictionActions = (actions: readonly Action[]) =>
  actions.filter(
    (a): a is Extract<Action, { kind: 'block' | 'throttle' | 'unblock' }> =>
      a.kind === 'block' || a.kind === 'throttle' || a.kind === 'unblock',
  );

/** Plain JSON round trip, as a store would do. */
export const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Freezes a value and everything under it, so that a mutation throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** A short, readable account of a decision, for failure messages. */
export function describeStep(step: Processed): string {
  const kinds = step.decision.actions.map((a) => `${a.kind}:${a.capId ?? '-'}/${a.ruleId}`).join(' ');
  return `#${step.index} [${step.label.kind}${step.label.defect ? ` ${step.label.defect}` : ''}] ${JSON.stringify(
    step.event,
  )} -> ${step.decision.outcome} ${kinds}`;
}
