import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventSchema } from '../../src/schema/events';
import { SubscriberProfileSchema } from '../../src/schema/profile';
import {
  EventScratch,
  INSTANT,
  fastEvent,
  fastProfile,
  instantOf,
  matchesInstant,
} from '../../src/decide/fast-event';
import { hostileInputArb, streamArb, type EventJson } from '../arbitraries/events';
import { profileArb } from '../arbitraries/profiles';
import { SHIPPED, SHIPPED_DOMAIN } from '../arbitraries/policies';

// The fast check may only ever accept what the schema accepts, with the same data; it may send anything
// it is unsure of to the schema. These properties hold it to that on valid, invalid, hostile and mutated
// events, and check that it does accept the ordinary events a billing system sends.

const services = new Set(SHIPPED.services);
const fast = (input: unknown) => fastEvent(input, SHIPPED, services);

/** Asserts the fast answer is sound: null, or exactly what zod parses. */
function sound(input: unknown): void {
  const answer = fast(input);
  if (answer === null) return;
  const parsed = EventSchema.safeParse(input);
  expect(parsed.success, JSON.stringify(input)?.slice(0, 300)).toBe(true);
  expect(answer).toEqual(parsed.data);
  expect(answer).not.toBe(input);
}

/** An event with one field replaced by any value, removed, or an extra key added. */
const mutatedArb = streamArb(SHIPPED_DOMAIN).chain((stream) =>
  fc
    .tuple(
      fc.constantFrom(...(stream.events.length > 0 ? stream.events : [{ type: 'tick' }])),
      fc.oneof(fc.constant('type'), fc.constant('at'), fc.constant('cost'), fc.string({ maxLength: 8 })),
      fc.oneof(fc.anything(), fc.constant(undefined), fc.double(), fc.integer(), fc.string()),
      fc.boolean(),
    )
    .map(([event, key, value, remove]) => {
      const copy = { ...(event as Record<string, unknown>) };
      if (remove) delete copy[key];
      else copy[key] = value;
      return copy;
    }),
);

