import fc from 'fast-check';
import type { SubscriberProfile } from '../schema/profile.js';
import { type Domain } from './domain.js';
import { profilesArb } from './profiles.js';

/**
 * Multi-subscriber event streams for the invariant tests.
 *
 * A stream is generated as a plan (a list of random steps) and built into events by a deterministic fold,
 * so that shrinking removes steps and the events stay consistent: ids are unique per subscriber (and
 * deliberately shared between subscribers), dispute references go open -> upheld/rejected, overrides end
 * after they start, and time moves forward over roughly 70 days so that cycle and day windows roll.
 * Mixed in: backdated events (in the current cycle, in the previous one, or older than the ledger
 * keeps), verbatim repeats of earlier events, and invalid events of every kind.
 */

/** What the generator meant an event to be. */
export type LabelKind = 'valid' | 'backdated' | 'duplicate' | 'invalid';

export interface Label {
  readonly kind: LabelKind;
  /** The subscriber whose state a process-based test feeds the event to (also for invalid events). */
  readonly host: string;
  /** For a duplicate: the index in the stream of the event it repeats. */
  readonly of?: number;
  /** For an invalid event: what is wrong with it. */
  readonly defect?: string;
}

export interface Stream {
  readonly profiles: readonly SubscriberProfile[];
  readonly events: readonly unknown[];
  readonly labels: readonly Label[];
}

/** A valid event, as the generator writes it (plain JSON). */
export type EventJson = Record<string, unknown> & {
  type: string;
  id: string;
  subscriberId: string;
  at: string;
};

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;

/** Start instants: late January (February's short cycles), March (DST in both hemispheres), autumn, year end. */
export const BASE_TIMES = [
  Date.UTC(2026, 0, 20),
  Date.UTC(2026, 2, 1),
  Date.UTC(2026, 8, 25),
  Date.UTC(2026, 10, 20),
] as const;

/** Offsets (minutes) the same instant is written with: `Z`, Europe, America, India, Adelaide, Auckland, Nepal. */
export const OFFSETS = [0, 0, 60, 120, -300, -240, -180, 330, 345, 570, 780] as const;

