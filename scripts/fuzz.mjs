// npm run fuzz [-- --events N --policies M --seed S]
//
// Hostile input, generated with fast-check from a seed (printed first):
//   - N bad or odd events through `engine.process` on states that have seen valid events: every one must
//     come back `rejected` with issues that name a path, without a throw and without changing the state;
//   - M mutated policies (from the shipped ones) through `checkPolicy`: every one must be refused with
//     issues that name a path, without a throw;
//   - and nothing may ever appear on Object.prototype, Array.prototype or Function.prototype.
// The last line is one JSON object { events, policies, throws, stateChanges, acceptedBad, pollution };
// the exit code is 1 when any of the last four is not 0.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { checkPolicy, createEngine, loadPolicy } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const EVENTS = option('events', 1_000_000);
const POLICIES = option('policies', 100_000);
const SEED = option('seed', Date.now() % 2 ** 31);
const BATCH = 2_000;
console.log(`fuzz: seed ${SEED} (replay with --seed ${SEED}), ${EVENTS} events, ${POLICIES} policies`);

const totals = { events: 0, policies: 0, throws: 0, stateChanges: 0, acceptedBad: 0, pollution: 0 };
const examples = [];
const note = (kind, detail) => {
  if (examples.length < 10) examples.push({ kind, detail: JSON.stringify(detail)?.slice(0, 400) });
};

// --- Pollution watch ------------------------------------------------------------------------------------
const PROTOS = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };
const baseline = Object.fromEntries(
  Object.entries(PROTOS).map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort().join(',')]),
);
function polluted() {
  for (const [name, proto] of Object.entries(PROTOS)) {
    if (Reflect.ownKeys(proto).map(String).sort().join(',') !== baseline[name]) return name;
  }
  const probe = {};
  if (probe.polluted !== undefined || probe.isAdmin !== undefined) return 'Object (inherited)';
  return null;
}
function checkPollution(where) {
  const name = polluted();
  if (name === null) return;
  totals.pollution++;
  note('pollution', { where, prototype: name });
  // Restore, so that one finding does not hide the next.
  for (const [n, proto] of Object.entries(PROTOS)) {
    const keep = new Set(baseline[n].split(','));
    for (const key of Reflect.ownKeys(proto)) if (!keep.has(String(key))) delete proto[key];
  }
}

