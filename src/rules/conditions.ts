import type { ConditionResult } from '../schema/actions.js';
import type { FactValue, Facts } from '../schema/facts.js';
import type { Condition, LeafCondition } from '../schema/policy.js';

type Comparable = FactValue | readonly FactValue[];

/** json-rules-engine's numeric fact check: its numeric operators are false for a non-number fact. */
function isNumeric(value: unknown): boolean {
  return Number.parseFloat(value as string).toString() !== 'NaN';
}

/** Whether a value passes json-rules-engine's numeric check (`isNumeric` above), fast for numbers. */
const numeric = (v: unknown): boolean => (typeof v === 'number' ? v === v : isNumeric(v));

/**
 * One operator, with exactly json-rules-engine's default semantics (the differential tests hold us to it).
 *
 * @example
 * applyOperator('greaterThanInclusive', 0.8, 0.8); // true
 */
export function applyOperator(operator: string, factValue: FactValue, compareTo: Comparable): boolean {
  switch (operator) {
    case 'equal':
      return factValue === compareTo;
    case 'notEqual':
      return factValue !== compareTo;
    case 'in':
      return Array.isArray(compareTo) && compareTo.indexOf(factValue) > -1;
    case 'notIn':
      return Array.isArray(compareTo) && compareTo.indexOf(factValue) === -1;
    case 'contains':
    case 'doesNotContain':
      // Every spendcap fact is a scalar, and json-rules-engine only applies these to lists.
      return false;
    case 'lessThan':
      return numeric(factValue) && (factValue as number) < (compareTo as number);
    case 'lessThanInclusive':
      return numeric(factValue) && (factValue as number) <= (compareTo as number);
    case 'greaterThan':
      return numeric(factValue) && (factValue as number) > (compareTo as number);
    case 'greaterThanInclusive':
      return numeric(factValue) && (factValue as number) >= (compareTo as number);
    default:
      return false;
  }
}

function compareValue(leaf: LeafCondition, facts: Facts): Comparable {
  const value = leaf.value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value))
    return facts[value.fact as keyof Facts];
  return value as Comparable;
}

/**
 * A copy of a condition value, so an explanation handed to a caller shares nothing with the policy (or
 * with another action's explanation).
 */
export function copyConditionValue<T>(v: T): T {
  return Array.isArray(v) ? ([...v] as T) : v !== null && typeof v === 'object' ? { ...v } : v;
}

/**
 * Evaluates one leaf condition against the facts.
 *
 * @example
 * evaluateLeaf({ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 0.8 }, facts).result;
 */
export function evaluateLeaf(leaf: LeafCondition, facts: Facts): ConditionResult {
  const factValue = facts[leaf.fact as keyof Facts];
  const compareTo = compareValue(leaf, facts);
  return {
    fact: leaf.fact,
    operator: leaf.operator,
    value: copyConditionValue(leaf.value) as ConditionResult['value'],
    compareTo: copyConditionValue(compareTo) as ConditionResult['compareTo'],
    factValue,
    result: applyOperator(leaf.operator, factValue, compareTo),
  };
}

/**
 * Whether a condition tree holds for the facts: synchronous, with json-rules-engine's semantics.
 *
 * @example
 * testCondition({ all: [{ fact: 'roaming', operator: 'equal', value: true }] }, facts);
 */
export function testCondition(condition: Condition, facts: Facts): boolean {
  if ('fact' in condition)
    return applyOperator(
      condition.operator,
      facts[condition.fact as keyof Facts],
      compareValue(condition, facts),
    );
  if ('all' in condition) return condition.all.every((c) => testCondition(c, facts));
  if ('any' in condition) return condition.any.some((c) => testCondition(c, facts));
  return !testCondition(condition.not, facts);
}

/** A condition compiled to a function of the facts. */
export type CompiledCondition = (facts: Facts) => boolean;

/**
 * Compiles a validated condition tree to nested closures with exactly `testCondition`'s semantics (and so
 * json-rules-engine's): no tree walk, no allocation per evaluation.
 *
 * @example
 * const holds = compileCondition(rule.conditions); holds(facts);
 */
export function compileCondition(condition: Condition): CompiledCondition {
  if ('fact' in condition) return compileLeaf(condition);
  if ('all' in condition) {
    const parts = condition.all.map(compileCondition);
    return (f) => {
      for (let i = 0; i < parts.length; i++) if (!parts[i]!(f)) return false;
      return true;
    };
  }
  if ('any' in condition) {
    const parts = condition.any.map(compileCondition);
    return (f) => {
      for (let i = 0; i < parts.length; i++) if (parts[i]!(f)) return true;
      return false;
    };
  }
  const inner = compileCondition(condition.not);
  return (f) => !inner(f);
}

