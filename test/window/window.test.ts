import { describe, it, expect, vi } from 'vitest';
import fc from 'fast-check';
import { daysLeftInWindow, isValidTimeZone, previousWindow, windowAt } from '../../src/window/index.js';
import type { BillingWindow, WindowKind } from '../../src/window/index.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const at = (iso: string): number => Date.parse(iso);

/** The window as ISO strings, so a failing expectation reads like the examples. */
function describeWindow(window: BillingWindow): {
  kind: WindowKind;
  key: string;
  start: string;
  end: string;
} {
  return {
    kind: window.kind,
    key: window.key,
    start: new Date(window.start).toISOString(),
    end: new Date(window.end).toISOString(),
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local date and wall-clock time of `instant` in `timeZone`, read with Intl alone (independent of the module). */
function localClock(timeZone: string, instant: number): { date: string; time: string; wall: number } {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(new Date(instant))) parts[part.type] = part.value;
  const field = (type: string): string => parts[type] ?? '';
  const date = `${field('year')}-${field('month')}-${field('day')}`;
  const time = `${field('hour')}:${field('minute')}:${field('second')}.${field('fractionalSecond')}`;
  return { date, time, wall: Date.parse(`${date}T${time}Z`) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function addCalendarDays(key: string, days: number): string {
  return new Date(Date.parse(key) + days * DAY).toISOString().slice(0, 10);
}

// Zones whose clocks jump over local midnight at some DST change between 2000 and 2060, so that a day
// there can begin at 01:00: the documented exception to "windows start at 00:00".
const MIDNIGHT_GAP_ZONES = new Set([
  'America/Santiago',
  'America/Havana',
  'America/Asuncion',
  'Asia/Beirut',
  'Asia/Gaza',
  'Asia/Tehran',
  'Africa/Cairo',
]);

const ZONES = [
  'UTC',
  'Europe/Warsaw',
  'Europe/London',
  'America/New_York',
  'America/St_Johns',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Adelaide',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  ...MIDNIGHT_GAP_ZONES,
];

describe('isValidTimeZone', () => {
  it.each(['Europe/Warsaw', 'UTC', 'Etc/GMT-14', 'America/Santiago', 'Australia/Lord_Howe', 'US/Pacific'])(
    'accepts the zone name %s',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(true);
    },
  );

  it.each(['', '+02:00', '-0500', '+14', 'Mars/Olympus_Mons', 'Europe/Warsaw ', 'local'])(
    'refuses %j: not a zone name, or a bare UTC offset with no DST rules',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(false);
    },
  );

  it('refuses a non-string from an untyped caller instead of throwing', () => {
    expect(isValidTimeZone(undefined as unknown as string)).toBe(false);
    expect(isValidTimeZone(2 as unknown as string)).toBe(false);
  });
});

describe('cycle windows: anchor day clamping', () => {
  it('starts the anchor-31 cycle on the last day of February, in the zone (the Warsaw example)', () => {
    const window = windowAt('cycle', at('2026-03-05T12:00:00Z'), 'Europe/Warsaw', 31);
    expect(describeWindow(window)).toEqual({
      kind: 'cycle',
      key: '2026-02-28',
      start: '2026-02-27T23:00:00.000Z',
      end: '2026-03-30T22:00:00.000Z',
    });
  });

  it.each([
    // anchor, an instant inside, the start key, the next cycle's key
    [31, '2026-02-10T00:00:00Z', '2026-01-31', '2026-02-28'],
    [31, '2026-04-15T00:00:00Z', '2026-03-31', '2026-04-30'],
    [31, '2026-05-15T00:00:00Z', '2026-04-30', '2026-05-31'],
    [31, '2026-09-30T12:00:00Z', '2026-09-30', '2026-10-31'],
    [30, '2026-02-10T00:00:00Z', '2026-01-30', '2026-02-28'],
    [30, '2026-03-10T00:00:00Z', '2026-02-28', '2026-03-30'],
    [29, '2026-02-10T00:00:00Z', '2026-01-29', '2026-02-28'],
    [29, '2026-03-10T00:00:00Z', '2026-02-28', '2026-03-29'],
    [28, '2026-03-10T00:00:00Z', '2026-02-28', '2026-03-28'],
    [1, '2026-02-28T23:59:59.999Z', '2026-02-01', '2026-03-01'],
    // 2028 and 2000 are leap years: February has a 29th.
    [31, '2028-02-10T00:00:00Z', '2028-01-31', '2028-02-29'],
    [31, '2028-03-10T00:00:00Z', '2028-02-29', '2028-03-31'],
    [30, '2028-03-10T00:00:00Z', '2028-02-29', '2028-03-30'],
    [29, '2028-03-10T00:00:00Z', '2028-02-29', '2028-03-29'],
    [29, '2028-02-28T23:59:59.999Z', '2028-01-29', '2028-02-29'],
    [31, '2000-03-10T00:00:00Z', '2000-02-29', '2000-03-31'],
    // 2100 is not: divisible by 100 but not by 400.
    [29, '2100-03-10T00:00:00Z', '2100-02-28', '2100-03-29'],
  ])('anchor %i: %s lies in the cycle %s to %s (UTC)', (anchorDay, instant, startKey, endKey) => {
    const window = windowAt('cycle', at(instant), 'UTC', anchorDay);
    expect(window.key).toBe(startKey);
    expect(window.start).toBe(at(`${startKey}T00:00:00Z`));
    expect(window.end).toBe(at(`${endKey}T00:00:00Z`));
    expect(windowAt('cycle', window.end, 'UTC', anchorDay).key).toBe(endKey);
  });

  it('runs a cycle that contains a DST change one hour short or long', () => {
    const spring = windowAt('cycle', at('2026-04-01T00:00:00Z'), 'Europe/Warsaw', 15);
    expect(describeWindow(spring)).toEqual({
      kind: 'cycle',
      key: '2026-03-15',
      start: '2026-03-14T23:00:00.000Z',
      end: '2026-04-14T22:00:00.000Z',
    });
    expect(spring.end - spring.start).toBe(31 * DAY - HOUR);

    const autumn = windowAt('cycle', at('2026-11-01T00:00:00Z'), 'Europe/Warsaw', 15);
    expect(describeWindow(autumn)).toEqual({
      kind: 'cycle',
      key: '2026-10-15',
      start: '2026-10-14T22:00:00.000Z',
      end: '2026-11-14T23:00:00.000Z',
    });
    expect(autumn.end - autumn.start).toBe(31 * DAY + HOUR);
  });

  it('starts a cycle whose anchor day has no midnight when the clocks jump (America/Santiago)', () => {
    // Chile moves clocks from 24:00 on Saturday 5 September 2026 to 01:00 on Sunday the 6th.
    const window = windowAt('cycle', at('2026-09-10T12:00:00Z'), 'America/Santiago', 6);
    expect(describeWindow(window)).toEqual({
      kind: 'cycle',
      key: '2026-09-06',
      start: '2026-09-06T04:00:00.000Z',
      end: '2026-10-06T03:00:00.000Z',
    });
    expect(localClock('America/Santiago', window.start).time).toBe('01:00:00.000');
    expect(windowAt('cycle', window.start - 1, 'America/Santiago', 6).key).toBe('2026-08-06');
  });
});

describe('day windows', () => {
  it.each([
    // zone, an instant inside, key, start, end, hours
    [
      'Europe/Warsaw',
      '2026-03-29T12:00:00Z',
      '2026-03-29',
      '2026-03-28T23:00:00Z',
      '2026-03-29T22:00:00Z',
      23,
    ],
    [
      'Europe/Warsaw',
      '2026-10-25T12:00:00Z',
      '2026-10-25',
      '2026-10-24T22:00:00Z',
      '2026-10-25T23:00:00Z',
      25,
    ],
    [
      'Europe/Warsaw',
      '2026-07-01T12:00:00Z',
      '2026-07-01',
      '2026-06-30T22:00:00Z',
      '2026-07-01T22:00:00Z',
      24,
    ],
    [
      'Asia/Kolkata',
      '2026-03-05T12:00:00Z',
      '2026-03-05',
      '2026-03-04T18:30:00Z',
      '2026-03-05T18:30:00Z',
      24,
    ],
    [
      'Asia/Kathmandu',
      '2026-03-05T12:00:00Z',
      '2026-03-05',
      '2026-03-04T18:15:00Z',
      '2026-03-05T18:15:00Z',
      24,
    ],
    // Adelaide (+10:30 / +09:30) turns clocks back at 03:00 and forward at 02:00.
    [
      'Australia/Adelaide',
      '2026-04-05T12:00:00Z',
      '2026-04-05',
      '2026-04-04T13:30:00Z',
      '2026-04-05T14:30:00Z',
      25,
    ],
    [
      'Australia/Adelaide',
      '2026-10-04T12:00:00Z',
      '2026-10-04',
      '2026-10-03T14:30:00Z',
      '2026-10-04T13:30:00Z',
      23,
    ],
    // Lord Howe Island shifts by half an hour.
    [
      'Australia/Lord_Howe',
      '2026-04-05T12:00:00Z',
      '2026-04-05',
      '2026-04-04T13:00:00Z',
      '2026-04-05T13:30:00Z',
      24.5,
    ],
    [
      'Australia/Lord_Howe',
      '2026-10-04T12:00:00Z',
      '2026-10-04',
      '2026-10-03T13:30:00Z',
      '2026-10-04T13:00:00Z',
      23.5,
    ],
    // The same instant is on three different local dates across the date line.
    [
      'Pacific/Kiritimati',
      '2026-03-05T10:30:00Z',
      '2026-03-06',
      '2026-03-05T10:00:00Z',
      '2026-03-06T10:00:00Z',
      24,
    ],
    ['UTC', '2026-03-05T10:30:00Z', '2026-03-05', '2026-03-05T00:00:00Z', '2026-03-06T00:00:00Z', 24],
    [
      'Pacific/Pago_Pago',
      '2026-03-05T10:30:00Z',
      '2026-03-04',
      '2026-03-04T11:00:00Z',
      '2026-03-05T11:00:00Z',
      24,
    ],
  ])('%s at %s: the day %s is [%s, %s), %d hours', (zone, instant, key, start, end, hours) => {
    const window = windowAt('day', at(instant), zone, 1);
    expect(describeWindow(window)).toEqual({
      kind: 'day',
      key,
      start: new Date(at(start)).toISOString(),
      end: new Date(at(end)).toISOString(),
    });
    expect(window.end - window.start).toBe(hours * HOUR);
  });

  it.each([
    // Midnight does not exist: the day starts at 01:00, when the clocks jump.
    [
      'America/Santiago',
      '2026-09-06T12:00:00Z',
      '2026-09-06',
      '2026-09-06T04:00:00Z',
      '2026-09-07T03:00:00Z',
    ],
    ['Asia/Beirut', '2026-03-29T12:00:00Z', '2026-03-29', '2026-03-28T22:00:00Z', '2026-03-29T21:00:00Z'],
    ['America/Havana', '2026-03-08T12:00:00Z', '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z'],
  ])(
    '%s at %s: the day %s starts at 01:00 local, where midnight does not exist',
    (zone, instant, key, start, end) => {
      const window = windowAt('day', at(instant), zone, 1);
      expect(describeWindow(window)).toEqual({
        kind: 'day',
        key,
        start: new Date(at(start)).toISOString(),
        end: new Date(at(end)).toISOString(),
      });
      expect(localClock(zone, window.start)).toMatchObject({ date: key, time: '01:00:00.000' });
      expect(localClock(zone, window.start - 1).time).toBe('23:59:59.999');
      expect(window.end - window.start).toBe(23 * HOUR);
    },
  );

  it('makes the day before a clocks-back-at-midnight change 25 hours long (America/Santiago)', () => {
    // Chile turns clocks back from 24:00 on 4 April 2026 to 23:00 on the same day.
    const window = windowAt('day', at('2026-04-04T12:00:00Z'), 'America/Santiago', 1);
    expect(describeWindow(window)).toEqual({
      kind: 'day',
      key: '2026-04-04',
      start: '2026-04-04T03:00:00.000Z',
      end: '2026-04-05T04:00:00.000Z',
    });
  });

  it('starts a day whose midnight happens twice at the first one, so the whole local date is inside', () => {
    // Cuba turns clocks back from 01:00 to 00:00 on 1 November 2026.
    const window = windowAt('day', at('2026-11-01T12:00:00Z'), 'America/Havana', 1);
    expect(describeWindow(window)).toEqual({
      kind: 'day',
      key: '2026-11-01',
      start: '2026-11-01T04:00:00.000Z',
      end: '2026-11-02T05:00:00.000Z',
    });
    expect(localClock('America/Havana', window.start + HOUR)).toMatchObject({
      date: '2026-11-01',
      time: '00:00:00.000',
    });
    expect(windowAt('day', window.start + HOUR, 'America/Havana', 1)).toEqual(window);
  });
});

describe('boundaries, previousWindow and daysLeftInWindow', () => {
  it('is exact to the millisecond at both ends', () => {
    const window = windowAt('day', at('2026-03-29T12:00:00Z'), 'Europe/Warsaw', 1);
    expect(windowAt('day', window.start, 'Europe/Warsaw', 1)).toEqual(window);
    expect(windowAt('day', window.end - 1, 'Europe/Warsaw', 1)).toEqual(window);
    expect(windowAt('day', window.start - 1, 'Europe/Warsaw', 1).key).toBe('2026-03-28');
    const next = windowAt('day', window.end, 'Europe/Warsaw', 1);
    expect(next.key).toBe('2026-03-30');
    expect(next.start).toBe(window.end);

    const cycle = windowAt('cycle', at('2026-03-05T12:00:00Z'), 'Europe/Warsaw', 31);
    expect(windowAt('cycle', at('2026-03-30T21:59:59.999Z'), 'Europe/Warsaw', 31)).toEqual(cycle);
    expect(windowAt('cycle', at('2026-03-30T22:00:00Z'), 'Europe/Warsaw', 31).key).toBe('2026-03-31');
    expect(windowAt('cycle', at('2026-02-27T22:59:59.999Z'), 'Europe/Warsaw', 31).key).toBe('2026-01-31');
  });

  it('steps back one window with previousWindow', () => {
    const cycle = windowAt('cycle', at('2026-03-20T12:00:00Z'), 'UTC', 31);
    expect(describeWindow(previousWindow(cycle, 'UTC', 31))).toEqual({
      kind: 'cycle',
      key: '2026-01-31',
      start: '2026-01-31T00:00:00.000Z',
      end: '2026-02-28T00:00:00.000Z',
    });

    const day = windowAt('day', at('2026-10-25T12:00:00Z'), 'Europe/Warsaw', 1);
    const before = previousWindow(day, 'Europe/Warsaw', 1);
    expect(before.key).toBe('2026-10-24');
    expect(before.end).toBe(day.start);

    const gapDay = windowAt('day', at('2026-09-06T12:00:00Z'), 'America/Santiago', 1);
    expect(describeWindow(previousWindow(gapDay, 'America/Santiago', 1))).toEqual({
      kind: 'day',
      key: '2026-09-05',
      start: '2026-09-05T04:00:00.000Z',
      end: '2026-09-06T04:00:00.000Z',
    });
  });

  it('counts whole 24-hour days left, never negative', () => {
    const cycle = windowAt('cycle', at('2026-03-05T12:00:00Z'), 'Europe/Warsaw', 31);
    expect(daysLeftInWindow(cycle, at('2026-03-05T12:00:00Z'))).toBe(25);
    expect(daysLeftInWindow(cycle, cycle.start)).toBe(30); // 31 local days, but one is 23 hours long
    expect(daysLeftInWindow(cycle, cycle.end - DAY)).toBe(1);
    expect(daysLeftInWindow(cycle, cycle.end - DAY + 1)).toBe(0);
    expect(daysLeftInWindow(cycle, cycle.end - 1)).toBe(0);
    expect(daysLeftInWindow(cycle, cycle.end)).toBe(0);
    expect(daysLeftInWindow(cycle, cycle.end + 10 * DAY)).toBe(0);

    const shortDay = windowAt('day', at('2026-03-29T12:00:00Z'), 'Europe/Warsaw', 1);
    expect(daysLeftInWindow(shortDay, shortDay.start)).toBe(0);
    const longDay = windowAt('day', at('2026-10-25T12:00:00Z'), 'Europe/Warsaw', 1);
    expect(daysLeftInWindow(longDay, longDay.start)).toBe(1);
  });

  it('returns frozen windows', () => {
    const window = windowAt('day', at('2026-03-29T12:00:00Z'), 'Europe/Warsaw', 1);
    expect(Object.isFrozen(window)).toBe(true);
  });
});

describe('programmer errors', () => {
  const instant = at('2026-03-05T12:00:00Z');

  it.each(['', '+02:00', 'Mars/Olympus_Mons'])('throws a RangeError for the time zone %j', (zone) => {
    expect(() => windowAt('day', instant, zone, 1)).toThrow(RangeError);
    expect(() => windowAt('cycle', instant, zone, 1)).toThrow(/IANA time zone name/);
  });

  it.each([0, 32, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'throws a RangeError for anchorDay %s',
    (anchor) => {
      expect(() => windowAt('cycle', instant, 'UTC', anchor)).toThrow(RangeError);
      expect(() => windowAt('day', instant, 'UTC', anchor)).toThrow(
        /anchorDay must be an integer from 1 to 31/,
      );
    },
  );

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 8.64e15 + 1])(
    'throws a RangeError for the instant %s',
    (bad) => {
      expect(() => windowAt('cycle', bad, 'UTC', 1)).toThrow(RangeError);
      expect(() => windowAt('day', bad, 'UTC', 1)).toThrow(/instant must be a finite number/);
      const window = windowAt('day', instant, 'UTC', 1);
      expect(() => daysLeftInWindow(window, bad)).toThrow(RangeError);
    },
  );

  it('throws a RangeError for an unknown kind', () => {
    expect(() => windowAt('week' as WindowKind, instant, 'UTC', 1)).toThrow(/kind must be 'cycle' or 'day'/);
  });

  it('throws a RangeError when previousWindow gets a window of another zone or anchor', () => {
    const warsawDay = windowAt('day', instant, 'Europe/Warsaw', 1);
    expect(() => previousWindow(warsawDay, 'Asia/Kolkata', 1)).toThrow(/does not start on a window boundary/);
    const cycle = windowAt('cycle', instant, 'UTC', 31);
    expect(() => previousWindow(cycle, 'UTC', 15)).toThrow(RangeError);
  });
});

