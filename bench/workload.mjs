// Workload W1 of the performance issue (issue 5), generated deterministically from a seed.
//
// N subscribers (varied home countries, IANA zones, anchor days 1-31, locales) and E events over 45 days
// from 2026-10-10T00:00Z, so every subscriber's billing cycle rolls over at least once and the EU DST
// change (2026-10-25) and the US one (2026-11-01) lie inside. The mix is drawn per event slot:
//
//   usage 70 % (data / voice / sms; about a fifth roaming, in `eu` and `world` countries)
//   location 10 %, payment 5 %, adjustment 0.5 %, dispute 0.5 % (open, then upheld or rejected, same
//   reference), duplicate 1 % (an earlier event of the same subscriber repeated verbatim), late 1 % (a
//   usage record dated in the previous billing cycle relative to that subscriber's latest event), the
//   rest ticks.
//
// Every event is handed out as decoded from its JSON line, as a feed would deliver it. Events are
// globally ordered by time; each subscriber's events are in time order except the late ones
// and the duplicates (which repeat an earlier `at`). Every event is valid for rules/graduated-postpaid.json
// (currency PLN); a slot that cannot be a duplicate, late record or dispute resolution yet (the subscriber
// has no history) becomes a tick, and `mix` reports the counts actually generated.
//
// Costs are PLN minor units. Subscribers differ in activity (a log-normal weight: a few heavy users get
// many events) and in spend level, so that a fair share cross 80 % and 100 % of the caps of the flagship
// policy (roaming-data 20,000; bill 150,000) within a cycle; bench/run.mjs prints how many do.

import { windowAt } from 'spendcap';

/** mulberry32: a small, fast, seedable 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const W1_START = Date.parse('2026-10-10T00:00:00Z');
export const W1_DAYS = 45;
const DAY = 86_400_000;

// Home countries with their zones and locales; weights sum to 1. GB, CH, US, TR and UA are outside the
// policy's `eu` list, so their subscribers roam in `eu` when they visit the EU.
const HOMES = [
  { country: 'PL', weight: 0.4, zones: ['Europe/Warsaw'], locales: ['pl-PL', 'pl-PL', 'pl-PL', 'en'] },
  { country: 'DE', weight: 0.14, zones: ['Europe/Berlin'], locales: ['de-DE', 'en'] },
  { country: 'FR', weight: 0.11, zones: ['Europe/Paris'], locales: ['fr-FR', 'en'] },
  {
    country: 'ES',
    weight: 0.1,
    zones: ['Europe/Madrid', 'Europe/Madrid', 'Atlantic/Canary'],
    locales: ['es-ES', 'en'],
  },
  { country: 'IT', weight: 0.1, zones: ['Europe/Rome'], locales: ['it-IT', 'en'] },
  { country: 'NL', weight: 0.1, zones: ['Europe/Amsterdam'], locales: ['nl-NL', 'en'] },
  { country: 'GB', weight: 0.02, zones: ['Europe/London'], locales: ['en-GB'] },
  { country: 'CH', weight: 0.01, zones: ['Europe/Zurich'], locales: ['de-CH', 'fr-CH'] },
  {
    country: 'US',
    weight: 0.01,
    zones: ['America/New_York', 'America/Chicago', 'America/Los_Angeles'],
    locales: ['en-US'],
  },
  { country: 'TR', weight: 0.005, zones: ['Europe/Istanbul'], locales: ['tr-TR', 'en'] },
  { country: 'UA', weight: 0.005, zones: ['Europe/Kyiv'], locales: ['uk-UA', 'en'] },
];
const EU_DESTINATIONS = ['DE', 'FR', 'ES', 'IT', 'NL', 'AT', 'CZ', 'HR', 'GR', 'PT', 'SE', 'PL', 'NO', 'IE'];
const WORLD_DESTINATIONS = ['US', 'GB', 'CH', 'TR', 'TH', 'AE', 'EG', 'MA', 'JP', 'UA', 'BR'];
const NETWORKS = ['260-01', '260-02', '262-01', '208-10', '214-07', '222-01', '204-08', '310-260', '234-15'];
/** Mean cost of one usage record in PLN minor units, before the subscriber's spend level. */
const COST = { data: 12000, voice: 4000, euData: 6000, worldData: 15000, euVoice: 1500, worldVoice: 6000 };
/** Share of subscribers who travel once in the period. */
const TRAVEL = 0.6;
/** Mean payment, before the subscriber's spend level. */
const PAYMENT = 50_000;
const SEGMENTS = ['consumer', 'consumer', 'consumer', 'business', 'youth'];