// --- Bad events -------------------------------------------------------------------------------------------
const shipped = readdirSync('rules').map((f) => JSON.parse(readFileSync(`rules/${f}`, 'utf8')));
const flagship = shipped.find((p) => p.id === 'graduated-postpaid');
const engine = createEngine(loadPolicy(flagship));
const profile = {
  subscriberId: 's1',
  homeCountry: 'PL',
  timeZone: 'Europe/Warsaw',
  cycleAnchorDay: 1,
  locale: 'pl-PL',
};
const AT = '2026-11-10T12:00:00+01:00';
const valid = {
  usage: {
    type: 'usage',
    id: 'u',
    subscriberId: 's1',
    at: AT,
    service: 'data',
    country: 'DE',
    cost: { amount: 500, currency: 'PLN' },
    quantity: 10,
    unit: 'MB',
  },
  location: { type: 'location', id: 'l', subscriberId: 's1', at: AT, country: 'FR', network: '208-01' },
  payment: {
    type: 'payment',
    id: 'p',
    subscriberId: 's1',
    at: AT,
    amount: 1000,
    currency: 'PLN',
    reference: 'PAY-1',
  },
  adjustment: {
    type: 'adjustment',
    id: 'a',
    subscriberId: 's1',
    at: AT,
    amount: -300,
    reference: 'ADJ-1',
    reason: 'refund',
  },
  dispute: {
    type: 'dispute',
    id: 'd',
    subscriberId: 's1',
    at: AT,
    reference: 'CASE-1',
    amount: 200,
    status: 'open',
  },
  override: {
    type: 'override',
    id: 'o',
    subscriberId: 's1',
    at: AT,
    by: 'agent',
    capId: 'bill',
    until: 'window-end',
    reason: 'goodwill',
  },
  tick: { type: 'tick', id: 't', subscriberId: 's1', at: AT },
};
/** Keys each type requires, and the money keys (as paths) that must be integers in range. */
const REQUIRED = {
  usage: ['type', 'id', 'subscriberId', 'at', 'service', 'country', 'cost'],
  location: ['type', 'id', 'subscriberId', 'at', 'country'],
  payment: ['type', 'id', 'subscriberId', 'at', 'amount', 'currency', 'reference'],
  adjustment: ['type', 'id', 'subscriberId', 'at', 'amount', 'reference', 'reason'],
  dispute: ['type', 'id', 'subscriberId', 'at', 'reference', 'amount', 'status'],
  override: ['type', 'id', 'subscriberId', 'at', 'by', 'capId', 'until', 'reason'],
  tick: ['type', 'id', 'subscriberId', 'at'],
};
const MEGA = 'x'.repeat(1_048_576);
const deep = (n) => {
  let v = { amount: 1 };
  for (let i = 0; i < n; i++) v = { nested: v };
  return v;
};
const BAD_TIMES = [
  '2026-02-30T10:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-11-10T12:00:00',
  '2026-11-10T24:00:00Z',
  '2026-11-10T12:61:00Z',
  '2026-11-10T12:00:00+25:00',
  '2026-11-10T12:00:00+01:60',
  '2026-11-10T12:00:00+0100',
  '2026-11-10 12:00:00Z',
  'yesterday',
  '',
  '1999-12-31T23:59:59Z',
  '0001-01-01T00:00:00Z',
  '2100-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  '2026-11-10T12:00:00.Z',
];
const BAD_NUMBERS = [
  NaN,
  Infinity,
  -Infinity,
  1.5,
  -0.5,
  2 ** 53,
  2 ** 53 + 2,
  1e300,
  -1e300,
  '100',
  null,
  true,
  [],
  {},
];
const WRONG_TYPES = [42, -1, 1.5, NaN, true, false, null, [], [1], {}, { a: 1 }, '', MEGA];
const BAD_COUNTRIES = ['XX', 'ZZ', 'pl', 'POL', 'P', '', 'EU', '__proto__', 42];
const BAD_CURRENCIES = ['ABC', 'EURO', 'eur', '', 'EUR', 'USD', 42, null];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

