import { Engine, type RuleProperties } from 'json-rules-engine';
import type { Facts } from '../schema/facts.js';
import type { LoadedRule } from '../policy/types.js';

/**
 * Evaluates one group of rules (a cap's, or the rules without a cap) with json-rules-engine.
 *
 * One json-rules-engine `Engine` keeps a shared status flag during `run`, so two overlapping runs on one
 * instance can drop each other's rule results (its issue #303). Every run here goes through a queue,
 * so callers may overlap freely (`Promise.all` over `process`) and still get the sequential answer.
 */
export class RuleGroupEvaluator {
  readonly #engine: Engine;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(rules: readonly LoadedRule[]) {
    this.#engine = new Engine([], {
      // A fact the engine does not supply must fail loudly, never make `notEqual` silently true.
      allowUndefinedFacts: false,
      allowUndefinedConditions: false,
      replaceFactsInEventParams: false,
      // Policy text never reaches a path resolver: `path` is refused at load, and this one refuses too.
      pathResolver: () => {
        throw new Error('spendcap refuses condition paths');
      },
    });
    for (const rule of rules) {
      this.#engine.addRule({
        name: rule.name,
        priority: rule.priority,
        conditions: rule.conditions as RuleProperties['conditions'],
        // The params stay on our side: the engine only tells which rules matched.
        event: { type: rule.event.type },
      });
    }
  }

  /**
   * The names of the rules that match the facts.
   *
   * @example
   * const hits = await evaluator.matches(facts); // Set { 'warn-80' }
   */
  matches(facts: Facts): Promise<Set<string>> {
    const run = this.#tail.then(async () => {
      const result = await this.#engine.run({ ...facts });
      return new Set(result.results.map((r) => (r as unknown as { name: string }).name));
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
