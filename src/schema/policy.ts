import { z } from 'zod';
import { strictObject } from './strict.js';
import { FACT_NAMES, OPERATORS } from './facts.js';
import {
  CountrySchema,
  CurrencySchema,
  IdSchema,
  LocaleSchema,
  NameSchema,
  PositiveMinorUnitsSchema,
} from './common.js';

/** Limits that keep a policy cheap to load and evaluate; a policy beyond them does not load. */
export const POLICY_LIMITS = {
  /** Nesting of `all` / `any` / `not` below a rule's `conditions`. */
  maxConditionDepth: 8,
  /** Leaf conditions in one rule. */
  maxConditionsPerRule: 64,
  rules: 500,
  caps: 100,
  zones: 50,
  services: 50,
  templates: 200,
} as const;

const ServiceListSchema = z
  .union([z.literal('*'), z.array(NameSchema).min(1)])
  .meta({ description: 'Service names, or "*" for every service the policy declares.' });

const ZoneListSchema = z.union([z.literal('*'), z.literal('roaming'), z.array(NameSchema).min(1)]).meta({
  description:
    'Zone names ("home", a zone of `zones`, or `otherZone`), "roaming" for every zone but home, or "*" for all.',
});

/** A scope in a policy: which services in which zones. */
export const PolicyScopeSchema = strictObject({
  services: ServiceListSchema,
  zones: ZoneListSchema,
});

/** A named limit over a scope and a window. */
export const CapSchema = strictObject({
  id: IdSchema.meta({ description: 'Unique cap id; rules name it in `cap`.' }),
  label: z.string().min(1).max(100).meta({ description: 'What the customer calls it, e.g. "roaming data".' }),
  limit: PositiveMinorUnitsSchema.meta({
    description: 'The limit: minor units of the policy currency for cost caps, `unit`s for quantity caps.',
  }),
  window: z.enum(['cycle', 'day']).meta({
    description:
      "'cycle': the billing cycle from the anchor day; 'day': the calendar day, both in the subscriber's zone.",
  }),
  services: ServiceListSchema,
  zones: ZoneListSchema,
  measure: z
    .enum(['cost', 'quantity'])
    .optional()
    .meta({ description: "'cost' (default) counts money; 'quantity' counts usage quantity in `unit`." }),
  unit: z
    .string()
    .min(1)
    .max(20)
    .optional()
    .meta({ description: "The unit a quantity cap counts, e.g. 'MB'." }),
});

const FactNameSchema = z
  .enum(FACT_NAMES as [string, ...string[]])
  .meta({ description: 'A fact (see the README).' });

const ScalarSchema = z.union([
  z.string().max(200),
  z.number().refine(Number.isFinite, 'expected a finite number'),
  z.boolean(),
  z.null(),
]);

/** A leaf condition: compare a fact with a literal or another fact. */
export const LeafConditionSchema = strictObject({
  fact: FactNameSchema,
  operator: z.enum(OPERATORS).meta({ description: 'A json-rules-engine operator.' }),
  value: z
    .union([ScalarSchema, z.array(ScalarSchema).max(100), strictObject({ fact: FactNameSchema })])
    .meta({
      description: 'A literal, a list (for in/notIn), or { "fact": name } to compare with another fact.',
    }),
});

/** A condition: a leaf, or `all` / `any` / `not` of conditions. */
export type Condition =
  z.infer<typeof LeafConditionSchema> | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export const AllConditionSchema: z.ZodType<{ all: Condition[] }> = strictObject({
  get all() {
    return z.array(ConditionSchema).min(1).meta({ description: 'Matches when every condition matches.' });
  },
});
export const AnyConditionSchema: z.ZodType<{ any: Condition[] }> = strictObject({
  get any() {
    return z
      .array(ConditionSchema)
      .min(1)
      .meta({ description: 'Matches when at least one condition matches.' });
  },
});
export const NotConditionSchema: z.ZodType<{ not: Condition }> = strictObject({
  get not() {
    return ConditionSchema.meta({ description: 'Matches when the condition does not.' });
  },
});

/** Any condition. */
export const ConditionSchema: z.ZodType<Condition> = z.union([
  LeafConditionSchema,
  AllConditionSchema,
  AnyConditionSchema,
  NotConditionSchema,
]);

/** The top of a rule's conditions: json-rules-engine requires `all`, `any` or `not` there. */
export const TopConditionSchema = z.union([AllConditionSchema, AnyConditionSchema, NotConditionSchema]);

const TemplateKeySchema = z.string().min(1).max(100);

/** Send a message to the subscriber. */
export const NotifyRuleEventSchema = strictObject({
  type: z.literal('notify').meta({ description: 'Send a message to the subscriber.' }),
  params: z
    .strictObject({
      template: TemplateKeySchema.meta({ description: 'A key of `templates`.' }),
      channels: z
        .array(z.enum(['sms', 'email', 'push']))
        .min(1)
        .optional()
        .meta({ description: 'Default ["sms"].' }),
      paymentLink: z.boolean().optional().meta({ description: 'Attach the filled-in payment link.' }),
      threshold: z.number().optional().meta({ description: 'The threshold this notice reports, e.g. 0.8.' }),
    })
    .meta({ description: 'Which template, on which channels, with or without the payment link.' }),
});

/** Block a scope (default: the cap's scope). */
export const BlockRuleEventSchema = strictObject({
  type: z.literal('block').meta({ description: 'Block the scope until no rule wants it blocked.' }),
  params: z
    .strictObject({
      scope: PolicyScopeSchema.optional().meta({
        description: "Must lie inside the cap's scope; default the cap's.",
      }),
    })
    .optional()
    .meta({ description: "Optional: the scope to block, inside the cap's scope." }),
});

