import { z } from 'zod';
import { isCountryCode } from './countries.js';
import { isValidTimeZone } from '../window/index.js';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/**
 * Money in integer minor units (`1234` is 12.34 in a two-decimal currency): never floating point, and
 * never beyond `Number.MAX_SAFE_INTEGER`, where integer sums stop being exact.
 */
export const MinorUnitsSchema = z
  .number()
  .int('expected an integer amount in minor units (1234 = 12.34)')
  .refine(Number.isSafeInteger, 'expected an amount within Number.MAX_SAFE_INTEGER')
  .meta({ description: 'Integer minor units of the currency (1234 = 12.34).' });

/** A non-negative amount in minor units. */
export const NonNegativeMinorUnitsSchema = MinorUnitsSchema.refine((n) => n >= 0, 'expected an amount >= 0');

/** A positive amount in minor units. */
export const PositiveMinorUnitsSchema = MinorUnitsSchema.refine((n) => n > 0, 'expected an amount > 0');

/** An ISO 4217 currency code that `Intl` knows. */
export const CurrencySchema = z
  .string()
  .refine((code) => CURRENCIES.has(code), { message: 'expected an ISO 4217 currency code such as "EUR"' })
  .meta({ description: 'ISO 4217 currency code, e.g. "PLN".' });

/** An assigned ISO 3166-1 alpha-2 country code. */
export const CountrySchema = z
  .string()
  .refine(isCountryCode, { message: 'expected an ISO 3166-1 alpha-2 country code such as "PL"' })
  .meta({ description: 'ISO 3166-1 alpha-2 country code, upper case, e.g. "DE".' });

/** An IANA time zone name that `Intl` accepts. */
export const TimeZoneSchema = z
  .string()
  .refine(isValidTimeZone, { message: 'expected an IANA time zone name such as "Europe/Warsaw"' })
  .meta({ description: 'IANA time zone name, e.g. "Europe/Warsaw".' });

/** A BCP 47 locale tag. */
export const LocaleSchema = z
  .string()
  .refine(
    (tag) => {
      try {
        return Intl.getCanonicalLocales(tag).length === 1;
      } catch {
        return false;
      }
    },
    { message: 'expected a BCP 47 locale tag such as "pl-PL" or "en"' },
  )
  .meta({ description: 'BCP 47 locale tag, e.g. "pl-PL".' });

/**
 * The instants an event may name: from 2000-01-01T00:00:00Z to before 2100-01-01T00:00:00Z. A rated
 * record dated in 1970 or in 9999 is an upstream fault, and accepting it would move a subscriber's clock
 * decades away (every later record would then be too old).
 */
export const INSTANT_LIMITS = {
  earliest: Date.UTC(2000, 0, 1),
  latest: Date.UTC(2100, 0, 1),
} as const;

/** Whether an instant (epoch ms) is one an event may name. */
export const isInstantInRange = (ms: number): boolean =>
  ms >= INSTANT_LIMITS.earliest && ms < INSTANT_LIMITS.latest;

/** An instant written as ISO 8601 with an explicit offset (`Z` or `+02:00`). */
export const InstantSchema = z.iso
  .datetime({
    offset: true,
    message: 'expected an ISO 8601 time with an offset, e.g. "2026-11-24T10:15:00+01:00"',
  })
  .refine((text) => Number.isFinite(Date.parse(text)), 'expected a real calendar time')
  .refine(
    (text) => !Number.isFinite(Date.parse(text)) || isInstantInRange(Date.parse(text)),
    'expected a time from 2000-01-01T00:00:00Z to before 2100-01-01T00:00:00Z',
  )
  .meta({ description: 'ISO 8601 time with an offset, e.g. "2026-11-24T10:15:00+01:00".' });

/** An identifier: non-empty, at most 200 characters, no control characters. */
export const IdSchema = z
  .string()
  .min(1, 'expected a non-empty identifier')
  .max(200, 'expected an identifier of at most 200 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'expected no control characters');

/** A short free text (reason, reference): at most 1,000 characters. */
export const TextSchema = z
  .string()
  .min(1, 'expected a non-empty text')
  .max(1000, 'expected at most 1000 characters');

/** A service or zone name: lower-case letters, digits and dashes. */
export const NameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,39}$/,
    'expected a lower-case name of letters, digits and dashes, e.g. "premium-sms"',
  );