/** One way to make a valid event invalid: [name, (event, n) => input]. Every one is refused by the schema or the policy. */
const MUTATIONS = [
  [
    'missing key',
    (e, n, t) => {
      const keys = REQUIRED[t];
      delete e[keys[n % keys.length]];
      return e;
    },
  ],
  [
    'wrong type',
    (e, n, t) => {
      const keys = REQUIRED[t];
      const key = keys[n % keys.length];
      const was = valid[t][key]; // the field's own type, whatever an earlier mutation left there
      // A value of another type than the field's (or an empty string, which no required field takes).
      const wrong = WRONG_TYPES.filter(
        (v) => typeof v !== typeof was || (typeof v === 'number' && Number.isNaN(v)) || v === '',
      );
      e[key] = key === 'type' ? 'usagee' : wrong[(n >> 4) % wrong.length];
      return e;
    },
  ],
  [
    'bad money',
    (e, n, t) => {
      const v = BAD_NUMBERS[n % BAD_NUMBERS.length];
      if (t === 'usage') e.cost.amount = v;
      else if ('amount' in e)
        e.amount =
          t === 'adjustment' && typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 53
            ? 0.25
            : v;
      else e.id = MEGA; // no money here: another defect
      if (t === 'payment' && typeof v === 'number' && Number.isSafeInteger(v) && v > 0) e.amount = -v;
      return e;
    },
  ],
  [
    'negative money',
    (e, n, t) => {
      if (t === 'usage') e.cost.amount = -1 - (n % 1000);
      else if (t === 'payment' || t === 'dispute') e.amount = -(n % 1000);
      else if (t === 'adjustment') e.amount = 0;
      else e.at = BAD_TIMES[n % BAD_TIMES.length];
      return e;
    },
  ],
  [
    'bad time',
    (e, n, t) => {
      e.at = BAD_TIMES[n % BAD_TIMES.length];
      return e;
    },
  ],
  [
    'unknown country or currency',
    (e, n, t) => {
      if (t === 'usage') {
        if (n % 2) e.country = BAD_COUNTRIES[(n >> 1) % BAD_COUNTRIES.length];
        else e.cost.currency = BAD_CURRENCIES[(n >> 1) % BAD_CURRENCIES.length];
      } else if (t === 'location') e.country = BAD_COUNTRIES[n % BAD_COUNTRIES.length];
      else if (t === 'payment') e.currency = BAD_CURRENCIES[n % BAD_CURRENCIES.length];
      else e.subscriberId = `other-${n}`; // another subscriber's event on this state
      return e;
    },
  ],
  [
    'prototype key',
    (e, n, t) => {
      const key = PROTO_KEYS[n % PROTO_KEYS.length];
      const payload = n % 2 ? { polluted: 'yes', isAdmin: true } : 'polluted';
      const target = t === 'usage' && n % 3 === 0 ? e.cost : e;
      // An own property named __proto__, as JSON.parse makes it (an assignment would set the prototype).
      Object.defineProperty(target, key, {
        value: payload,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return e;
    },
  ],
  [
    'megabyte string',
    (e, n, t) => {
      const keys = ['id', 'subscriberId', 'at', ...REQUIRED[t].filter((k) => k !== 'type')];
      e[keys[n % keys.length]] = MEGA;
      return e;
    },
  ],
  [
    'deep nesting',
    (e, n, t) => {
      const v = deep(100 + (n % 20_000));
      if (t === 'usage' && n % 2) e.cost = v;
      else e.extra = v;
      return e;
    },
  ],
  [
    'unknown key',
    (e, n, t) => {
      e[`amout${n % 10}`] = 1;
      return e;
    },
  ],
  [
    'unknown service or type',
    (e, n, t) => {
      if (t === 'usage') e.service = ['fax', 'Data', 'data ', '', 'sms2'][n % 5];
      else e.type = ['usagee', 'Tick', '', 'refund', 'constructor'][n % 5];
      return e;
    },
  ],
  [
    'not an object',
    (_e, n, _t) => [null, undefined, 42, 'usage', true, [], [valid.tick], () => 1, Symbol('s')][n % 9],
  ],
  [
    'dispute transition',
    (e, n, t) => {
      // A dispute that cannot happen on this state: rejected, or an unknown status.
      if (t === 'dispute') {
        e.status = n % 2 ? 'rejected' : 'closed';
        e.reference = `NEVER-OPENED-${n}`;
      } else e.id = '';
      return e;
    },
  ],
  [
    'getter that throws',
    (e, n, t) => {
      Object.defineProperty(e, REQUIRED[t][n % REQUIRED[t].length], {
        get() {
          throw new Error('boom');
        },
        enumerable: true,
      });
      return e;
    },
  ],
];

const TYPES = Object.keys(valid);
const eventArb = fc
  .record({
    type: fc.constantFrom(...TYPES),
    mutations: fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat()), { minLength: 1, maxLength: 3 }),
  })
  .map(({ type, mutations }) => {
    let e = structuredClone(valid[type]);
    const names = [];
    for (const [m, n] of mutations) {
      const [name, apply] = MUTATIONS[m];
      names.push(name);
      try {
        e = apply(e, n, type);
      } catch {
        // An earlier mutation removed what this one changes: it is bad already; say so once more.
        e.amoutx = 1;
      }
      // Nothing more to mutate in a non-object; and a getter that throws must stay the last touch.
      if (e === null || typeof e !== 'object' || Array.isArray(e) || name === 'getter that throws') break;
    }
    return { input: e, names };
  });

/** States the bad events are sent to: fresh, and after some valid history (a restriction in force). */
async function startStates() {
  const fresh = engine.init(profile);
  let s = fresh;
  const history = [
    { ...valid.usage, id: 'h1', cost: { amount: 25_000, currency: 'PLN' } },
    { ...valid.dispute, id: 'h2' },
    { ...valid.location, id: 'h3' },
  ];
  for (const e of history) s = (await engine.process(s, e)).state;
  return [fresh, s];
}

const snapshot = (state) => JSON.stringify(state);

