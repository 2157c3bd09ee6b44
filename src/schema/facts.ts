/**
 * The closed catalogue of facts a rule condition may name. Every fact is a scalar, so a condition never
 * needs json-rules-engine's `path` (whose JSONPath resolver can run code) or fact `params`.
 */
export type FactType = 'number' | 'boolean' | 'string';

/** What a fact holds and whether a rule without a cap may see it. */
export interface FactInfo {
  readonly type: FactType;
  /** `null` is a possible value (for example `segment` when the profile has none). */
  readonly nullable: boolean;
  /** `cap` facts exist only for a rule that belongs to a cap; `subscriber` facts exist for every rule. */
  readonly level: 'cap' | 'subscriber';
  readonly description: string;
}

const fact = (
  type: FactType,
  level: 'cap' | 'subscriber',
  description: string,
  nullable = false,
): FactInfo => ({ type, level, description, nullable });

/**
 * Every fact, in the order the README's table lists them.
 *
 * @example
 * FACTS.usageRatio.type; // 'number'
 */
export const FACTS = {
  spend: fact(
    'number',
    'cap',
    "Cost (or quantity) in the cap's scope and current window, less credits, less open disputes.",
  ),
  paid: fact('number', 'cap', "Payments in the cap's current window (0 for quantity caps)."),
  outstanding: fact('number', 'cap', 'spend - paid.'),
  limit: fact('number', 'cap', "The cap's limit for this subscriber."),
  usageRatio: fact('number', 'cap', 'outstanding / limit (1 means the limit is reached).'),
  remaining: fact('number', 'cap', 'limit - outstanding.'),
  zone: fact(
    'string',
    'subscriber',
    "The zone the subscriber is in now ('home', a policy zone, or otherZone).",
  ),
  country: fact('string', 'subscriber', 'The ISO 3166-1 alpha-2 country the subscriber is in now.'),
  roaming: fact('boolean', 'subscriber', "Whether the subscriber is outside 'home' now."),
  previousZone: fact('string', 'subscriber', 'The zone before this event.'),
  zoneChanged: fact('boolean', 'subscriber', 'Whether this event moved the subscriber to another zone.'),
  eventType: fact(
    'string',
    'subscriber',
    'The type of the triggering event (usage, location, payment, ...).',
  ),
  eventService: fact('string', 'subscriber', 'The service of a triggering usage event, else null.', true),
  eventZone: fact(
    'string',
    'subscriber',
    'The zone of a triggering usage or location event, else null.',
    true,
  ),
  optedIn: fact('boolean', 'cap', 'A customer opt-in (override by customer) is active on this cap.'),
  agentOverride: fact('boolean', 'cap', 'A care-agent override is active on this cap.'),
  tenureMonths: fact('number', 'subscriber', "The profile's tenureMonths, else null.", true),
  segment: fact('string', 'subscriber', "The profile's segment, else null.", true),
  daysLeftInWindow: fact('number', 'cap', "Whole days until the cap's window ends."),
  openDisputes: fact('number', 'subscriber', "The number of the subscriber's open disputes."),
  disputedAmount: fact('number', 'subscriber', 'The total amount of open disputes, in minor units.'),
  oldestOpenDisputeDays: fact(
    'number',
    'subscriber',
    'Whole days the oldest open dispute has been open at the time of this event, else null.',
    true,
  ),
} as const satisfies Record<string, FactInfo>;

/** The name of a fact. */
export type FactName = keyof typeof FACTS;

/** Every fact name. */
export const FACT_NAMES = Object.keys(FACTS) as FactName[];

/** The operators a condition may use: json-rules-engine's defaults, all of them scalar-safe. */
export const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;

/** The name of an operator. */
export type OperatorName = (typeof OPERATORS)[number];

/** The value of a fact at decision time. */
export type FactValue = number | boolean | string | null;

/** All facts of one cap (or, for a rule without a cap, the subscriber facts with cap facts absent). */
export type Facts = { [K in FactName]: FactValue };
