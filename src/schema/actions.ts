import { z } from 'zod';
import { strictObject } from './strict.js';
import { CurrencySchema, IdSchema, InstantSchema, MinorUnitsSchema } from './common.js';

/** One (service, zone) pair: the unit that is blocked, throttled or lifted. */
export const ScopePairSchema = strictObject({ service: z.string(), zone: z.string() });
/** A concrete scope: sorted (service, zone) pairs. */
export const ScopeSchema = z.array(ScopePairSchema);

const FactValueSchema = z.union([z.number(), z.boolean(), z.string(), z.null()]);

/** One leaf condition as it was evaluated. */
export const ConditionResultSchema = strictObject({
  fact: z.string(),
  operator: z.string(),
  /** The condition's value: a literal, or the compared fact's name and value. */
  value: z.union([FactValueSchema, z.array(FactValueSchema), strictObject({ fact: z.string() })]),
  /** The value compared against: `value` itself, or the other fact's value. */
  compareTo: z.union([FactValueSchema, z.array(FactValueSchema)]),
  factValue: FactValueSchema,
  result: z.boolean(),
});

/** Why an action was taken. */
export const BecauseSchema = strictObject({
  ruleName: z.string(),
  /** The facts of the cap (or of the subscriber, for a rule without a cap) at decision time. */
  facts: z.record(z.string(), FactValueSchema),
  /** Every leaf condition of the rule with its fact value and result. */
  conditions: z.array(ConditionResultSchema),
  /** One sentence a care agent can read to the customer. */
  text: z.string(),
});

const base = {
  id: z.string(),
  subscriberId: IdSchema,
  at: InstantSchema,
  /** The cap, or null for a rule without a cap. */
  capId: z.string().nullable(),
  ruleId: z.string(),
  causeEventId: z.string(),
  because: BecauseSchema,
};

export const NotifyActionSchema = strictObject({
  kind: z.literal('notify'),
  ...base,
  channels: z.array(z.enum(['sms', 'email', 'push'])),
  template: z.string(),
  message: z.string(),
  paymentLink: z.string().optional(),
  threshold: z.number().optional(),
  /** The scope a restriction notice is about (present on notices that go with block/throttle/unblock). */
  scope: ScopeSchema.optional(),
});
export const BlockActionSchema = strictObject({ kind: z.literal('block'), ...base, scope: ScopeSchema });
export const ThrottleActionSchema = strictObject({
  kind: z.literal('throttle'),
  ...base,
  scope: ScopeSchema,
  kbps: z.number().int(),
});
export const UnblockCauseSchema = z.enum([
  'payment',
  'left-zone',
  'window-reset',
  'override',
  'credit',
  'dispute',
  'rule-cleared',
]);
export const UnblockActionSchema = strictObject({
  kind: z.literal('unblock'),
  ...base,
  scope: ScopeSchema,
  cause: UnblockCauseSchema,
  /** What is lifted: a `block` or a `throttle`. */
  lifts: z.enum(['block', 'throttle']),
});
export const OfferPaymentActionSchema = strictObject({
  kind: z.literal('offerPayment'),
  ...base,
  amount: MinorUnitsSchema,
  currency: CurrencySchema,
  link: z.string().optional(),
});
export const CareNoteActionSchema = strictObject({
  kind: z.literal('careNote'),
  ...base,
  queue: z.string(),
  summary: z.string(),
});

/**
 * Every output action, discriminated on `kind`.
 *
 * @example
 * if (action.kind === 'block') network.bar(action.subscriberId, action.scope);
 */
export const ActionSchema = z.discriminatedUnion('kind', [
  NotifyActionSchema,
  BlockActionSchema,
  ThrottleActionSchema,
  UnblockActionSchema,
  OfferPaymentActionSchema,
  CareNoteActionSchema,
]);

export type ScopePair = z.infer<typeof ScopePairSchema>;
export type Scope = z.infer<typeof ScopeSchema>;
export type ConditionResult = z.infer<typeof ConditionResultSchema>;
export type Because = z.infer<typeof BecauseSchema>;
export type NotifyAction = z.infer<typeof NotifyActionSchema>;
export type BlockAction = z.infer<typeof BlockActionSchema>;
export type ThrottleAction = z.infer<typeof ThrottleActionSchema>;
export type UnblockAction = z.infer<typeof UnblockActionSchema>;
export type UnblockCause = z.infer<typeof UnblockCauseSchema>;
export type OfferPaymentAction = z.infer<typeof OfferPaymentActionSchema>;
export type CareNoteAction = z.infer<typeof CareNoteActionSchema>;
/** An output action. */
export type Action = z.infer<typeof ActionSchema>;
/** The `kind` of an output action. */
export type ActionKind = Action['kind'];