async function fuzzEvents() {
  const states = await startStates();
  const before = states.map(snapshot);
  let done = 0;
  for (let batch = 0; done < EVENTS; batch++) {
    const size = Math.min(BATCH, EVENTS - done);
    const inputs = fc.sample(eventArb, { numRuns: size, seed: (SEED + batch * 7919) % 2 ** 31 });
    for (let i = 0; i < inputs.length; i++) {
      const { input, names } = inputs[i];
      const which = (done + i) % states.length;
      const state = states[which];
      let decision;
      try {
        decision = await engine.process(state, input);
      } catch (error) {
        totals.throws++;
        note('throw (event)', { names, error: String(error) });
        continue;
      }
      if (snapshot(state) !== before[which] || decision.state !== state) {
        totals.stateChanges++;
        note('state change', { names });
      }
      const named =
        decision.issues?.length > 0 &&
        decision.issues.every((x) => typeof x.path === 'string' && x.path.startsWith('$'));
      if (decision.outcome !== 'rejected' || decision.actions.length > 0 || !named) {
        totals.acceptedBad++;
        note('accepted bad event', { names, outcome: decision.outcome, issues: decision.issues, input });
      }
    }
    done += inputs.length;
    totals.events = done;
    checkPollution(`events batch ${batch}`);
    if (batch % 50 === 0) console.log(`  events ${done}/${EVENTS}`);
  }
}

// --- Mutated policies --------------------------------------------------------------------------------------
const PAYLOADS = [
  '$..[?(@.constructor.constructor("globalThis.__spendcapFuzzMarker = 1")())]',
  "$[?(@.a=process.mainModule.require('fs').writeFileSync('/tmp/spendcap-fuzz-marker','x'))]",
  '$..*',
];
const strictTargets = (doc) => {
  // Objects whose keys the schema fixes (records such as zones and templates are keyed by data).
  const out = [doc];
  for (const cap of doc.caps ?? []) out.push(cap);
  for (const rule of doc.rules ?? []) {
    out.push(rule, rule.event);
    if (rule.event?.params) out.push(rule.event.params);
    const walk = (c) => {
      if (!c || typeof c !== 'object') return;
      out.push(c);
      for (const k of ['all', 'any']) if (Array.isArray(c[k])) c[k].forEach(walk);
      if (c.not) walk(c.not);
    };
    walk(rule.conditions);
  }
  return out.filter((o) => o && typeof o === 'object' && !Array.isArray(o));
};
const leavesOf = (doc) => strictTargets(doc).filter((o) => 'fact' in o);
const pick = (list, n) => list[n % list.length];

