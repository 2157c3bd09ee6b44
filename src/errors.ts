/** The closed set of issue codes, so a program can branch on them. */
export type IssueCode =
  | 'invalid_type'
  | 'invalid_value'
  | 'invalid_format'
  | 'too_small'
  | 'too_big'
  | 'unknown_key'
  | 'forbidden_key'
  | 'missing_key'
  | 'duplicate_name'
  | 'unknown_fact'
  | 'unknown_operator'
  | 'unknown_cap'
  | 'unknown_service'
  | 'unknown_zone'
  | 'unknown_template'
  | 'unknown_placeholder'
  | 'unknown_action_kind'
  | 'missing_translation'
  | 'scope_outside_cap'
  | 'capless_action'
  | 'capless_fact'
  | 'type_mismatch'
  | 'overlapping_zones'
  | 'limit_exceeded'
  | 'unused'
  | 'currency_mismatch'
  | 'subscriber_mismatch'
  | 'invalid_state'
  | 'too_old'
  | 'invalid_transition'
  | 'not_counted'
  | 'late_event'
  | 'never_fires'
  | 'no_way_out'
  | 'untold_restriction'
  | 'home_restricted'
  | 'block_before_warning'
  | 'conflicting_restrictions'
  | 'not_analysed';

/** One problem, located by its JSON path. */
export interface Issue {
  readonly code: IssueCode;
  /** JSON path of the offending value, e.g. `$.rules[2].conditions.all[0].fact`. */
  readonly path: string;
  /** What was found and what was expected; a did-you-mean where a name is misspelt. */
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/**
 * The base of every error spendcap throws. Exceptions are for programmer errors only: a block is data.
 *
 * @example
 * try { loadPolicy(json); } catch (e) { if (e instanceof SpendcapError) console.error(e.code); }
 */
export class SpendcapError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SpendcapError';
    this.code = code;
  }
}

/** Formats issues one a line, for error messages. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.severity} ${i.code} at ${i.path}: ${i.message}`).join('\n');
}

/**
 * A policy that does not load; `issues` carries every problem with its JSON path.
 *
 * @example
 * try { loadPolicy(json); } catch (e) { if (e instanceof PolicyError) for (const i of e.issues) console.log(i.path, i.message); }
 */
export class PolicyError extends SpendcapError {
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    super('invalid_policy', `the policy does not load (${errors.length} error(s)):\n${formatIssues(errors)}`);
    this.name = 'PolicyError';
    this.issues = issues;
  }
}

/**
 * Invalid input given to an API that cannot return a rejection (`init` with a bad profile).
 *
 * @example
 * try { engine.init(profile); } catch (e) { if (e instanceof InputError) console.log(e.issues); }
 */
export class InputError extends SpendcapError {
  readonly issues: readonly Issue[];
  constructor(what: string, issues: readonly Issue[]) {
    super('invalid_input', `invalid ${what}:\n${formatIssues(issues)}`);
    this.name = 'InputError';
    this.issues = issues;
  }
}
