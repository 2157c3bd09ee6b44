import { tzOffset } from '@date-fns/tz';

// Everything here is built on `tzOffset` from @date-fns/tz, which asks Intl for a zone's UTC offset at an
// instant and nothing else, so results never depend on the process time zone and nothing reads the clock.
// Not on `TZDate` or date-fns' `startOfDay(x, { in: tz(zone) })`: TZDate's wall-clock setters go through
// the native `Date` of the process time zone and then correct for it, and with @date-fns/tz 1.5.0 that
// correction is wrong around DST changes for some pairs of zones (under TZ=America/Santiago it starts
// Australia/Adelaide's 2026-04-05 at 01:00 local; under TZ=Australia/Lord_Howe it starts
// America/Santiago's 2026-04-05 half an hour early). Its constructor also reads `Date.now()`, and
// reading local fields through it costs twice as much as the offset alone.

/** Which period a cap counts over: the subscriber's billing `cycle`, or the calendar `day`. */
export type WindowKind = 'cycle' | 'day';

/**
 * A half-open interval `[start, end)` in epoch milliseconds.
 *
 * `key` is the local date `YYYY-MM-DD` the window starts on in the subscriber's zone (for a cycle, the
 * clamped anchor date), so it is unique per kind, zone and anchor and stable enough to store.
 *
 * @example
 * const window: BillingWindow = {
 *   kind: 'day',
 *   key: '2026-03-29',
 *   start: Date.parse('2026-03-28T23:00:00Z'),
 *   end: Date.parse('2026-03-29T22:00:00Z'),
 * }; // Europe/Warsaw's 23-hour day when clocks go forward
 */
export interface BillingWindow {
  readonly kind: WindowKind;
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
/** `Date` cannot represent instants further than this from the epoch. */
const MAX_INSTANT = 8.64e15;
/** Caches are cleared wholesale past this size: a long-running process sees many zones and months. */
const MAX_CACHE_ENTRIES = 50_000;

const zoneValidity = new Map<string, boolean>();
/** `${timeZone}|${local day number}` -> first instant of that local day. */
const dayStarts = new Map<string, number>();
/**
 * Per time zone, per anchor day (index 1-31 for cycles, 0 for days): the windows last computed for it,
 * most recent first (at most `WINDOWS_PER_KEY`): events mostly arrive in order, late ones fall in the
 * window before, and the ledger's horizon asks for the one before that. (Keyed by zone, then indexed,
 * so a lookup builds no string.)
 */
const lastWindows = new Map<string, (BillingWindow[] | undefined)[]>();
const WINDOWS_PER_KEY = 8;

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * Whether `timeZone` names a time zone this runtime's `Intl` knows (`Europe/Warsaw`, `UTC`, `Etc/GMT-14`,
 * and links such as `US/Pacific`).
 *
 * UTC offsets such as `+02:00` are refused even on runtimes whose `Intl` accepts them (newer ones do,
 * Node 20 does not): a profile names an IANA zone, and an offset has no DST rules, so a policy would
 * silently mis-bill half the year and behave differently from one runtime to the next. `Intl` matches
 * names case-insensitively, so `europe/warsaw` is accepted and behaves as `Europe/Warsaw`.
 *
 * @example
 * isValidTimeZone('Europe/Warsaw'); // true
 * isValidTimeZone('+02:00'); // false
 * isValidTimeZone('Mars/Olympus_Mons'); // false
 */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string') return false;
  const known = zoneValidity.get(timeZone);
  if (known !== undefined) return known;
  let valid = false;
  if (timeZone !== '' && !/^[+-]/.test(timeZone)) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
      valid = true;
    } catch {
      valid = false;
    }
  }
  return remember(zoneValidity, timeZone, valid);
}

/**
 * The window of `kind` that contains `instant` (epoch ms), in `timeZone`, for a cycle anchored on
 * `anchorDay` (1-31; ignored by `day` windows but still checked, so a bad profile fails early).
 *
 * A cycle starts at 00:00 local time on the anchor day, or on the month's last day when the month is
 * shorter (anchor 31 starts on 30 April and 28 or 29 February). A day window is the local calendar day,
 * 23 or 25 hours long on DST days. Where local midnight does not exist (America/Santiago and Asia/Beirut
 * move clocks forward at 00:00), the window starts at the first instant of that local day, the moment the
 * clocks jump (01:00 local); where midnight happens twice (clocks going back from 01:00), it starts at the
 * first one, so every instant whose local date is that day lies in its window.
 *
 * Windows tile the timeline exactly: `windowAt(k, w.end, ...)` starts at `w.end`.
 *
 * @throws RangeError for an unknown kind, a non-finite instant or one outside the `Date` range, an
 *   `anchorDay` that is not an integer from 1 to 31, or a time zone `isValidTimeZone` refuses.
 *
 * @example
 * const cycle = windowAt('cycle', Date.parse('2026-03-05T12:00:00Z'), 'Europe/Warsaw', 31);
 * // { kind: 'cycle', key: '2026-02-28',
 * //   start: Date.parse('2026-02-27T23:00:00Z'), end: Date.parse('2026-03-30T22:00:00Z') }
 */
