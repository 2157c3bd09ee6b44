import fc from 'fast-check';
import type { SubscriberProfile } from '../schema/profile.js';

/** Home countries: in the EU zone (PL, DE, FR) and outside it (US, JP, IN, AU, NZ). */
export const HOME_COUNTRIES = ['PL', 'DE', 'US', 'JP', 'FR', 'IN', 'AU', 'NZ'] as const;

/**
 * IANA zones with DST in both hemispheres, half-hour offsets, and a zone whose midnight can be skipped
 * (America/Santiago, also the test process's own zone).
 */
export const TIME_ZONES = [
  'Europe/Warsaw',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Adelaide',
  'Pacific/Auckland',
  'Europe/Berlin',
  'Asia/Tokyo',
  'America/Santiago',
  'UTC',
] as const;

export const LOCALES = ['en', 'pl-PL', 'de'] as const;

/** Subscriber ids, one of them with spaces and non-ASCII letters. */
export const SUBSCRIBER_IDS = ['s1', 's-2', 'línea 3', '48600111222'] as const;

/** Subscriber ids named like members of `Object.prototype`. */
export const SUBSCRIBER_IDS_PROTOTYPE = ['toString', '__proto__', 'constructor', 's1'] as const;

/** A cycle anchor day, with the short-month edge (29-31) and 1 over-represented. */
export const anchorDayArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 1, max: 31 }),
  fc.constantFrom(1, 28, 29, 30, 31),
);

/** The one subscriber most example-based invariant tests use: at home in Poland, cycle from the 1st. */
export const S1_PROFILE = {
  subscriberId: 's1',
  homeCountry: 'PL',
  timeZone: 'Europe/Warsaw',
  cycleAnchorDay: 1,
} as const satisfies SubscriberProfile;

/** A valid profile for `subscriberId`. */
export function profileArb(subscriberId: string): fc.Arbitrary<SubscriberProfile> {
  return fc.record(
    {
      subscriberId: fc.constant(subscriberId),
      homeCountry: fc.constantFrom(...HOME_COUNTRIES),
      timeZone: fc.constantFrom(...TIME_ZONES),
      cycleAnchorDay: anchorDayArb,
      tenureMonths: fc.integer({ min: 0, max: 240 }),
      segment: fc.constantFrom('consumer', 'business'),
      locale: fc.constantFrom(...LOCALES),
    },
    { requiredKeys: ['subscriberId', 'homeCountry', 'timeZone', 'cycleAnchorDay'] },
  ) as fc.Arbitrary<SubscriberProfile>;
}

/** Profiles of 1..max distinct subscribers (max at most 4). */
export function profilesArb({
  min = 1,
  max = 4,
  ids = SUBSCRIBER_IDS,
}: { min?: number; max?: number; ids?: readonly string[] } = {}): fc.Arbitrary<SubscriberProfile[]> {
  return fc
    .integer({ min, max: Math.min(max, ids.length) })
    .chain((n) => fc.tuple(...ids.slice(0, n).map((id) => profileArb(id))));
}
