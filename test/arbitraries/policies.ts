import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { loadPolicy, type Policy, type PolicyDocument } from '../../src/index';
import { domainOf, type Domain } from '../../src/testing/domain';

export { domainOf, type Domain } from '../../src/testing/domain';

/**
 * Policies for the invariant tests: the shipped `graduated-postpaid` policy, and a family of small
 * variant policies that exercise what the shipped one does not (a `day` window, a `quantity` cap,
 * `throttle` rules, scopes that include `home`, rules that depend on `roaming`, built-in notices).
 */

/** Reads a policy shipped in `rules/`. */
export function readShippedPolicy(name: string): PolicyDocument {
  return JSON.parse(
    readFileSync(new URL(`../../rules/${name}.json`, import.meta.url), 'utf8'),
  ) as PolicyDocument;
}

/** The flagship policy as written. */
export const SHIPPED_JSON: PolicyDocument = readShippedPolicy('graduated-postpaid');
/** The flagship policy, loaded. */
export const SHIPPED: Policy = loadPolicy(SHIPPED_JSON);

export const SHIPPED_DOMAIN: Domain = domainOf(SHIPPED_JSON);

const EU = [
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
  'IS',
  'LI',
  'NO',
];

/** The knobs of a variant policy. */
export interface VariantKnobs {
  readonly currency: 'PLN' | 'EUR';
  readonly dailyLimit: number;
  readonly dailyZones: 'roaming' | readonly string[];
  readonly volumeLimit: number;
  readonly volumeScopeZones: '*' | 'roaming';
  readonly spendLimit: number;
  readonly warnAt: number;
  readonly restrictAt: number;
  readonly kbps: number;
  readonly throttleEuOnly: boolean;
  readonly blockNeedsRoaming: boolean;
  readonly optIn: boolean;
  readonly withNotices: boolean;
  readonly priorities: readonly number[];
}

const usageRatioAtLeast = (value: number) => ({
  fact: 'usageRatio',
  operator: 'greaterThanInclusive',
  value,
});
const optedOut = { fact: 'optedIn', operator: 'equal', value: false };

/**
 * A small policy with a `day` window cost cap on roaming data (warn, throttle, block), a `quantity` cap on
 * data volume in MB (warn, throttle), and a whole-bill cost cap (warn, offer, block of world voice and
 * premium SMS, care note), plus a welcome notice without a cap.
 */
export function variantPolicy(k: VariantKnobs): PolicyDocument {
  const p = (i: number) => k.priorities[i % k.priorities.length] ?? 1;
  const restrictAll = (extra: object[]) => ({ all: [usageRatioAtLeast(k.restrictAt), ...extra] });
  const doc = {
    id: 'variant',
    version: '1',
    description: 'generated for the invariant tests',
    currency: k.currency,
    locale: 'en',
    services: ['data', 'voice', 'sms', 'mms', 'premium-sms'],
    zones: { eu: EU, nearby: ['CH', 'GB', 'UA', 'TR'] },
    otherZone: 'world',
    paymentLink: 'https://pay.example.com/p?sub={subscriberId}&amount={amount}&ref={actionId}',
    caps: [
      {
        id: 'daily-roaming',
        label: 'daily roaming data',
        limit: k.dailyLimit,
        window: 'day',
        services: ['data'],
        zones: k.dailyZones,
      },
      {
        id: 'data-volume',
        label: 'data volume',
        limit: k.volumeLimit,
        window: 'cycle',
        services: ['data'],
        zones: '*',
        measure: 'quantity',
        unit: 'MB',
      },
      {
        id: 'spend',
        label: 'monthly spend',
        limit: k.spendLimit,
        window: 'cycle',
        services: '*',
        zones: '*',
      },
    ],
    rules: [
      {
        name: 'welcome',
        conditions: {
          all: [
            { fact: 'zoneChanged', operator: 'equal', value: true },
            { fact: 'roaming', operator: 'equal', value: true },
          ],
        },
        event: { type: 'notify', params: { template: 'welcome' } },
      },
      {
        name: 'daily-warn',
        cap: 'daily-roaming',
        priority: p(0),
        conditions: { all: [usageRatioAtLeast(k.warnAt)] },
        event: { type: 'notify', params: { template: 'near-limit', paymentLink: true, threshold: k.warnAt } },
      },
      {
        name: 'daily-throttle',
        cap: 'daily-roaming',
        priority: p(1),
        conditions: restrictAll(k.optIn ? [optedOut] : []),
        event: {
          type: 'throttle',
          params: {
            kbps: k.kbps,
            ...(k.throttleEuOnly ? { scope: { services: ['data'], zones: ['eu'] } } : {}),
          },
        },
      },
      {
        name: 'daily-block',
        cap: 'daily-roaming',
        priority: p(2),
        conditions: { all: [usageRatioAtLeast(k.restrictAt + 0.5), optedOut] },
        event: { type: 'block' },
      },
      {
        name: 'volume-warn',
        cap: 'data-volume',
        priority: p(3),
        conditions: { all: [usageRatioAtLeast(0.9)] },
        event: { type: 'notify', params: { template: 'volume', channels: ['push'] } },
      },
      {
        name: 'volume-throttle',
        cap: 'data-volume',
        priority: p(4),
        conditions: { all: [usageRatioAtLeast(1)] },
        event: {
          type: 'throttle',
          params: { kbps: 64, scope: { services: ['data'], zones: k.volumeScopeZones } },
        },
      },
      {
        name: 'spend-warn',
        cap: 'spend',
        priority: p(5),
        conditions: { all: [usageRatioAtLeast(k.warnAt)] },
        event: {
          type: 'notify',
          params: { template: 'near-limit', channels: ['sms', 'email'], paymentLink: true },
        },
      },
      {
        name: 'spend-offer',
        cap: 'spend',
        priority: p(6),
        conditions: { all: [usageRatioAtLeast(k.restrictAt)] },
        event: { type: 'offerPayment', params: { amount: 'outstanding' } },
      },
      {
        name: 'spend-block-world',
        cap: 'spend',
        priority: p(7),
        conditions: restrictAll(
          k.blockNeedsRoaming ? [{ fact: 'roaming', operator: 'equal', value: true }] : [],
        ),
        event: {
          type: 'block',
          params: { scope: { services: ['voice', 'premium-sms'], zones: ['world', 'nearby'] } },
        },
      },
      {
        name: 'spend-care',
        cap: 'spend',
        priority: p(8),
        conditions: { all: [usageRatioAtLeast(k.restrictAt)] },
        event: { type: 'careNote', params: { queue: 'payments' } },
      },
    ],
    ...(k.withNotices ? { notices: { restricted: 'restricted', lifted: 'lifted' } } : {}),
    templates: {
      welcome: { en: 'Welcome to {zone}.' },
      'near-limit': { en: '{percent}% of your {capLabel} used ({spend} of {limit}). {paymentLink}' },
      volume: { en: 'You have used {percent}% of your {capLabel}.' },
      ...(k.withNotices
        ? {
            restricted: {
              en: 'Your {scope} is limited: {reason}. {howToLift}',
              de: 'Ihr {scope} ist begrenzt.',
            },
            lifted: { en: 'Your {scope} is back: {reason}.' },
          }
        : {}),
    },
  };
  return doc as unknown as PolicyDocument;
}