/** Throttle a scope to `kbps`. */
export const ThrottleRuleEventSchema = strictObject({
  type: z.literal('throttle').meta({ description: 'Slow the scope down until no rule wants it throttled.' }),
  params: z
    .strictObject({
      kbps: z.number().int().min(1).max(10_000_000).meta({ description: 'The speed to throttle to.' }),
      scope: PolicyScopeSchema.optional().meta({
        description: "Must lie inside the cap's scope; default the cap's.",
      }),
    })
    .meta({ description: 'The speed, and optionally the scope.' }),
});

/** Offer a self-service payment. */
export const OfferPaymentRuleEventSchema = strictObject({
  type: z
    .literal('offerPayment')
    .meta({ description: 'Offer a self-service payment with the filled-in link.' }),
  params: z
    .strictObject({
      amount: z
        .union([PositiveMinorUnitsSchema, z.literal('outstanding')])
        .meta({ description: 'Minor units, or "outstanding" for the whole outstanding amount of the cap.' }),
    })
    .meta({ description: 'The amount to offer.' }),
});

/** Leave a note for a care queue. */
export const CareNoteRuleEventSchema = strictObject({
  type: z.literal('careNote').meta({ description: 'Leave a one-line note for a care queue.' }),
  params: z
    .strictObject({
      queue: NameSchema.meta({ description: 'The care queue, e.g. "payments" (not "collections").' }),
      template: TemplateKeySchema.optional().meta({
        description: 'A template for the summary; built in when absent.',
      }),
    })
    .meta({ description: 'The queue, and optionally the summary template.' }),
});

/** What a rule does when it matches: an action kind with its parameters. */
export const RuleEventSchema = z.discriminatedUnion('type', [
  NotifyRuleEventSchema,
  BlockRuleEventSchema,
  ThrottleRuleEventSchema,
  OfferPaymentRuleEventSchema,
  CareNoteRuleEventSchema,
]);

/** A json-rules-engine rule with a unique name and the cap it belongs to. */
export const RuleSchema = strictObject({
  name: IdSchema.meta({ description: 'Unique rule name; actions carry it as `ruleId`.' }),
  cap: IdSchema.optional().meta({
    description:
      'The cap whose facts the rule sees; without one only subscriber facts, and only notify/careNote.',
  }),
  description: z.string().max(1000).optional().meta({ description: 'What the rule is for, for people.' }),
  priority: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .meta({ description: 'Higher runs first (json-rules-engine).' }),
  conditions: TopConditionSchema.meta({
    description: 'When the rule matches: "all", "any" or "not" of conditions.',
  }),
  event: RuleEventSchema.meta({
    description: 'What the rule does when it matches: an action kind and its params.',
  }),
});

/**
 * A spendcap policy document (`rules/*.json`).
 *
 * @example
 * PolicySchema.safeParse(JSON.parse(text)).success;
 */
export const PolicySchema = strictObject({
  $schema: z.string().optional().meta({ description: 'Path or URL of policy.schema.json, for editors.' }),
  id: IdSchema.meta({ description: 'Policy id.' }),
  version: z.string().min(1).max(50).meta({ description: 'Policy version, e.g. a date.' }),
  description: z.string().max(5000).optional().meta({ description: 'What the policy is for, for people.' }),
  currency: CurrencySchema.meta({
    description: 'The one currency of every amount in this policy and its events.',
  }),
  locale: LocaleSchema.meta({ description: 'Default message locale for subscribers without one.' }),
  services: z
    .array(NameSchema)
    .min(1)
    .meta({ description: 'The services usage may name: data, voice, sms, mms, ...' }),
  zones: z
    .record(NameSchema, z.array(CountrySchema).min(1))
    .meta({ description: 'Named country lists; the home country is always zone "home".' }),
  otherZone: NameSchema.meta({ description: 'The zone of every country in no list, e.g. "world".' }),
  paymentLink: z.string().min(1).max(2000).optional().meta({
    description: 'Self-service payment URL; placeholders {subscriberId}, {amount} (minor units), {actionId}.',
  }),
  caps: z.array(CapSchema).meta({ description: 'Named limits over a scope and a window.' }),
  rules: z.array(RuleSchema).meta({ description: 'json-rules-engine rules, each with a unique name.' }),
  notices: z
    .strictObject({
      restricted: TemplateKeySchema.optional().meta({
        description: 'Template sent with every block/throttle.',
      }),
      lifted: TemplateKeySchema.optional().meta({ description: 'Template sent with every unblock.' }),
    })
    .optional()
    .meta({
      description:
        'Templates of the notices that go with every restriction change; built-in English texts otherwise.',
    }),
  templates: z
    .record(TemplateKeySchema, z.record(z.string().min(1).max(35), z.string().min(1).max(2000)))
    .meta({ description: 'Message texts by template key and locale ("pl-PL", "pl", "en").' }),
});

/** A policy as written (before `loadPolicy` compiles it). */
export type PolicyDocument = z.infer<typeof PolicySchema>;
export type Cap = z.infer<typeof CapSchema>;
export type Rule = z.infer<typeof RuleSchema>;
export type RuleEvent = z.infer<typeof RuleEventSchema>;
export type LeafCondition = z.infer<typeof LeafConditionSchema>;
export type PolicyScope = z.infer<typeof PolicyScopeSchema>;
/** An action kind a rule may produce. */
export type RuleActionKind = RuleEvent['type'];