describe('independence from the process time zone', () => {
  it('gives the same windows whatever TZ the process runs in', async () => {
    const cases: [WindowKind, number, string, number][] = [];
    for (const zone of ZONES) {
      for (const instant of [
        '2026-04-04T14:00:00Z',
        '2026-09-06T03:30:00Z',
        '2026-10-04T14:00:00Z',
        '2012-09-21T12:00:00Z',
      ]) {
        cases.push(
          ['day', at(instant), zone, 1],
          ['cycle', at(instant), zone, 31],
          ['cycle', at(instant), zone, 6],
        );
      }
    }
    const expected = cases.map((args) => windowAt(...args));
    const original = process.env['TZ'];
    try {
      for (const processZone of [
        'UTC',
        'Asia/Beirut',
        'Australia/Lord_Howe',
        'Pacific/Kiritimati',
        'America/St_Johns',
      ]) {
        process.env['TZ'] = processZone;
        // Proves the process really switched zone, so the comparison below means something.
        const probe = at('2026-01-15T00:00:00Z');
        const zoneOffsetMinutes = (localClock(processZone, probe).wall - probe) / 60_000;
        expect(new Date(probe).getTimezoneOffset() + zoneOffsetMinutes).toBe(0);
        // A fresh copy of the module, so that nothing comes from the caches filled under another TZ.
        vi.resetModules();
        const fresh = await import('../../src/window/window.js');
        expect(cases.map((args) => fresh.windowAt(...args))).toEqual(expected);
      }
    } finally {
      if (original === undefined) delete process.env['TZ'];
      else process.env['TZ'] = original;
    }
  });
});