const POLICY_MUTATIONS = [
  [
    'remove a required key',
    (doc, n) => {
      const choices = [
        [doc, 'id'],
        [doc, 'version'],
        [doc, 'currency'],
        [doc, 'services'],
        [doc, 'caps'],
        [doc, 'rules'],
        ...doc.caps.flatMap((c) => [
          [c, 'id'],
          [c, 'limit'],
          [c, 'window'],
        ]),
        ...doc.rules.flatMap((r) => [
          [r, 'name'],
          [r, 'conditions'],
          [r, 'event'],
        ]),
        ...leavesOf(doc).flatMap((l) => [
          [l, 'fact'],
          [l, 'operator'],
        ]),
      ];
      const [o, k] = pick(choices, n);
      delete o[k];
    },
  ],
  [
    'rename a key',
    (doc, n) => {
      const o = pick(strictTargets(doc), n);
      const keys = Object.keys(o);
      const k = pick(keys, n >> 5);
      o[`${k}x`] = o[k];
      delete o[k];
    },
  ],
  [
    'retype a value',
    (doc, n) => {
      const choices = [
        [doc, 'currency'],
        [doc, 'services'],
        [doc, 'zones'],
        [doc, 'caps'],
        [doc, 'rules'],
        [doc, 'id'],
        ...doc.caps.flatMap((c) => [
          [c, 'limit'],
          [c, 'window'],
          [c, 'services'],
          [c, 'id'],
        ]),
        ...doc.rules.flatMap((r) => [
          [r, 'name'],
          [r, 'conditions'],
          [r, 'event'],
          [r, 'priority'],
        ]),
        ...leavesOf(doc).flatMap((l) => [
          [l, 'fact'],
          [l, 'operator'],
        ]),
      ];
      const [o, k] = pick(choices, n);
      const wrong =
        typeof o[k] === 'string'
          ? [42, null, [], {}, true]
          : typeof o[k] === 'number'
            ? ['100', null, [], {}, NaN]
            : o[k] === undefined
              ? ['x', {}, [], true]
              : ['x', 42, null, true];
      o[k] = pick(wrong, n >> 6);
    },
  ],
  [
    'inject path',
    (doc, n) => {
      const leaf = pick(leavesOf(doc), n);
      if (n % 3 === 0) leaf.params = { path: pick(PAYLOADS, n >> 2) };
      else leaf.path = pick(PAYLOADS, n >> 2);
    },
  ],
  [
    'prototype key',
    (doc, n) => {
      const o = pick(strictTargets(doc), n);
      const key = pick(PROTO_KEYS, n >> 4);
      Object.defineProperty(o, key, {
        value: { polluted: 'yes', isAdmin: true },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    },
  ],
  [
    'deep nesting',
    (doc, n) => {
      const rule = pick(doc.rules, n);
      let c = rule.conditions;
      const depth = 9 + (n % 20_000);
      for (let i = 0; i < depth; i++) c = n % 2 ? { all: [c] } : { not: c };
      rule.conditions = c;
    },
  ],
  [
    'huge array',
    (doc, n) => {
      const which = n % 3;
      if (which === 0) doc.services = Array.from({ length: 51 + (n % 100_000) }, (_, i) => `s${i}`);
      else if (which === 1)
        doc.rules = Array.from({ length: 501 + (n % 2_000) }, (_, i) => ({ ...doc.rules[0], name: `r${i}` }));
      else pick(leavesOf(doc), n).value = Array.from({ length: 100_000 }, (_, i) => i);
    },
  ],
  [
    'unknown operator or fact',
    (doc, n) => {
      const leaf = pick(leavesOf(doc), n);
      if (n % 2) leaf.operator = pick(['equals', 'gt', 'regex', 'constructor', ''], n >> 1);
      else leaf.fact = pick(['usageRatoi', 'spend.total', '__proto__', 'toString', ''], n >> 1);
    },
  ],
];

const policyArb = fc
  .record({
    base: fc.nat(shipped.length - 1),
    // One mutation each: a second could undo the first (a key removed, then given a valid value again).
    mutations: fc.array(fc.tuple(fc.nat(POLICY_MUTATIONS.length - 1), fc.nat()), {
      minLength: 1,
      maxLength: 1,
    }),
  })
  .map(({ base, mutations }) => ({ base, mutations }));

function fuzzPolicies() {
  let done = 0;
  for (let batch = 0; done < POLICIES; batch++) {
    const size = Math.min(BATCH, POLICIES - done);
    const plans = fc.sample(policyArb, { numRuns: size, seed: (SEED + 104_729 + batch * 7919) % 2 ** 31 });
    for (const { base, mutations } of plans) {
      const doc = structuredClone(shipped[base]);
      const names = [];
      for (const [m, n] of mutations) {
        const [name, apply] = POLICY_MUTATIONS[m];
        names.push(name);
        try {
          apply(doc, n);
        } catch {
          // A mutation that found nothing to change (an earlier one removed it): the next one applies.
        }
      }
      let report;
      try {
        report = checkPolicy(doc);
      } catch (error) {
        totals.throws++;
        note('throw (policy)', { names, error: String(error) });
        continue;
      }
      const errors = report.issues.filter((i) => i.severity === 'error');
      if (
        report.ok ||
        errors.length === 0 ||
        !errors.every((i) => typeof i.path === 'string' && i.path.startsWith('$'))
      ) {
        totals.acceptedBad++;
        note('accepted bad policy', { names, issues: report.issues.slice(0, 3) });
      }
    }
    done += plans.length;
    totals.policies = done;
    checkPollution(`policies batch ${batch}`);
    if (globalThis.__spendcapFuzzMarker !== undefined) {
      totals.pollution++;
      note('code ran', { marker: 'globalThis.__spendcapFuzzMarker' });
      delete globalThis.__spendcapFuzzMarker;
    }
    if (batch % 10 === 0) console.log(`  policies ${done}/${POLICIES}`);
  }
}

const t0 = performance.now();
await fuzzEvents();
fuzzPolicies();
checkPollution('end');
const seconds = (performance.now() - t0) / 1000;
console.log(`done in ${seconds.toFixed(1)} s`);
for (const e of examples) console.log(`  ${e.kind}: ${e.detail}`);
console.log(JSON.stringify(totals));
process.exitCode = totals.throws + totals.stateChanges + totals.acceptedBad + totals.pollution > 0 ? 1 : 0;