/** Knobs for {@link variantPolicy}: limits low enough that generated streams reach them. */
export const variantKnobsArb: fc.Arbitrary<VariantKnobs> = fc
  .record({
    currency: fc.constantFrom('PLN' as const, 'EUR' as const),
    dailyLimit: fc.integer({ min: 1500, max: 12000 }),
    dailyZones: fc.constantFrom<'roaming' | readonly string[]>('roaming', ['eu'], ['eu', 'world']),
    volumeLimit: fc.integer({ min: 300, max: 4000 }),
    volumeScopeZones: fc.constantFrom('*' as const, 'roaming' as const),
    spendLimit: fc.integer({ min: 15000, max: 90000 }),
    warnAt: fc.constantFrom(0.5, 0.75, 0.8, 0.9),
    restrictBy: fc.constantFrom(0, 0.1, 0.25),
    kbps: fc.constantFrom(64, 128, 512),
    throttleEuOnly: fc.boolean(),
    blockNeedsRoaming: fc.boolean(),
    optIn: fc.boolean(),
    withNotices: fc.boolean(),
    priorities: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 9 }),
  })
  .map(({ restrictBy, ...k }) => ({ ...k, restrictAt: Math.max(1, k.warnAt + restrictBy) }));

/** A variant policy document (it always loads). */
export const variantPolicyArb: fc.Arbitrary<PolicyDocument> = variantKnobsArb.map(variantPolicy);

/** A fixed variant, for example tests. */
export const VARIANT_JSON: PolicyDocument = variantPolicy({
  currency: 'EUR',
  dailyLimit: 5000,
  dailyZones: 'roaming',
  volumeLimit: 1000,
  volumeScopeZones: '*',
  spendLimit: 50000,
  warnAt: 0.8,
  restrictAt: 1,
  kbps: 128,
  throttleEuOnly: true,
  blockNeedsRoaming: false,
  optIn: true,
  withNotices: false,
  priorities: [10, 9, 8, 10, 9, 10, 9, 8, 7],
});

const loaded = new Map<string, Policy>();

/** Loads a policy document once per distinct text (variant policies repeat across runs). */
export function loadCached(doc: PolicyDocument): Policy {
  const key = JSON.stringify(doc);
  let policy = loaded.get(key);
  if (policy === undefined) {
    policy = loadPolicy(doc);
    if (loaded.size > 500) loaded.clear();
    loaded.set(key, policy);
  }
  return policy;
}