export function windowAt(
  kind: WindowKind,
  instant: number,
  timeZone: string,
  anchorDay: number,
): BillingWindow {
  checkKind(kind);
  checkInstant(instant, 'instant');
  checkAnchorDay(anchorDay);

  // A zone with windows kept has been checked (its table is made only after the check).
  let byAnchor = lastWindows.get(timeZone);
  if (byAnchor === undefined) {
    checkTimeZone(timeZone);
    byAnchor = remember(lastWindows, timeZone, new Array(32).fill(undefined));
  }
  const slot = kind === 'day' ? 0 : anchorDay;
  let list = byAnchor[slot];
  // Windows never overlap, so a cached window that contains the instant is the answer.
  if (list !== undefined) {
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (w.start <= instant && instant < w.end) return w;
    }
  } else list = byAnchor[slot] = [];

  const window =
    kind === 'day' ? dayWindowAt(instant, timeZone) : cycleWindowAt(instant, timeZone, anchorDay);
  list.unshift(window);
  if (list.length > WINDOWS_PER_KEY) list.pop();
  return window;
}

/**
 * The window immediately before `window`: same kind, zone and anchor; its `end` is `window.start`.
 *
 * @throws RangeError when `window` is not a window of `timeZone` and `anchorDay` (its start is not a
 *   window boundary there), besides the errors of {@link windowAt}.
 *
 * @example
 * const march = windowAt('cycle', Date.parse('2026-03-20T12:00:00Z'), 'UTC', 31);
 * previousWindow(march, 'UTC', 31);
 * // { kind: 'cycle', key: '2026-01-31',
 * //   start: Date.parse('2026-01-31T00:00:00Z'), end: Date.parse('2026-02-28T00:00:00Z') }
 */
export function previousWindow(window: BillingWindow, timeZone: string, anchorDay: number): BillingWindow {
  checkInstant(window.start, 'window.start');
  const previous = windowAt(window.kind, window.start - 1, timeZone, anchorDay);
  if (previous.end !== window.start) {
    throw new RangeError(
      `previousWindow: the ${window.kind} window '${window.key}' does not start on a window boundary of ` +
        `time zone '${timeZone}' with anchor day ${anchorDay}; pass the zone and anchor it was made with`,
    );
  }
  return previous;
}

/**
 * Whole days left until `window` ends, counted as 24-hour periods from `instant`: the floor of
 * `(window.end - instant) / 86,400,000`, and 0 once the window has ended. On a DST-shortened stretch a
 * "day" here is still 24 hours, so the count never overstates the time left.
 *
 * @throws RangeError for a non-finite instant or one outside the `Date` range.
 *
 * @example
 * const cycle = windowAt('cycle', Date.parse('2026-03-05T12:00:00Z'), 'UTC', 31);
 * daysLeftInWindow(cycle, Date.parse('2026-03-05T12:00:00Z')); // 25 (ends 2026-03-31T00:00Z)
 */
export function daysLeftInWindow(window: BillingWindow, instant: number): number {
  checkInstant(instant, 'instant');
  return Math.max(0, Math.floor((window.end - instant) / MS_PER_DAY));
}

function dayWindowAt(instant: number, timeZone: string): BillingWindow {
  let day = localDayNumber(instant, timeZone);
  let start = startOfLocalDay(timeZone, day);
  // Only zones whose clocks once went back across midnight get here: a local date can then repeat.
  while (instant < start) start = startOfLocalDay(timeZone, --day);
  let end = startOfLocalDay(timeZone, day + 1);
  while (instant >= end) {
    day += 1;
    start = end;
    end = startOfLocalDay(timeZone, day + 1);
  }
  return makeWindow('day', day, start, end);
}