// Generators (kept local: only the window module uses them so far).
const MIN_INSTANT = Date.UTC(2000, 0, 1);
const END_INSTANT = Date.UTC(2061, 0, 1);
const MAX_INSTANT = END_INSTANT - 1;
const instantArb = fc.oneof(
  fc.integer({ min: MIN_INSTANT, max: MAX_INSTANT }),
  // Near a UTC midnight, where the local midnights of most zones fall within a few hours.
  fc
    .tuple(
      fc.integer({ min: 0, max: (END_INSTANT - MIN_INSTANT) / DAY - 3 }),
      fc.integer({ min: -15 * HOUR, max: 15 * HOUR }),
    )
    .map(([day, shift]) => MIN_INSTANT + DAY + day * DAY + shift),
);
const zoneArb = fc.constantFrom(...ZONES);
const anchorArb = fc.integer({ min: 1, max: 31 });
const kindArb = fc.constantFrom<WindowKind>('cycle', 'day');

/** Consecutive windows from the one containing `instant`: a year of cycles, or six weeks of days. */
function walk(kind: WindowKind, instant: number, zone: string, anchor: number): BillingWindow[] {
  const windows = [windowAt(kind, instant, zone, anchor)];
  const count = kind === 'cycle' ? 13 : 42;
  for (let i = 1; i < count; i++) {
    const last = windows[windows.length - 1] as BillingWindow;
    windows.push(windowAt(kind, last.end, zone, anchor));
  }
  return windows;
}

