import { z } from 'zod';
import { strictObject } from './strict.js';
import {
  CountrySchema,
  CurrencySchema,
  IdSchema,
  InstantSchema,
  MinorUnitsSchema,
  NameSchema,
  NonNegativeMinorUnitsSchema,
  PositiveMinorUnitsSchema,
  TextSchema,
} from './common.js';

const base = {
  id: IdSchema.meta({ description: 'Unique per subscriber; a repeated id is a duplicate.' }),
  subscriberId: IdSchema.meta({ description: 'The subscriber the event belongs to.' }),
  at: InstantSchema.meta({
    description: 'When it happened: ISO 8601 with an offset. The only clock spendcap reads.',
  }),
};

/** Money with its currency: the currency must be the policy's. */
export const MoneySchema = strictObject({
  amount: NonNegativeMinorUnitsSchema,
  currency: CurrencySchema,
});

/** A rated usage record (CDR). */
export const UsageEventSchema = strictObject({
  type: z.literal('usage'),
  ...base,
  service: NameSchema.meta({ description: "A service the policy declares, e.g. 'data'." }),
  country: CountrySchema.meta({ description: 'Where the usage happened.' }),
  cost: MoneySchema.meta({ description: 'The rated cost.' }),
  quantity: z
    .number()
    .min(0, 'expected a quantity >= 0')
    .refine(Number.isFinite, 'expected a finite quantity')
    .optional()
    .meta({ description: "Usage volume in `unit`, counted by caps whose measure is 'quantity'." }),
  unit: z
    .string()
    .min(1)
    .max(20)
    .optional()
    .meta({ description: "Unit of `quantity`, e.g. 'MB', 'min', 'msg'." }),
  ratingGroup: z.union([z.string().max(100), z.number().int()]).optional(),
});

/** The subscriber attached to a network in a country. */
export const LocationEventSchema = strictObject({
  type: z.literal('location'),
  ...base,
  country: CountrySchema,
  network: z
    .string()
    .regex(/^\d{3}-?\d{2,3}$/, 'expected an MCC-MNC such as "260-01"')
    .optional(),
});

/** Money received: lowers the outstanding balance of every cost cap in its window. */
export const PaymentEventSchema = strictObject({
  type: z.literal('payment'),
  ...base,
  amount: PositiveMinorUnitsSchema,
  currency: CurrencySchema,
  reference: TextSchema,
});

/** A correction: positive adds a charge, negative is a credit. */
export const AdjustmentEventSchema = strictObject({
  type: z.literal('adjustment'),
  ...base,
  amount: MinorUnitsSchema.refine((n) => n !== 0, 'expected a non-zero amount'),
  currency: CurrencySchema.optional().meta({ description: "When given, must be the policy's currency." }),
  reference: TextSchema,
  reason: TextSchema,
  capId: IdSchema.optional().meta({
    description: 'The one cost cap it applies to; every cost cap when absent.',
  }),
});

/** A dispute moving through open, upheld (becomes a credit) or rejected (counts again). */
export const DisputeEventSchema = strictObject({
  type: z.literal('dispute'),
  ...base,
  reference: TextSchema.meta({ description: 'The case number every department and message uses.' }),
  amount: PositiveMinorUnitsSchema,
  currency: CurrencySchema.optional().meta({ description: "When given, must be the policy's currency." }),
  status: z.enum(['open', 'upheld', 'rejected']),
  capId: IdSchema.optional().meta({
    description: 'The one cost cap the disputed charge counted in; every cost cap when absent.',
  }),
});

/** A customer opt-in or a care agent's suspension of one cap's restrictions. */
export const OverrideEventSchema = strictObject({
  type: z.literal('override'),
  ...base,
  by: z.enum(['customer', 'agent']),
  capId: IdSchema,
  until: z.union([InstantSchema, z.literal('window-end')]),
  reason: TextSchema,
  agentId: IdSchema.optional(),
});

/** Time passes: window roll-overs and override expiry take effect without usage. */
export const TickEventSchema = strictObject({ type: z.literal('tick'), ...base });

/**
 * Every input event, discriminated on `type`.
 *
 * @example
 * EventSchema.parse({ type: 'tick', id: 't1', subscriberId: 's1', at: '2026-11-24T00:00:00Z' });
 */
export const EventSchema = z.discriminatedUnion('type', [
  UsageEventSchema,
  LocationEventSchema,
  PaymentEventSchema,
  AdjustmentEventSchema,
  DisputeEventSchema,
  OverrideEventSchema,
  TickEventSchema,
]);

export type UsageEvent = z.infer<typeof UsageEventSchema>;
export type LocationEvent = z.infer<typeof LocationEventSchema>;
export type PaymentEvent = z.infer<typeof PaymentEventSchema>;
export type AdjustmentEvent = z.infer<typeof AdjustmentEventSchema>;
export type DisputeEvent = z.infer<typeof DisputeEventSchema>;
export type OverrideEvent = z.infer<typeof OverrideEventSchema>;
export type TickEvent = z.infer<typeof TickEventSchema>;
/** An input event. */
export type SpendEvent = z.infer<typeof EventSchema>;
/** The `type` of an input event. */
export type EventType = SpendEvent['type'];
/** Every event type. */
export const EVENT_TYPES: readonly EventType[] = [
  'usage',
  'location',
  'payment',
  'adjustment',
  'dispute',
  'override',
  'tick',
];