const compiledConditions = new WeakMap<Condition, CompiledCondition>();

/**
 * The compiled form of a condition of a loaded (frozen) policy, compiled once and kept with it.
 *
 * @example
 * compiledOf(rule.conditions)(facts);
 */
export function compiledOf(condition: Condition): CompiledCondition {
  let compiled = compiledConditions.get(condition);
  if (compiled === undefined) {
    compiled = compileCondition(condition);
    compiledConditions.set(condition, compiled);
  }
  return compiled;
}

function compileLeaf(leaf: LeafCondition): CompiledCondition {
  const fact = leaf.fact as keyof Facts;
  const value = leaf.value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const other = value.fact as keyof Facts;
    const operator = leaf.operator;
    return (f) => applyOperator(operator, f[fact], f[other]);
  }
  // A copy of the literal, so the compiled rule shares nothing with the loaded document.
  const literal = (Array.isArray(value) ? [...value] : value) as Comparable;
  switch (leaf.operator) {
    case 'equal':
      return (f) => f[fact] === literal;
    case 'notEqual':
      return (f) => f[fact] !== literal;
    case 'in': {
      if (!Array.isArray(literal)) return () => false;
      const list = literal as readonly FactValue[];
      return (f) => list.indexOf(f[fact]) > -1;
    }
    case 'notIn': {
      if (!Array.isArray(literal)) return () => false;
      const list = literal as readonly FactValue[];
      return (f) => list.indexOf(f[fact]) === -1;
    }
    case 'lessThan': {
      const n = literal as number;
      return (f) => {
        const v = f[fact];
        return numeric(v) && (v as number) < n;
      };
    }
    case 'lessThanInclusive': {
      const n = literal as number;
      return (f) => {
        const v = f[fact];
        return numeric(v) && (v as number) <= n;
      };
    }
    case 'greaterThan': {
      const n = literal as number;
      return (f) => {
        const v = f[fact];
        return numeric(v) && (v as number) > n;
      };
    }
    case 'greaterThanInclusive': {
      const n = literal as number;
      return (f) => {
        const v = f[fact];
        return numeric(v) && (v as number) >= n;
      };
    }
    default: {
      const operator = leaf.operator;
      return (f) => applyOperator(operator, f[fact], literal);
    }
  }
}

/**
 * Every leaf of a condition tree with its fact value and result (no short-circuit: an explanation
 * shows all of them).
 *
 * @example
 * explainCondition(rule.conditions, facts).filter((c) => c.result);
 */
export function explainCondition(
  condition: Condition,
  facts: Facts,
  out: ConditionResult[] = [],
): ConditionResult[] {
  if ('fact' in condition) out.push(evaluateLeaf(condition, facts));
  else if ('all' in condition) for (const c of condition.all) explainCondition(c, facts, out);
  else if ('any' in condition) for (const c of condition.any) explainCondition(c, facts, out);
  else explainCondition(condition.not, facts, out);
  return out;
}

/**
 * Evaluates one group of rules synchronously with the compiled semantics (exactly json-rules-engine's
 * operators, checked by a differential property test): no promise, no almanac, no cloning per event.
 *
 * @example
 * new CompiledRuleGroup(cap.rules).matches(facts).has('warn-80'); // true
 */
export class CompiledRuleGroup {
  readonly #names: readonly string[];
  readonly #tests: readonly CompiledCondition[];

  constructor(rules: readonly { readonly name: string; readonly conditions: Condition }[]) {
    this.#names = rules.map((r) => r.name);
    this.#tests = rules.map((r) => compileCondition(r.conditions));
  }

  /** The rules that match the facts. */
  matches(facts: Facts): RuleMatches {
    const tests = this.#tests;
    const matched = new Uint8Array(tests.length);
    let size = 0;
    for (let i = 0; i < tests.length; i++) {
      if (tests[i]!(facts)) {
        matched[i] = 1;
        size++;
      }
    }
    return new RuleMatches(this.#names, matched, size);
  }
}

/**
 * Which rules of a group matched: one flag per rule beside the group's names, so that an evaluation
 * (a hundred thousand of them in a large batch) makes no `Set`. A group has a handful of rules, and
 * names are looked up by comparing them in order.
 */
export class RuleMatches {
  constructor(
    readonly names: readonly string[],
    readonly matched: Uint8Array,
    /** How many rules matched. */
    readonly size: number,
  ) {}

  /** Whether the rule named `name` matched. */
  has(name: string): boolean {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.matched[i] === 1;
    return false;
  }
}