describe('properties', () => {
  it('puts the instant in [start, end) of a window of the requested kind', () => {
    fc.assert(
      fc.property(kindArb, instantArb, zoneArb, anchorArb, (kind, instant, zone, anchor) => {
        const window = windowAt(kind, instant, zone, anchor);
        expect(window.kind).toBe(kind);
        expect(window.start).toBeLessThanOrEqual(instant);
        expect(instant).toBeLessThan(window.end);
        expect(window.key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }),
    );
  });

  it('is exact at the boundaries: start and end - 1 map to the window, end to the next one', () => {
    fc.assert(
      fc.property(kindArb, instantArb, zoneArb, anchorArb, (kind, instant, zone, anchor) => {
        for (const window of walk(kind, instant, zone, anchor)) {
          expect(windowAt(kind, window.start, zone, anchor)).toEqual(window);
          expect(windowAt(kind, window.end - 1, zone, anchor)).toEqual(window);
          const next = windowAt(kind, window.end, zone, anchor);
          expect(next.start).toBe(window.end);
          expect(next.key > window.key).toBe(true);
        }
      }),
    );
  });

  it('steps back exactly one window with previousWindow', () => {
    fc.assert(
      fc.property(kindArb, instantArb, zoneArb, anchorArb, (kind, instant, zone, anchor) => {
        const window = windowAt(kind, instant, zone, anchor);
        const previous = previousWindow(window, zone, anchor);
        expect(previous.end).toBe(window.start);
        expect(previous.kind).toBe(kind);
        expect(windowAt(kind, previous.end, zone, anchor)).toEqual(window);
        expect(previousWindow(windowAt(kind, window.end, zone, anchor), zone, anchor)).toEqual(window);
      }),
    );
  });

  it('starts every window at local 00:00 on its key date, or when the clocks jump past a missing midnight', () => {
    fc.assert(
      fc.property(kindArb, instantArb, zoneArb, anchorArb, (kind, instant, zone, anchor) => {
        for (const window of walk(kind, instant, zone, anchor)) {
          const atStart = localClock(zone, window.start);
          const justBefore = localClock(zone, window.start - 1);
          expect(atStart.date).toBe(window.key);
          expect(justBefore.date < window.key).toBe(true);
          if (atStart.time !== '00:00:00.000') {
            expect(MIDNIGHT_GAP_ZONES.has(zone)).toBe(true);
            // The local clock skipped over midnight in the last millisecond before the start.
            expect(justBefore.time).toBe('23:59:59.999');
            expect(atStart.wall - justBefore.wall).toBeGreaterThan(1);
          }
        }
      }),
    );
  });

  it('makes day windows 23, 24 or 25 hours long (23.5 or 24.5 on Lord Howe Island), one calendar day apart', () => {
    fc.assert(
      fc.property(instantArb, zoneArb, anchorArb, (instant, zone, anchor) => {
        const days = walk('day', instant, zone, anchor);
        for (const [index, window] of days.entries()) {
          const hours = (window.end - window.start) / HOUR;
          expect(zone === 'Australia/Lord_Howe' ? [23.5, 24, 24.5] : [23, 24, 25]).toContain(hours);
          const next = days[index + 1];
          if (next !== undefined) expect(next.key).toBe(addCalendarDays(window.key, 1));
        }
      }),
    );
  });

  it('starts each cycle on min(anchor, days in month), one month apart, 28 to 31 days long give or take an hour', () => {
    fc.assert(
      fc.property(instantArb, zoneArb, anchorArb, (instant, zone, anchor) => {
        const cycles = walk('cycle', instant, zone, anchor);
        for (const [index, window] of cycles.entries()) {
          const [year, month, day] = window.key.split('-').map(Number) as [number, number, number];
          expect(day).toBe(Math.min(anchor, daysInMonth(year, month)));
          const length = window.end - window.start;
          expect(length).toBeGreaterThanOrEqual(28 * DAY - HOUR);
          expect(length).toBeLessThanOrEqual(31 * DAY + HOUR);
          const next = cycles[index + 1];
          if (next !== undefined) {
            const [nextYear, nextMonth] = next.key.split('-').map(Number) as [number, number];
            expect(nextYear * 12 + nextMonth).toBe(year * 12 + month + 1);
          }
        }
      }),
    );
  });

  it('counts the whole 24-hour days left in the window, and 0 once it has ended', () => {
    fc.assert(
      fc.property(
        kindArb,
        instantArb,
        zoneArb,
        anchorArb,
        fc.integer({ min: 0, max: 40 * DAY }),
        (kind, instant, zone, anchor, later) => {
          const window = windowAt(kind, instant, zone, anchor);
          const left = daysLeftInWindow(window, instant);
          expect(Number.isInteger(left)).toBe(true);
          expect(left * DAY).toBeLessThanOrEqual(window.end - instant);
          expect(window.end - instant).toBeLessThan((left + 1) * DAY);
          expect(daysLeftInWindow(window, window.end + later)).toBe(0);
        },
      ),
    );
  });
});
