import { z } from 'zod';
import { strictObject } from './strict.js';
import { CountrySchema, IdSchema, LocaleSchema, TimeZoneSchema } from './common.js';

/**
 * One line/SIM: where home is, which time zone its billing windows follow, and the day its cycle starts.
 *
 * @example
 * SubscriberProfileSchema.parse({ subscriberId: 'sub-1', homeCountry: 'PL', timeZone: 'Europe/Warsaw', cycleAnchorDay: 1 });
 */
export const SubscriberProfileSchema = strictObject({
  subscriberId: IdSchema.meta({ description: 'The line/SIM this profile describes.' }),
  homeCountry: CountrySchema.meta({
    description: "The subscriber's home country: usage there is in zone 'home'.",
  }),
  timeZone: TimeZoneSchema.meta({ description: 'IANA time zone in which billing windows start at 00:00.' }),
  cycleAnchorDay: z
    .number()
    .int()
    .min(1)
    .max(31)
    .meta({ description: 'Day of the month the billing cycle starts (29-31 clamp to shorter months).' }),
  tenureMonths: z.number().int().min(0).max(2400).optional().meta({ description: 'Months as a customer.' }),
  segment: z.string().min(1).max(100).optional().meta({ description: 'Customer segment, e.g. "business".' }),
  locale: LocaleSchema.optional().meta({
    description: "Language for messages; the policy's locale when absent.",
  }),
});

/** A subscriber profile. */
export type SubscriberProfile = z.infer<typeof SubscriberProfileSchema>;