function cycleWindowAt(instant: number, timeZone: string, anchorDay: number): BillingWindow {
  const local = new Date(localDayNumber(instant, timeZone) * MS_PER_DAY);
  // Months counted from year 0, so stepping back or forward across a year is plain arithmetic.
  let month = local.getUTCFullYear() * 12 + local.getUTCMonth();
  let startDay = cycleStartDay(month, anchorDay);
  let start = startOfLocalDay(timeZone, startDay);
  while (instant < start) {
    month -= 1;
    startDay = cycleStartDay(month, anchorDay);
    start = startOfLocalDay(timeZone, startDay);
  }
  let end = startOfLocalDay(timeZone, cycleStartDay(month + 1, anchorDay));
  while (instant >= end) {
    month += 1;
    startDay = cycleStartDay(month, anchorDay);
    start = end;
    end = startOfLocalDay(timeZone, cycleStartDay(month + 1, anchorDay));
  }
  return makeWindow('cycle', startDay, start, end);
}

/** The day number (days since 1970-01-01) of the cycle's first day in `month` (counted from year 0). */
function cycleStartDay(month: number, anchorDay: number): number {
  const year = Math.floor(month / 12);
  const monthOfYear = month - year * 12;
  // Day 0 of the next month is the last day of this one.
  const daysInMonth = new Date(Date.UTC(year, monthOfYear + 1, 0)).getUTCDate();
  return Date.UTC(year, monthOfYear, Math.min(anchorDay, daysInMonth)) / MS_PER_DAY;
}

/** The local calendar date of `instant` in `timeZone`, as days since 1970-01-01. */
function localDayNumber(instant: number, timeZone: string): number {
  return Math.floor((instant + offsetAt(timeZone, instant)) / MS_PER_DAY);
}

/**
 * The first instant whose local date in `timeZone` is `day` (days since 1970-01-01): local midnight, the
 * earlier one when midnight happens twice, or the moment clocks jump past a midnight that never happens.
 */
function startOfLocalDay(timeZone: string, day: number): number {
  const cacheKey = `${timeZone}|${day}`;
  const cached = dayStarts.get(cacheKey);
  if (cached !== undefined) return cached;

  const wallMidnight = day * MS_PER_DAY;
  // No zone changes its offset twice within a day either side of midnight, so these two offsets are
  // the only ones midnight can have.
  const offsetBefore = offsetAt(timeZone, wallMidnight - MS_PER_DAY);
  const offsetAfter = offsetAt(timeZone, wallMidnight + MS_PER_DAY);
  let start = Number.POSITIVE_INFINITY;
  for (const offset of [offsetBefore, offsetAfter]) {
    const candidate = wallMidnight - offset;
    if (offsetAt(timeZone, candidate) === offset) start = Math.min(start, candidate);
  }
  if (start === Number.POSITIVE_INFINITY) {
    // Midnight falls in a gap: the day begins when the clocks jump, somewhere between the two readings.
    let before = wallMidnight - offsetAfter;
    let after = wallMidnight - offsetBefore;
    while (after - before > 1) {
      const middle = Math.floor((before + after) / 2);
      if (localDayNumber(middle, timeZone) >= day) after = middle;
      else before = middle;
    }
    start = after;
  }
  return remember(dayStarts, cacheKey, start);
}

/** The zone's UTC offset at `instant`, in milliseconds. */
function offsetAt(timeZone: string, instant: number): number {
  return Math.round(tzOffset(timeZone, new Date(instant)) * MS_PER_MINUTE);
}

function makeWindow(kind: WindowKind, startDay: number, start: number, end: number): BillingWindow {
  return Object.freeze({ kind, key: formatDay(startDay), start, end });
}

function formatDay(day: number): string {
  const date = new Date(day * MS_PER_DAY);
  const year = date.getUTCFullYear();
  const yearText =
    year >= 0 && year <= 9999
      ? String(year).padStart(4, '0')
      : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dayOfMonth = String(date.getUTCDate()).padStart(2, '0');
  return `${yearText}-${month}-${dayOfMonth}`;
}

function checkKind(kind: WindowKind): void {
  if (kind !== 'cycle' && kind !== 'day') {
    throw new RangeError(`window kind must be 'cycle' or 'day', got ${JSON.stringify(kind)}`);
  }
}

function checkInstant(instant: number, name: string): void {
  if (typeof instant !== 'number' || !Number.isFinite(instant) || Math.abs(instant) > MAX_INSTANT) {
    throw new RangeError(
      `${name} must be a finite number of epoch milliseconds within the Date range, got ${String(instant)}`,
    );
  }
}

function checkAnchorDay(anchorDay: number): void {
  if (!Number.isInteger(anchorDay) || anchorDay < 1 || anchorDay > 31) {
    throw new RangeError(`anchorDay must be an integer from 1 to 31, got ${String(anchorDay)}`);
  }
}

function checkTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) {
    throw new RangeError(
      `timeZone must be an IANA time zone name such as 'Europe/Warsaw', got ${JSON.stringify(timeZone)}`,
    );
  }
}