describe('fastEvent', () => {
  it('accepts only what EventSchema accepts, with the same data, on generated streams', () => {
    fc.assert(
      fc.property(streamArb(SHIPPED_DOMAIN), (stream) => {
        for (const event of stream.events) sound(event);
      }),
      { numRuns: 200 },
    );
  });

  it('fills the scratch copies with exactly what it would copy, shape by shape, and is sound with them', () => {
    const scratch = new EventScratch(SHIPPED.currency);
    const own = new Set<unknown>([
      scratch.measured,
      scratch.usage,
      scratch.location,
      scratch.payment,
      scratch.tick,
    ]);
    let filled = 0;
    const check = (event: unknown): void => {
      const copied = fast(event);
      const answer = fastEvent(event, SHIPPED, services, undefined, undefined, scratch);
      if (copied === null) {
        expect(answer).toBeNull();
        return;
      }
      // A snapshot now: the next event may fill the same object.
      expect(JSON.parse(JSON.stringify(answer))).toEqual(JSON.parse(JSON.stringify(copied)));
      expect(Object.keys(answer!)).toEqual(Object.keys(copied));
      if (own.has(answer)) filled++;
      else expect(answer).not.toBe(event);
    };
    fc.assert(
      fc.property(streamArb(SHIPPED_DOMAIN), mutatedArb, (stream, mutated) => {
        for (const event of stream.events) check(event);
        check(mutated);
      }),
      { numRuns: 200 },
    );
    // The common shapes were filled in place, so the property above covered them.
    expect(filled).toBeGreaterThan(100);
    expect(scratch.usage.cost).not.toBe(scratch.measured.cost);
  });

  it('is sound on mutated and hostile events', () => {
    fc.assert(
      fc.property(mutatedArb, (event) => sound(event)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        hostileInputArb({
          type: 'tick',
          id: 'h1',
          subscriberId: 's1',
          at: '2026-03-01T00:00:00Z',
        } as EventJson),
        (input) => {
          try {
            sound(input);
          } catch (error) {
            // A getter or proxy may throw inside the fast check; the engine catches it as it does zod's.
            if (!(error instanceof Error) || error.name === 'AssertionError') throw error;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("accepts the generator's valid events in the policy's currency", () => {
    fc.assert(
      fc.property(streamArb(SHIPPED_DOMAIN), (stream) => {
        stream.events.forEach((event, i) => {
          if (stream.labels[i]!.kind === 'invalid') return;
          const e = event as Record<string, unknown>;
          const money = (e['cost'] as { currency?: string } | undefined)?.currency ?? e['currency'];
          if (money !== undefined && money !== SHIPPED.currency) return;
          expect(fast(event), JSON.stringify(event)).not.toBeNull();
        });
      }),
      { numRuns: 100 },
    );
  });

  it('refuses what the schema refuses at the edges: lengths, integers, dates, keys', () => {
    const usage = {
      type: 'usage',
      id: 'e1',
      subscriberId: 's1',
      at: '2026-03-01T10:00:00+01:00',
      service: 'data',
      country: 'DE',
      cost: { amount: 100, currency: 'PLN' },
    };
    expect(fast(usage)).toEqual(usage);
    for (const bad of [
      { ...usage, id: 'x'.repeat(201) },
      { ...usage, id: 'a\u0007b' },
      { ...usage, at: '2026-02-29T10:00:00Z' },
      { ...usage, at: '2026-03-01T10:00Z' },
      { ...usage, at: '2026-03-01T24:00:00Z' },
      { ...usage, cost: { amount: 1.5, currency: 'PLN' } },
      { ...usage, cost: { amount: 2 ** 53, currency: 'PLN' } },
      { ...usage, cost: { amount: -1, currency: 'PLN' } },
      { ...usage, cost: { amount: 1, currency: 'PLN', extra: 1 } },
      { ...usage, quantity: Number.POSITIVE_INFINITY },
      { ...usage, country: 'XX' },
      { ...usage, extra: true },
      { ...usage, unit: undefined },
      Object.assign(Object.create({ inherited: 1 }), usage),
    ]) {
      expect(fast(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(EventSchema.safeParse({ ...usage, at: '2026-02-29T10:00:00Z' }).success).toBe(false);
  });

  it('leaves an event to the schema while Object.prototype has an enumerable key', () => {
    // for...in would yield the inherited key: the one-pass read vouches only for own keys.
    const tick = { type: 'tick', id: 't', subscriberId: 's', at: '2026-03-01T10:00:00Z' };
    expect(fast(tick)).toEqual(tick);
    Object.defineProperty(Object.prototype, 'polluted', {
      value: 1,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    try {
      expect(fast(tick)).toBeNull();
    } finally {
      delete (Object.prototype as Record<string, unknown>)['polluted'];
    }
    expect(fast(tick)).toEqual(tick);
  });

  it('takes id and at as checked before when the caller knows them, and only then', () => {
    const tick = { type: 'tick', id: 't', subscriberId: 's', at: '2026-03-01T10:00:00Z' };
    // The instant given is the caller's: a different one shows it was taken rather than parsed again.
    const known = { id: 't', at: '2026-03-01T10:00:00Z', instant: 123 };
    const out = { at: NaN };
    expect(fastEvent(tick, SHIPPED, services, out, known)).toEqual(tick);
    expect(out.at).toBe(123);
    // Without the id key the event is not the one checked: the fast check reads it as it is.
    const { id: _id, ...noId } = tick;
    expect(fastEvent(noId, SHIPPED, services, out, known)).toBeNull();
    // Nothing known: parsed as usual.
    expect(fastEvent(tick, SHIPPED, services, out, { id: null, at: null, instant: 123 })).toEqual(tick);
    expect(out.at).toBe(Date.parse(tick.at));
  });

  it('reports the instant it parsed', () => {
    const out = { at: NaN };
    fastEvent(
      { type: 'tick', id: 't', subscriberId: 's', at: '2026-03-01T10:00:00+01:00' },
      SHIPPED,
      services,
      out,
    );
    expect(out.at).toBe(Date.parse('2026-03-01T09:00:00Z'));
  });
});

describe('matchesInstant', () => {
  /** Strings near the ISO 8601 form: real instants written with offsets, with characters replaced. */
  const nearInstantArb = fc
    .tuple(
      fc.date({
        min: new Date(-62_000_000_000_000),
        max: new Date(250_000_000_000_000),
        noInvalidDate: true,
      }),
      fc.constantFrom('Z', '+00:00', '-03:00', '+05:45', '+23:59', '+24:00', '-00:60', 'z', '+0100', ''),
      fc.constantFrom('', '.5', '.123', '.123456789', '.', '.x'),
      fc.array(
        fc.tuple(fc.nat(28), fc.constantFrom('0', '9', '2', '3', '4', '5', '6', '-', ':', 'T', ' ', '1')),
        {
          maxLength: 2,
        },
      ),
    )
    .map(([date, offset, fraction, edits]) => {
      let text = date.toISOString().slice(0, 19) + fraction + offset;
      for (const [at, c] of edits) text = text.slice(0, at) + c + text.slice(at + 1);
      return text;
    });
  const leapArb = fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.constantFrom('02-28', '02-29', '02-30', '04-31', '12-31', '13-01'),
    )
    .map(([year, monthDay]) => `${String(year).padStart(4, '0')}-${monthDay}T00:00:00Z`);

  /** Every field at and around the edges of its range. */
  const fieldsArb = fc
    .tuple(
      fc.constantFrom('1900', '2000', '2024', '2026', '2100', '0000'),
      fc.constantFrom('00', '01', '02', '04', '09', '11', '12', '13'),
      fc.constantFrom('00', '01', '28', '29', '30', '31', '32'),
      fc.constantFrom('00', '19', '20', '23', '24', '30'),
      fc.constantFrom('00', '59', '60'),
      fc.constantFrom('00', '59', '60', '99'),
      fc.constantFrom('+00', '-23', '+24', '-19', '+20'),
      fc.constantFrom('00', '59', '60'),
    )
    .map(([y, mo, d, h, mi, se, oh, om]) => `${y}-${mo}-${d}T${h}:${mi}:${se}${oh}:${om}`);

  it("equals zod's pattern on near-valid strings, every year's 29 February and any string", () => {
    fc.assert(
      fc.property(fc.oneof(nearInstantArb, leapArb, fieldsArb, fc.string({ maxLength: 40 })), (text) => {
        expect(matchesInstant(text), text).toBe(INSTANT.test(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('instantOf is Date.parse for every string the pattern accepts, and NaN for the rest', () => {
    fc.assert(
      fc.property(fc.oneof(nearInstantArb, leapArb, fieldsArb, fc.string({ maxLength: 40 })), (text) => {
        expect(instantOf(text), text).toBe(INSTANT.test(text) ? Date.parse(text) : NaN);
      }),
      { numRuns: 20_000 },
    );
    for (const text of ['2026-01-01T00:00:00.1239Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999-23:59'])
      expect(instantOf(text), text).toBe(Date.parse(text));
  });
});

describe('fastProfile', () => {
  it('accepts only what SubscriberProfileSchema accepts, with the same data', () => {
    const odd = fc.record(
      {
        subscriberId: fc.oneof(fc.string({ maxLength: 4 }), fc.constant('s1')),
        homeCountry: fc.constantFrom('PL', 'XX', 'pl', 'DE'),
        timeZone: fc.constantFrom('Europe/Warsaw', '+02:00', 'Mars/Base', 'UTC'),
        cycleAnchorDay: fc.oneof(fc.integer({ min: -1, max: 33 }), fc.double()),
        tenureMonths: fc.oneof(fc.integer({ min: -2, max: 2500 }), fc.constant(undefined)),
        segment: fc.oneof(fc.string({ maxLength: 3 }), fc.constant(undefined)),
        locale: fc.constantFrom('pl-PL', 'en', 'not a locale', '', undefined),
      },
      { requiredKeys: ['subscriberId'] },
    );
    fc.assert(
      fc.property(fc.oneof(profileArb('s1'), odd, fc.anything()), (profile) => {
        const answer = fastProfile(profile);
        if (answer === null) return;
        const parsed = SubscriberProfileSchema.safeParse(profile);
        expect(parsed.success, JSON.stringify(profile)).toBe(true);
        expect(answer).toEqual(parsed.data);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts generated valid profiles', () => {
    fc.assert(
      fc.property(profileArb('s-2'), (profile) => {
        // fast-check may build records without a prototype; a profile from JSON has Object.prototype.
        const plain = JSON.parse(JSON.stringify(profile)) as unknown;
        expect(fastProfile(plain)).toEqual(plain);
      }),
      { numRuns: 300 },
    );
  });
});