/** Writes an instant as ISO 8601 with the given UTC offset (`Z` for 0). */
export function formatInstant(ms: number, offsetMinutes = 0): string {
  const local = new Date(ms + offsetMinutes * MINUTE).toISOString().replace(/\.000Z$|Z$/, '');
  if (offsetMinutes === 0) return `${local}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export const EU_COUNTRIES = ['DE', 'FR', 'ES', 'IT', 'PL', 'AT', 'NO', 'GR'] as const;
export const WORLD_COUNTRIES = ['US', 'JP', 'CH', 'TR', 'EG', 'BR', 'AU', 'IN', 'GB', 'UA'] as const;

/** Dates that no reader should accept as an ISO 8601 instant with an offset. */
export const BAD_DATES = [
  '2026-02-30T10:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-03-01T10:00:00',
  '2026-03-01T24:00:00Z',
  '2026-03-01T10:61:00Z',
  'yesterday',
  '',
  '2026-03-01',
  '+275760-09-13T00:00:00Z',
  'Sun, 01 Mar 2026 10:00:00 GMT',
] as const;

export type StepKind =
  | 'usage'
  | 'location'
  | 'payment'
  | 'adjustment'
  | 'dispute'
  | 'override'
  | 'tick'
  | 'late'
  | 'duplicate'
  | 'invalid';

/** One random step of a plan; the fold reads only the fields its kind needs. */
export interface Step {
  readonly kind: StepKind;
  readonly sub: number;
  /** Minutes the stream's clock moves forward before this step. */
  readonly dt: number;
  readonly pick: number;
  readonly pick2: number;
  /** A charge (bounded by `maxCharge`). */
  readonly amount: number;
  /** A payment or credit: not bounded. */
  readonly money: number;
  readonly quantity: number;
  /** Minutes a backdated event lies before the clock (up to 60 days). */
  readonly back: number;
  readonly flag: boolean;
  readonly flag2: boolean;
  readonly offset: number;
}

export interface StreamOptions {
  /** How many subscribers (1-4), and from which ids (default `SUBSCRIBER_IDS`). */
  readonly subscribers?: { readonly min?: number; readonly max?: number; readonly ids?: readonly string[] };
  readonly maxEvents?: number;
  readonly minEvents?: number;
  /** Bound on every amount that can raise spend: usage cost, positive adjustment, disputed amount. */
  readonly maxCharge?: number;
  /** Relative weights of the step kinds; 0 leaves a kind out. */
  readonly weights?: Partial<Record<StepKind, number>>;
  /** Percent of usage and locations at home (default 40); the rest is split between EU and world. */
  readonly homeShare?: number;
  /** Percent of usage that is data (default 50). */
  readonly dataShare?: number;
  /**
   * 'prototype': event ids and dispute references are now and then named like members of
   * `Object.prototype` (`__proto__`, `constructor`, `toString`, ...), which a plain-object map mistakes
   * for entries it already has. (For subscriber ids, pass `subscribers.ids`.)
   */
  readonly ids?: 'plain' | 'prototype';
}

/** Names a plain object already "has" through its prototype. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
] as const;

export const DEFAULT_WEIGHTS: Readonly<Record<StepKind, number>> = {
  usage: 34,
  location: 7,
  payment: 7,
  adjustment: 5,
  dispute: 7,
  override: 5,
  tick: 6,
  late: 7,
  duplicate: 6,
  invalid: 8,
};

/** Minutes between steps: mostly minutes to two days, now and then a week (about 70 days per 60 steps). */
const dtArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 180 }), weight: 4 },
  { arbitrary: fc.integer({ min: 180, max: 2_880 }), weight: 5 },
  { arbitrary: fc.integer({ min: 2_880, max: 12_960 }), weight: 1 },
);

function chargeArb(maxCharge: number | undefined): fc.Arbitrary<number> {
  if (maxCharge !== undefined) return fc.integer({ min: 1, max: maxCharge });
  return fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 500 }), weight: 3 },
    { arbitrary: fc.integer({ min: 500, max: 5_000 }), weight: 4 },
    { arbitrary: fc.integer({ min: 5_000, max: 40_000 }), weight: 2 },
  );
}

/** One step of a plan. */
export function stepArb(options: StreamOptions = {}): fc.Arbitrary<Step> {
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  const kinds = (Object.keys(weights) as StepKind[]).filter((k) => weights[k] > 0);
  return fc.record({
    kind: fc.oneof(...kinds.map((k) => ({ arbitrary: fc.constant(k), weight: weights[k] }))),
    sub: fc.nat({ max: 3 }),
    dt: dtArb,
    // Uniform, so that every country, service and defect turns up (fast-check favours small numbers).
    pick: fc.noBias(fc.nat({ max: 9_999 })),
    pick2: fc.noBias(fc.nat({ max: 9_999 })),
    amount: chargeArb(options.maxCharge),
    money: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 5_000, max: 60_000 })),
    quantity: fc.integer({ min: 1, max: 800 }),
    back: fc.integer({ min: 60, max: 60 * 1_440 }),
    flag: fc.boolean(),
    flag2: fc.boolean(),
    offset: fc.nat({ max: OFFSETS.length - 1 }),
  });
}

/** A plan: the profiles, the start instant and the steps. */
export interface Plan {
  readonly profiles: readonly SubscriberProfile[];
  readonly start: number;
  readonly steps: readonly Step[];
}

export function planArb(options: StreamOptions = {}): fc.Arbitrary<Plan> {
  return fc.record({
    profiles: profilesArb(options.subscribers ?? {}),
    start: fc
      .tuple(fc.constantFrom(...BASE_TIMES), fc.integer({ min: 0, max: 20 * 1_440 }))
      .map(([base, minutes]) => base + minutes * MINUTE),
    steps: fc.array(stepArb(options), {
      minLength: options.minEvents ?? 0,
      maxLength: options.maxEvents ?? 60,
      // fast-check would otherwise stop at about ten steps, too few for windows to roll.
      size: 'max',
    }),
  });
}

/** A multi-subscriber stream for a policy's domain. */
export function streamArb(domain: Domain, options: StreamOptions = {}): fc.Arbitrary<Stream> {
  return planArb(options).map((plan) => buildStream(domain, plan, options));
}

/** A stream together with the plan it was built from (for tests that extend a stream). */
export function planAndStreamArb(domain: Domain, options: StreamOptions = {}) {
  return planArb(options).map((plan) => ({ plan, stream: buildStream(domain, plan, options) }));
}

const at = <T>(list: readonly T[], index: number): T => list[index % list.length]!;

interface Track {
  /** Prototype names not yet used as an event id / a dispute reference (with `ids: 'prototype'`). */
  ids: string[];
  references: string[];
  n: number;
  bad: number;
  disputes: number;
  open: { reference: string; amount: number; capId?: string }[];
  history: number[];
}

/** What a fold needs to write one valid event of a kind. */
interface Writer {
  readonly domain: Domain;
  readonly profile: SubscriberProfile;
  readonly step: Step;
  readonly time: number;
  readonly id: string;
  readonly options: StreamOptions;
}

function countryFor(w: Writer): string {
  const home = w.options.homeShare ?? 40;
  const roll = w.step.pick % 100;
  if (roll < home) return w.profile.homeCountry;
  // The hundreds of pick2 choose the country; its last two digits choose the service.
  const which = Math.floor(w.step.pick2 / 100);
  if (roll < home + (100 - home) * 0.6) return at(w.domain.zoneCountries, which);
  return at(w.domain.otherCountries.length > 0 ? w.domain.otherCountries : WORLD_COUNTRIES, which);
}

function serviceFor(w: Writer): string {
  const services = w.domain.services;
  const data = w.options.dataShare ?? 50;
  const roll = w.step.pick2 % 100;
  const named = (s: string) => (services.includes(s) ? s : at(services, w.step.pick2));
  if (roll < data) return named('data');
  // The other services keep their proportions: voice 50%, sms 26%, mms 12%, any declared one 12%.
  const rest = (roll - data) / (100 - data);
  if (rest < 0.5) return named('voice');
  if (rest < 0.76) return named('sms');
  if (rest < 0.88) return named('mms');
  return at(services, w.step.pick);
}

/** A drawn amount, scaled to the policy's limits (see `Domain.scale`); never below 1. */
const money = (w: Writer, amount: number): number =>
  w.domain.scale === 1 ? amount : Math.max(1, Math.round(amount * w.domain.scale));

function head(w: Writer, type: string): EventJson {
  return {
    type,
    id: w.id,
    subscriberId: w.profile.subscriberId,
    at: formatInstant(w.time, at(OFFSETS, w.step.offset)),
  };
}

function usage(w: Writer): EventJson {
  const service = serviceFor(w);
  const s = w.step;
  const quantity: Record<string, unknown> = {};
  if (service === 'data') {
    const roll = Math.floor(s.pick / 100) % 10;
    if (roll < 8) Object.assign(quantity, { quantity: s.quantity, unit: 'MB' });
    else if (roll < 9) Object.assign(quantity, { quantity: 1, unit: 'GB' });
  } else if (service === 'voice') Object.assign(quantity, { quantity: 1 + (s.quantity % 120), unit: 'min' });
  else if (service === 'sms' || service === 'mms') Object.assign(quantity, { quantity: 1, unit: 'msg' });
  return {
    ...head(w, 'usage'),
    service,
    country: countryFor(w),
    cost: { amount: s.flag && s.flag2 ? 0 : money(w, s.amount), currency: w.domain.currency },
    ...quantity,
    ...(s.pick % 7 === 0 ? { ratingGroup: s.pick % 2 === 0 ? 10 : 'rg-roam' } : {}),
  };
}

function location(w: Writer): EventJson {
  return {
    ...head(w, 'location'),
    country: countryFor(w),
    ...(w.step.flag ? { network: `${200 + (w.step.pick % 700)}-0${w.step.pick2 % 10}` } : {}),
  };
}

function payment(w: Writer): EventJson {
  return {
    ...head(w, 'payment'),
    amount: money(w, w.step.money),
    currency: w.domain.currency,
    reference: `PAY-${w.id}`,
  };
}

function adjustment(w: Writer): EventJson {
  const s = w.step;
  const credit = s.flag;
  const capId =
    s.pick % 3 === 0 && w.domain.costCapIds.length > 0 ? at(w.domain.costCapIds, s.pick2) : undefined;
  return {
    ...head(w, 'adjustment'),
    amount: credit ? -money(w, s.money) : money(w, s.amount),
    reference: `ADJ-${w.id}`,
    reason: credit ? 'refund of a charge a system error created' : 'late rating correction',
    ...(s.flag2 ? { currency: w.domain.currency } : {}),
    ...(capId !== undefined ? { capId } : {}),
  };
}

function override(w: Writer): EventJson {
  const s = w.step;
  const by = s.flag ? 'customer' : 'agent';
  return {
    ...head(w, 'override'),
    by,
    capId: at(w.domain.capIds, s.pick),
    until: s.flag2 ? 'window-end' : formatInstant(w.time + (60 + (s.pick2 % (10 * 1_440))) * MINUTE),
    reason: by === 'customer' ? 'opted in to keep roaming' : 'goodwill while a dispute is checked',
    ...(by === 'agent' && s.pick % 2 === 0 ? { agentId: `agent-${s.pick % 50}` } : {}),
  };
}

function tick(w: Writer): EventJson {
  return head(w, 'tick');
}

function dispute(w: Writer, track: Track, host: string): EventJson {
  const s = w.step;
  const currency = s.pick % 4 === 0 ? { currency: w.domain.currency } : {};
  if (s.flag && track.open.length > 0) {
    const index = s.pick % track.open.length;
    const opened = track.open[index]!;
    track.open.splice(index, 1);
    const status = s.flag2 ? 'upheld' : 'rejected';
    const amount =
      status === 'upheld' && s.pick2 % 3 === 0 ? Math.max(1, Math.floor(opened.amount / 2)) : opened.amount;
    return {
      ...head(w, 'dispute'),
      reference: opened.reference,
      amount,
      status,
      ...currency,
      ...(opened.capId !== undefined ? { capId: opened.capId } : {}),
    };
  }
  ++track.disputes;
  const reference =
    s.pick % 2 === 0 && track.references.length > 0
      ? track.references.shift()!
      : `CASE-${host}-${track.disputes}`;
  const status = s.pick2 % 7 === 0 ? 'upheld' : 'open';
  const capId =
    s.pick % 3 === 0 && w.domain.costCapIds.length > 0 ? at(w.domain.costCapIds, s.pick2) : undefined;
  if (status === 'open')
    track.open.push({ reference, amount: money(w, s.amount), ...(capId !== undefined ? { capId } : {}) });
  return {
    ...head(w, 'dispute'),
    reference,
    amount: money(w, s.amount),
    status,
    ...currency,
    ...(capId !== undefined ? { capId } : {}),
  };
}

const WRITERS = { usage, location, payment, adjustment, override, tick } as const;

function omit(e: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _, ...rest } = e;
  return rest;
}

const REQUIRED: Record<string, readonly string[]> = {
  usage: ['service', 'country', 'cost'],
  location: ['country'],
  payment: ['amount', 'currency', 'reference'],
  adjustment: ['amount', 'reference', 'reason'],
  dispute: ['reference', 'amount', 'status'],
  override: ['by', 'capId', 'until', 'reason'],
  tick: ['subscriberId'],
};

/** Where an event carries money: the key holding the amount, and its parent (for usage, `cost`). */
function withMoney(e: Record<string, unknown>, value: unknown): Record<string, unknown> | undefined {
  switch (e['type']) {
    case 'usage':
      return { ...e, cost: { ...(e['cost'] as object), amount: value } };
    case 'payment':
    case 'adjustment':
    case 'dispute':
      return { ...e, amount: value };
    default:
      return undefined;
  }
}

function withCurrency(e: Record<string, unknown>, value: unknown): Record<string, unknown> | undefined {
  switch (e['type']) {
    case 'usage':
      return { ...e, cost: { ...(e['cost'] as object), currency: value } };
    case 'payment':
    case 'adjustment':
    case 'dispute':
      return { ...e, currency: value };
    default:
      return undefined;
  }
}

/**
 * Ways to make a valid event invalid. Each returns the invalid input, or undefined when it does not apply
 * to that event's type. `n` is a free random number.
 */
export const DEFECTS: Readonly<
  Record<string, (e: EventJson, domain: Domain, n: number) => unknown | undefined>
> = {
  'unknown type': (e) => ({ ...e, type: 'topup' }),
  'type misspelt': (e) => ({ ...e, type: e.type.toUpperCase() }),
  'missing type': (e) => omit(e, 'type'),
  'missing id': (e) => omit(e, 'id'),
  'missing at': (e) => omit(e, 'at'),
  'missing subscriberId': (e) => omit(e, 'subscriberId'),
  'missing field': (e, _, n) => {
    const keys = REQUIRED[e.type]!;
    return omit(e, at(keys, n));
  },
  'id not a string': (e, _, n) => ({ ...e, id: n }),
  'empty id': (e) => ({ ...e, id: '' }),
  'control character in id': (e) => ({ ...e, id: `${e.id}\u0000` }),
  'subscriberId not a string': (e) => ({ ...e, subscriberId: [e.subscriberId] }),
  'other subscriber': (e) => ({ ...e, subscriberId: 'ghost' }),
  'wrong currency': (e, d, n) =>
    withCurrency(
      e,
      at(
        ['EUR', 'USD', 'PLN', 'GBP', 'JPY'].filter((c) => c !== d.currency),
        n,
      ),
    ),
  'currency not ISO 4217': (e, d, n) => withCurrency(e, at([d.currency.toLowerCase(), 'ZZZ', 'złoty', 5], n)),
  'unknown service': (e, _, n) =>
    e.type === 'usage' ? { ...e, service: at(['video', 'fax', 'satellite'], n) } : undefined,
  'service not a name': (e, _, n) =>
    e.type === 'usage' ? { ...e, service: at(['Data', 'DATA', 'da ta', 7], n) } : undefined,
  'NaN money': (e) => withMoney(e, Number.NaN),
  'infinite money': (e, _, n) =>
    withMoney(e, n % 2 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY),
  'negative money': (e, _, n) => (e.type === 'adjustment' ? undefined : withMoney(e, -1 - (n % 5_000))),
  'zero amount': (e) => (e.type === 'usage' ? undefined : withMoney(e, 0)),
  'fractional money': (e, _, n) => withMoney(e, (n % 5_000) + 0.5),
  'unsafe integer money': (e) => withMoney(e, 2 ** 53 + 2),
  'money as a string': (e, _, n) => withMoney(e, String(1 + (n % 5_000))),
  'cost not an object': (e, _, n) => (e.type === 'usage' ? { ...e, cost: 1 + (n % 5_000) } : undefined),
  'bad date': (e, _, n) => ({ ...e, at: at(BAD_DATES, n) }),
  'date as epoch number': (e) => ({ ...e, at: Date.parse(e.at) }),
  'unknown key': (e, _, n) => ({ ...e, [at(['note', 'amt', 'Type', 'capid'], n)]: 'x' }),
  'bad country': (e, _, n) =>
    e.type === 'usage' || e.type === 'location'
      ? { ...e, country: at(['XX', 'pl', 'EU', 'POL', ''], n) }
      : undefined,
  'negative quantity': (e) => (e.type === 'usage' ? { ...e, quantity: -1, unit: 'MB' } : undefined),
  'NaN quantity': (e) => (e.type === 'usage' ? { ...e, quantity: Number.NaN, unit: 'MB' } : undefined),
  'unknown cap': (e, _, n) =>
    e.type === 'override' || e.type === 'adjustment' || (e.type === 'dispute' && e['status'] !== 'rejected')
      ? { ...e, capId: at(['roaming-dat', 'Bill', 'nope'], n) }
      : undefined,
  'quantity cap for money': (e, d, n) =>
    (e.type === 'adjustment' || (e.type === 'dispute' && e['status'] !== 'rejected')) &&
    d.quantityCapIds.length > 0
      ? { ...e, capId: at(d.quantityCapIds, n) }
      : undefined,
  'until not after at': (e, _, n) =>
    e.type === 'override'
      ? { ...e, until: formatInstant(Date.parse(e.at) - (n % 2) * 3_600_000) }
      : undefined,
  'until not a time': (e, _, n) =>
    e.type === 'override' ? { ...e, until: at(['end-of-window', 'tomorrow', 'window_end'], n) } : undefined,
  'unknown override party': (e) => (e.type === 'override' ? { ...e, by: 'robot' } : undefined),
  'unknown dispute status': (e) => (e.type === 'dispute' ? { ...e, status: 'closed' } : undefined),
  'dispute rejected before it opened': (e) =>
    e.type === 'dispute' ? { ...e, reference: `NEVER-${e.id}`, status: 'rejected' } : undefined,
  'empty reference': (e) =>
    e.type === 'payment' || e.type === 'adjustment' ? { ...e, reference: '' } : undefined,
  'bad network': (e) => (e.type === 'location' ? { ...e, network: 'T-Mobile' } : undefined),
  'not an object': (_e, _d, n) => at([null, 42, 'usage', [], true, undefined, [{ type: 'tick' }]], n),
};

export const DEFECT_NAMES = Object.keys(DEFECTS);

/** The event types an invalid event is made from. */
export const INVALID_BASES = [
  'usage',
  'location',
  'payment',
  'adjustment',
  'override',
  'tick',
  'dispute',
] as const;

/**
 * An invalid input with the defect at `index`, made from the first event type (from `start` on) that the
 * defect applies to. `base` writes a valid event of a type.
 *
 * @example
 * invalidate((type) => writeValid(type), domain, 3, 0, 17); // { defect: 'missing at', input: { ... } }
 */
export function invalidate(
  base: (type: (typeof INVALID_BASES)[number]) => EventJson,
  domain: Domain,
  index: number,
  start: number,
  n: number,
): { defect: string; input: unknown } {
  const defect = at(DEFECT_NAMES, index);
  for (let k = 0; k < INVALID_BASES.length; k++) {
    const input = DEFECTS[defect]!(base(at(INVALID_BASES, start + k)), domain, n);
    if (input !== undefined || defect === 'not an object') return { defect, input };
  }
  // A defect for a type this policy cannot have (a quantity cap): fall back to one that always applies.
  return {
    defect: 'unknown type',
    input: DEFECTS['unknown type']!(base(at(INVALID_BASES, start)), domain, n),
  };
}

/**
 * Builds the events of a plan. The stream's clock starts at `plan.start` and moves forward by each step's
 * `dt`; a step is for subscriber `sub mod n`.
 */
export function buildStream(domain: Domain, plan: Plan, options: StreamOptions = {}): Stream {
  const { profiles } = plan;
  const tricky = (): string[] => (options.ids === 'prototype' ? [...PROTOTYPE_NAMES] : []);
  const tracks = new Map<string, Track>(
    profiles.map((p) => [
      p.subscriberId,
      { ids: tricky(), references: tricky(), n: 0, bad: 0, disputes: 0, open: [], history: [] },
    ]),
  );
  /** The next event id of a subscriber: now and then a prototype name, while some are left. */
  const nextId = (track: Track, step: Step) =>
    step.pick2 % 3 === 0 && track.ids.length > 0 ? (++track.n, track.ids.shift()!) : `e${++track.n}`;
  const events: unknown[] = [];
  const labels: Label[] = [];
  let now = plan.start;
  const valid = (
    w: Writer,
    kind: Exclude<StepKind, 'late' | 'duplicate' | 'invalid'>,
    track: Track,
    host: string,
  ) => (kind === 'dispute' ? dispute(w, track, host) : WRITERS[kind](w));
  for (const step of plan.steps) {
    const profile = at(profiles, step.sub);
    const host = profile.subscriberId;
    const track = tracks.get(host)!;
    if (step.kind !== 'late') now += step.dt * MINUTE;
    const writer = (time: number, id: string): Writer => ({ domain, profile, step, time, id, options });
    switch (step.kind) {
      case 'late': {
        const kinds = ['usage', 'usage', 'usage', 'payment', 'location', 'adjustment'] as const;
        const event = WRITERS[at(kinds, step.pick2 >> 3)](
          writer(now - step.back * MINUTE, nextId(track, step)),
        );
        track.history.push(events.length);
        events.push(event);
        labels.push({ kind: 'backdated', host });
        break;
      }
      case 'duplicate': {
        if (track.history.length === 0) {
          events.push(tick(writer(now, nextId(track, step))));
          track.history.push(events.length - 1);
          labels.push({ kind: 'valid', host });
          break;
        }
        const of = at(track.history, step.pick);
        events.push(structuredClone(events[of]));
        labels.push({ kind: 'duplicate', host, of });
        break;
      }
      case 'invalid': {
        const id = `x${++track.bad}`;
        // A throwaway dispute writer must not touch the track's open list or its counter.
        const base = (kind: (typeof INVALID_BASES)[number]) =>
          valid(
            writer(now, id),
            kind,
            { ...track, open: [...track.open], references: [...track.references] },
            host,
          );
        const { defect, input } = invalidate(base, domain, step.pick2, step.pick, step.pick >> 4);
        events.push(input);
        labels.push({ kind: 'invalid', host, defect });
        break;
      }
      default: {
        const event = valid(writer(now, nextId(track, step)), step.kind, track, host);
        track.history.push(events.length);
        events.push(event);
        labels.push({ kind: 'valid', host });
      }
    }
  }
  return { profiles, events, labels };
}

/** A valid event of `kind` for `profile` at `time`, for tests that extend a stream by hand. */
export function writeEvent(
  domain: Domain,
  profile: SubscriberProfile,
  kind: 'usage' | 'location' | 'payment' | 'adjustment' | 'override' | 'tick',
  time: number,
  id: string,
  step: Partial<Step> = {},
): EventJson {
  const full: Step = {
    kind,
    sub: 0,
    dt: 0,
    pick: 1,
    pick2: 1,
    amount: 1_000,
    money: 1_000,
    quantity: 10,
    back: 60,
    flag: false,
    flag2: false,
    offset: 0,
    ...step,
  };
  return WRITERS[kind]({ domain, profile, step: full, time, id, options: {} });
}

/** The indices of a stream's events, grouped by the subscriber that hosts them, in stream order. */
export function byHost(stream: Stream): Map<string, number[]> {
  const out = new Map<string, number[]>(stream.profiles.map((p) => [p.subscriberId, []]));
  stream.labels.forEach((label, i) => out.get(label.host)!.push(i));
  return out;
}

/**
 * Another interleaving of the same per-subscriber streams: at each position, `picks` chooses which
 * subscriber's next event comes; each subscriber's own order is kept.
 */
export function interleave(stream: Stream, picks: readonly number[]): Stream {
  const queues = [...byHost(stream).values()].filter((q) => q.length > 0).map((q) => [...q]);
  const order: number[] = [];
  let k = 0;
  while (queues.length > 0) {
    const qi = (picks[k++] ?? 0) % queues.length;
    const queue = queues[qi]!;
    order.push(queue.shift()!);
    if (queue.length === 0) queues.splice(qi, 1);
  }
  return {
    profiles: stream.profiles,
    events: order.map((i) => stream.events[i]),
    labels: order.map((i) => {
      const label = stream.labels[i]!;
      return label.of === undefined ? label : { ...label, of: order.indexOf(label.of) };
    }),
  };
}

/**
 * Inputs no JSON parser produces but a caller might still hand to `process`: non-JSON values, objects
 * with odd prototypes, cycles, huge or deeply nested values.
 */
export function hostileInputArb(valid: EventJson): fc.Arbitrary<unknown> {
  const circular = (): unknown => {
    const e: Record<string, unknown> = { ...valid, type: 'usage' };
    e['cost'] = e;
    return e;
  };
  const deep = (depth: number): unknown => {
    let node: unknown = { type: 'tick' };
    for (let i = 0; i < depth; i++) node = { type: 'usage', cost: node };
    return { ...valid, type: 'usage', service: 'data', country: 'DE', cost: node };
  };
  return fc.oneof(
    fc.constantFrom<unknown>(
      undefined,
      null,
      Number.NaN,
      0n,
      Symbol('event'),
      () => valid,
      new Date(0),
      new Map(Object.entries(valid)),
      [valid],
      Object.create(null),
      Object.assign(Object.create(null), valid, { type: 'nope' }),
      JSON.parse(
        `{"__proto__": {"type": "tick"}, "id": "p1", "subscriberId": "s1", "at": "2026-03-01T00:00:00Z"}`,
      ),
      JSON.parse(
        `{"type": "tick", "id": "p1", "subscriberId": "s1", "at": "2026-03-01T00:00:00Z", "__proto__": null}`,
      ),
      { ...valid, constructor: 'x' },
      { ...valid, id: 'x'.repeat(100_000) },
      { ...valid, at: new Date(Date.parse(valid.at)) },
      { ...valid, id: 7n },
      { ...valid, type: Symbol('usage') },
    ),
    fc.constant(null).map(circular),
    fc.integer({ min: 1, max: 5_000 }).map(deep),
    fc.anything().map((junk) => ({ ...valid, [`${valid.type}Extra`]: junk })),
    fc.anything(),
  );
}
