import type { FactName } from '../schema/facts.js';
import type { Cap, Condition, LeafCondition, PolicyDocument, RuleEvent } from '../schema/policy.js';
import type { Scope } from '../schema/actions.js';

/** A rule after loading: its scope expanded and its conditions' leaves listed. */
export interface LoadedRule {
  readonly name: string;
  /** The cap the rule belongs to, or null for a rule that sees only subscriber facts. */
  readonly capId: string | null;
  readonly priority: number;
  /** Position in the policy, to order actions deterministically. */
  readonly index: number;
  readonly conditions: Condition;
  readonly event: RuleEvent;
  /** For block/throttle: the concrete, sorted scope. */
  readonly scope: Scope | null;
  /** Every leaf condition, in document order. */
  readonly leaves: readonly LeafCondition[];
  /** Every fact the conditions read. */
  readonly facts: ReadonlySet<FactName>;
}

/** A cap after loading. */
export interface LoadedCap {
  readonly id: string;
  readonly label: string;
  readonly limit: number;
  readonly window: Cap['window'];
  readonly measure: 'cost' | 'quantity';
  readonly unit: string | null;
  readonly services: ReadonlySet<string>;
  readonly zones: ReadonlySet<string>;
  /** The concrete, sorted scope. */
  readonly scope: Scope;
  /** Its rules, highest priority first, then in document order. */
  readonly rules: readonly LoadedRule[];
}

/**
 * A policy that passed every check: what `createEngine` takes. Build it with `loadPolicy`.
 */
export interface Policy {
  readonly kind: 'spendcap.policy';
  /** The validated document, frozen. */
  readonly document: Readonly<PolicyDocument>;
  readonly id: string;
  readonly version: string;
  readonly currency: string;
  readonly locale: string;
  readonly services: readonly string[];
  /** 'home', the policy's zones, then otherZone. */
  readonly zoneNames: readonly string[];
  readonly otherZone: string;
  readonly caps: readonly LoadedCap[];
  readonly capById: ReadonlyMap<string, LoadedCap>;
  /** Rules without a cap, highest priority first. */
  readonly caplessRules: readonly LoadedRule[];
  /** Warnings found while loading (a policy with errors does not load). */
  readonly warnings: readonly import('../errors.js').Issue[];
  /** The zone of `country` for a subscriber whose home is `homeCountry`. */
  zoneOf(country: string, homeCountry: string): string;
}