/** UTC offset in minutes of `zone` at `t`, cached per zone and hour (all zones used change on the hour). */
const offsetCache = new Map();
const offsetFormats = new Map();
function offsetMinutes(zone, t) {
  const key = `${zone}|${Math.floor(t / 3_600_000)}`;
  let minutes = offsetCache.get(key);
  if (minutes !== undefined) return minutes;
  let format = offsetFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormats.set(zone, format);
  }
  const name = format.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName').value; // GMT+01:00
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  minutes = m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  offsetCache.set(key, minutes);
  return minutes;
}

/** `t` (epoch ms, whole seconds) as ISO 8601 in the subscriber's local offset, e.g. 2026-10-25T02:30:00+01:00. */
export function isoInZone(t, zone) {
  const offset = offsetMinutes(zone, t);
  const local = new Date(t + offset * 60_000).toISOString().slice(0, 19);
  if (offset === 0) return `${local}Z`;
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

function pick(rand, list) {
  return list[Math.floor(rand() * list.length)];
}

function normal(rand) {
  // Box-Muller; 1 - rand() avoids log(0).
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Generates W1.
 *
 * @param {{ subscribers?: number, events?: number, seed?: number }} options
 * @returns {{ profiles: object[], events: object[], mix: Record<string, number>, start: string, end: string, seed: number }}
 */
export function generateW1({ subscribers = 100_000, events = 1_000_000, seed = 20261010 } = {}) {
  const rand = mulberry32(seed);
  const span = W1_DAYS * DAY;
  const end = W1_START + span;

  // --- Subscribers -------------------------------------------------------------------------------------
  const profiles = new Array(subscribers);
  const subs = new Array(subscribers); // generator-side traits, not part of the profile
  const cumulative = new Float64Array(subscribers);
  let total = 0;
  const homeCumulative = [];
  let acc = 0;
  for (const home of HOMES) homeCumulative.push((acc += home.weight));
  const width = String(subscribers - 1).length;
  for (let i = 0; i < subscribers; i++) {
    let r = rand() * acc;
    let h = 0;
    while (h < HOMES.length - 1 && r >= homeCumulative[h]) h++;
    const home = HOMES[h];
    const profile = {
      subscriberId: `sub-${String(i).padStart(width, '0')}`,
      homeCountry: home.country,
      timeZone: pick(rand, home.zones),
      cycleAnchorDay: 1 + Math.floor(rand() * 31),
    };
    if (rand() < 0.9) profile.locale = pick(rand, home.locales);
    if (rand() < 0.7) profile.tenureMonths = Math.floor(rand() * 120);
    if (rand() < 0.5) profile.segment = pick(rand, SEGMENTS);
    profiles[i] = profile;

    // Activity: log-normal, so a minority of heavy users get many events. Spend level: per-event cost
    // multiplier, also log-normal and correlated with activity.
    const z = normal(rand);
    const weight = Math.exp(0.9 * z);
    const spend = Math.exp(0.5 * z + 0.6 * normal(rand));
    // About 60 % travel once in the 45 days; a trip lasts 5-30 days, to an `eu` (70 %) or `world` country.
    let trip = null;
    if (rand() < TRAVEL) {
      const days = 5 + Math.floor(rand() * 26);
      const from = W1_START + Math.floor(rand() * (W1_DAYS - days)) * DAY + Math.floor(rand() * DAY);
      const world = rand() < 0.3;
      let country = pick(rand, world ? WORLD_DESTINATIONS : EU_DESTINATIONS);
      if (country === home.country) country = world ? 'TH' : home.country === 'AT' ? 'CZ' : 'AT';
      trip = { from, to: from + days * DAY, country, world };
    }
    subs[i] = {
      profile,
      spend,
      trip,
      latest: null, // epoch ms of the latest in-order event
      recent: [], // the last few in-order events (duplicates repeat one of them)
      openDisputes: [],
      disputeSeq: 0,
    };
    total += weight;
    cumulative[i] = total;
  }

  const chooseSubscriber = () => {
    const r = rand() * total;
    let lo = 0;
    let hi = subscribers - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return subs[lo];
  };

  const abroad = (s, t) => s.trip !== null && t >= s.trip.from && t < s.trip.to;

  /** Cost of one usage in PLN minor units: domestic voice/sms cheap, roaming data dear. */
  const usageCost = (s, service, roaming, world) => {
    let base;
    if (service === 'data') base = roaming ? (world ? COST.worldData : COST.euData) : COST.data;
    else if (service === 'voice') base = roaming ? (world ? COST.worldVoice : COST.euVoice) : COST.voice;
    else base = roaming ? (world ? 150 : 30) : 25;
    return Math.max(1, Math.round(base * s.spend * (0.25 + 1.5 * rand())));
  };

  // --- Events --------------------------------------------------------------------------------------------
  const out = new Array(events);
  const mix = {
    usage: 0,
    roaming: 0,
    location: 0,
    payment: 0,
    adjustment: 0,
    dispute: 0,
    duplicate: 0,
    late: 0,
    tick: 0,
  };
  const step = span / events;
  let seq = 0;
  const nextId = () => `e${(seq++).toString(36)}`;

  const remember = (s, event, t) => {
    s.latest = t;
    s.recent.push(event);
    if (s.recent.length > 4) s.recent.shift();
  };
  const tick = (s, t) => ({
    type: 'tick',
    id: nextId(),
    subscriberId: s.profile.subscriberId,
    at: isoInZone(t, s.profile.timeZone),
  });

  for (let i = 0; i < events; i++) {
    // Whole seconds, non-decreasing: the stream is interleaved by time.
    const t = Math.floor((W1_START + (i + rand()) * step) / 1000) * 1000;
    const r = rand();
    let s = chooseSubscriber();
    // A duplicate or a late record needs a subscriber with history: try a few others first.
    for (let k = 0; k < 10 && r >= 0.86 && r < 0.88 && s.latest === null; k++) s = chooseSubscriber();
    const { subscriberId, timeZone, homeCountry, cycleAnchorDay } = s.profile;
    const at = isoInZone(t, timeZone);
    let event;
    let inOrder = true;

    if (r < 0.7) {
      const away = abroad(s, t) && rand() < 0.85;
      const service = rand() < 0.5 ? 'data' : rand() < 0.7 ? 'voice' : 'sms';
      const country = away ? s.trip.country : homeCountry;
      event = {
        type: 'usage',
        id: nextId(),
        subscriberId,
        at,
        service,
        country,
        cost: { amount: usageCost(s, service, away, away && s.trip.world), currency: 'PLN' },
      };
      if (service === 'data') {
        event.quantity = Math.round(10 + rand() * 500);
        event.unit = 'MB';
      } else if (service === 'voice') {
        event.quantity = 1 + Math.floor(rand() * 30);
        event.unit = 'min';
      } else {
        event.quantity = 1;
        event.unit = 'msg';
      }
      if (rand() < 0.3) event.ratingGroup = 10 + Math.floor(rand() * 5);
      mix.usage++;
      if (away) mix.roaming++;
    } else if (r < 0.8) {
      const country = abroad(s, t) ? s.trip.country : homeCountry;
      event = { type: 'location', id: nextId(), subscriberId, at, country };
      if (rand() < 0.6) event.network = pick(rand, NETWORKS);
      mix.location++;
    } else if (r < 0.85) {
      const amount = Math.max(100, Math.round(PAYMENT * s.spend * (0.3 + rand())));
      event = {
        type: 'payment',
        id: nextId(),
        subscriberId,
        at,
        amount,
        currency: 'PLN',
        reference: `pay-${seq}`,
      };
      mix.payment++;
    } else if (r < 0.855) {
      const credit = rand() < 0.7;
      const amount = Math.max(1, Math.round(3000 * s.spend * (0.2 + rand())));
      event = {
        type: 'adjustment',
        id: nextId(),
        subscriberId,
        at,
        amount: credit ? -amount : amount,
        reference: `adj-${seq}`,
        reason: credit ? 'goodwill credit' : 'late-rated roaming charge',
      };
      if (rand() < 0.3) event.capId = credit && rand() < 0.5 ? 'roaming-data' : 'bill';
      if (rand() < 0.5) event.currency = 'PLN';
      mix.adjustment++;
    } else if (r < 0.86) {
      if (s.openDisputes.length > 0 && rand() < 0.6) {
        const open = s.openDisputes.shift();
        event = {
          type: 'dispute',
          id: nextId(),
          subscriberId,
          at,
          reference: open.reference,
          amount: open.amount,
          status: rand() < 0.6 ? 'upheld' : 'rejected',
        };
      } else {
        const reference = `case-${subscriberId}-${++s.disputeSeq}`;
        const amount = Math.max(1, Math.round(8000 * s.spend * (0.2 + rand())));
        s.openDisputes.push({ reference, amount });
        event = {
          type: 'dispute',
          id: nextId(),
          subscriberId,
          at,
          reference,
          amount,
          status: 'open',
          currency: 'PLN',
        };
      }
      mix.dispute++;
    } else if (r < 0.87) {
      // A verbatim repeat of one of the subscriber's recent events, still inside the engine's duplicate
      // horizon (the start of the billing cycle before the one holding the latest event).
      if (s.latest === null) {
        event = tick(s, t);
        mix.tick++;
      } else {
        const cur = windowAt('cycle', s.latest, timeZone, cycleAnchorDay);
        const horizon = windowAt('cycle', cur.start - 1, timeZone, cycleAnchorDay).start;
        let original = pick(rand, s.recent);
        if (Date.parse(original.at) < horizon) original = s.recent[s.recent.length - 1];
        event = { ...original };
        if (original.cost !== undefined) event.cost = { ...original.cost };
        inOrder = false;
        mix.duplicate++;
      }
    } else if (r < 0.88) {
      // A late CDR: dated in the billing cycle before the one holding the subscriber's latest event.
      if (s.latest === null) {
        event = tick(s, t);
        mix.tick++;
      } else {
        const cur = windowAt('cycle', s.latest, timeZone, cycleAnchorDay);
        const prev = windowAt('cycle', cur.start - 1, timeZone, cycleAnchorDay);
        const lateAt = Math.floor((prev.start + rand() * (cur.start - prev.start)) / 1000) * 1000;
        const away = abroad(s, lateAt) && rand() < 0.85;
        const service = rand() < 0.6 ? 'data' : 'voice';
        event = {
          type: 'usage',
          id: nextId(),
          subscriberId,
          at: isoInZone(lateAt, timeZone),
          service,
          country: away ? s.trip.country : homeCountry,
          cost: { amount: usageCost(s, service, away, away && s.trip.world), currency: 'PLN' },
        };
        inOrder = false;
        mix.late++;
      }
    } else {
      event = tick(s, t);
      mix.tick++;
    }
    if (inOrder) remember(s, event, t);
    out[i] = event;
  }
  // Each record as a billing system hands it over: decoded from its JSON line. (Built by concatenation
  // above, a string such as `at` would otherwise be a rope that every reader flattens first, a cost no
  // decoded feed has.)
  for (let i = 0; i < out.length; i++) out[i] = JSON.parse(JSON.stringify(out[i]));

  return {
    profiles,
    events: out,
    mix,
    seed,
    start: new Date(W1_START).toISOString(),
    end: new Date(end).toISOString(),
  };
}
