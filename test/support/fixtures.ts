import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createEngine,
  loadPolicy,
  type Decision,
  type SpendcapEngine,
  type SubscriberState,
} from '../../src/index';

/** The parsed JSON of a shipped policy in rules/. */
export function shippedPolicyJson(name = 'graduated-postpaid'): Record<string, any> {
  return JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../rules/${name}.json`, import.meta.url)), 'utf8'),
  );
}

export const SUB = 'sub-1';

export const profile = {
  subscriberId: SUB,
  homeCountry: 'PL',
  timeZone: 'Europe/Warsaw',
  cycleAnchorDay: 1,
  locale: 'en',
} as const;

let counter = 0;
/** A fresh event id. */
export const nextId = (prefix = 'e') => `${prefix}-${++counter}`;

const PLN = (amount: number) => ({ amount, currency: 'PLN' });

/** Event builders for subscriber SUB with sensible defaults. */
export const ev = {
  usage: (
    at: string,
    service: string,
    country: string,
    amount: number,
    extra: Record<string, unknown> = {},
  ) => ({
    type: 'usage',
    id: nextId('u'),
    subscriberId: SUB,
    at,
    service,
    country,
    cost: PLN(amount),
    ...extra,
  }),
  location: (at: string, country: string) => ({
    type: 'location',
    id: nextId('l'),
    subscriberId: SUB,
    at,
    country,
  }),
  payment: (at: string, amount: number) => ({
    type: 'payment',
    id: nextId('p'),
    subscriberId: SUB,
    at,
    amount,
    currency: 'PLN',
    reference: 'ref',
  }),
  adjustment: (at: string, amount: number, extra: Record<string, unknown> = {}) => ({
    type: 'adjustment',
    id: nextId('a'),
    subscriberId: SUB,
    at,
    amount,
    reference: 'adj',
    reason: 'correction',
    ...extra,
  }),
  dispute: (
    at: string,
    reference: string,
    amount: number,
    status: string,
    extra: Record<string, unknown> = {},
  ) => ({
    type: 'dispute',
    id: nextId('d'),
    subscriberId: SUB,
    at,
    reference,
    amount,
    status,
    ...extra,
  }),
  override: (at: string, by: string, capId: string, until: string, extra: Record<string, unknown> = {}) => ({
    type: 'override',
    id: nextId('o'),
    subscriberId: SUB,
    at,
    by,
    capId,
    until,
    reason: 'test',
    ...extra,
  }),
  tick: (at: string) => ({ type: 'tick', id: nextId('t'), subscriberId: SUB, at }),
};

/** An engine on a policy JSON and a driver that keeps the state between events. */
export function drive(policyJson: unknown = shippedPolicyJson(), p: Record<string, unknown> = profile) {
  const engine: SpendcapEngine = createEngine(loadPolicy(policyJson));
  let state: SubscriberState = engine.init(p as never);
  return {
    engine,
    get state() {
      return state;
    },
    async send(event: unknown): Promise<Decision> {
      const decision = await engine.process(state, event);
      state = decision.state;
      return decision;
    },
  };
}

/** The kinds of a decision's actions, with their rule, for compact assertions. */
export const kinds = (d: Decision) => d.actions.map((a) => `${a.kind}:${a.ruleId}`);

/** A policy exercising what the flagship does not: throttle, a day window, a quantity cap, overlapping caps. */
export function variantPolicyJson(): Record<string, any> {
  const ratio = (value: number) => ({ fact: 'usageRatio', operator: 'greaterThanInclusive', value });
  return {
    id: 'variant',
    version: '1',
    currency: 'PLN',
    locale: 'en',
    services: ['data', 'voice', 'sms'],
    zones: { eu: ['DE', 'FR', 'ES', 'PL'] },
    otherZone: 'world',
    caps: [
      {
        id: 'daily-roaming',
        label: 'daily roaming data',
        limit: 1000,
        window: 'day',
        services: ['data'],
        zones: 'roaming',
      },
      {
        id: 'allowance',
        label: 'data allowance',
        limit: 1000,
        window: 'cycle',
        services: ['data'],
        zones: ['home'],
        measure: 'quantity',
        unit: 'MB',
      },
      { id: 'eu-data', label: 'EU data', limit: 5000, window: 'cycle', services: ['data'], zones: ['eu'] },
      { id: 'all-data', label: 'all data', limit: 8000, window: 'cycle', services: ['data'], zones: '*' },
    ],
    rules: [
      {
        name: 'daily-throttle',
        cap: 'daily-roaming',
        conditions: { all: [ratio(1), { fact: 'roaming', operator: 'equal', value: true }] },
        event: { type: 'throttle', params: { kbps: 128 } },
      },
      {
        name: 'allowance-90',
        cap: 'allowance',
        conditions: { all: [ratio(0.9)] },
        event: { type: 'notify', params: { template: 'allowance' } },
      },
      { name: 'eu-block', cap: 'eu-data', conditions: { all: [ratio(1)] }, event: { type: 'block' } },
      {
        name: 'all-block-roaming',
        cap: 'all-data',
        conditions: { all: [ratio(1)] },
        event: { type: 'block', params: { scope: { services: ['data'], zones: 'roaming' } } },
      },
    ],
    templates: { allowance: { en: 'You have used {percent}% of your {capLabel}: {spend} of {limit}.' } },
  };
}
