import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkPolicy,
  loadPolicy,
  FACTS,
  OPERATORS,
  POLICY_LIMITS,
  PolicyError,
  SpendcapError,
  type Issue,
  type IssueCode,
} from '../../src/index';
import shipped from '../../rules/graduated-postpaid.json';
import { parsePath } from '../support/paths';

// A policy under edit: tests reach into arbitrary paths of the JSON, so it is typed as loosely as JSON is.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Draft = any;

const SHIPPED_TEXT = readFileSync(new URL('../../rules/graduated-postpaid.json', import.meta.url), 'utf8');

/** A fresh, deep copy of the shipped policy to edit. */
function policy(): Draft {
  return structuredClone(shipped);
}

/** The shipped policy after `edit`. */
function edited(edit: (doc: Draft) => void): Draft {
  const doc = policy();
  edit(doc);
  return doc;
}

const LEAF = { fact: 'usageRatio', operator: 'greaterThanInclusive', value: 1 } as const;

/** `depth` levels of `all` around one leaf: `{ all: [{ all: [leaf] }] }` is depth 2. */
function nested(depth: number, kind: 'all' | 'any' | 'not' | 'mixed' = 'all'): Draft {
  let condition: Draft = { ...LEAF };
  for (let i = 0; i < depth; i++) {
    const k = kind === 'mixed' ? (['all', 'any', 'not'] as const)[i % 3]! : kind;
    condition = k === 'not' ? { not: condition } : { [k]: [condition] };
  }
  return condition;
}

function errorsOf(issues: readonly Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error');
}

/** Checks `doc` and expects it to fail with exactly these errors (code and path), in any order. */
function expectErrors(doc: unknown, expected: Array<[IssueCode, string]>): Issue[] {
  let report: ReturnType<typeof checkPolicy> | undefined;
  expect(() => {
    report = checkPolicy(doc);
  }).not.toThrow();
  const errors = errorsOf(report!.issues);
  const key = ([code, path]: [string, string]) => `${path} ${code}`;
  expect(
    errors.map((i): [string, string] => [i.code, i.path]).sort((a, b) => key(a).localeCompare(key(b))),
  ).toEqual([...expected].sort((a, b) => key(a).localeCompare(key(b))));
  expect(report!.ok).toBe(false);
  expect(report!.policy).toBeUndefined();
  return errors;
}

/** Expects exactly one error, with this code and path, whose message contains every fragment. */
function expectError(doc: unknown, code: IssueCode, path: string, ...fragments: string[]): Issue {
  const [found] = expectErrors(doc, [[code, path]]);
  for (const fragment of fragments) expect(found!.message).toContain(fragment);
  return found!;
}

/** Expects the document to load with no error (warnings allowed). */
function expectLoads(doc: unknown): Issue[] {
  const report = checkPolicy(doc);
  expect(errorsOf(report.issues)).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.policy).toBeDefined();
  return [...report.issues];
}

/** Whether `segments` lead to an own property (or array element) of `root`. */
function exists(root: unknown, segments: ReadonlyArray<string | number>): boolean {
  let node = root;
  for (const key of segments) {
    if (node === null || typeof node !== 'object') return false;
    if (!Object.prototype.hasOwnProperty.call(node, key)) return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return true;
}

const ISSUE_CODES = {
  invalid_type: true,
  invalid_value: true,
  invalid_format: true,
  too_small: true,
  too_big: true,
  unknown_key: true,
  forbidden_key: true,
  missing_key: true,
  duplicate_name: true,
  unknown_fact: true,
  unknown_operator: true,
  unknown_cap: true,
  unknown_service: true,
  unknown_zone: true,
  unknown_template: true,
  unknown_placeholder: true,
  unknown_action_kind: true,
  missing_translation: true,
  scope_outside_cap: true,
  capless_action: true,
  capless_fact: true,
  type_mismatch: true,
  overlapping_zones: true,
  limit_exceeded: true,
  unused: true,
  currency_mismatch: true,
  subscriber_mismatch: true,
  invalid_state: true,
  too_old: true,
  invalid_transition: true,
  not_counted: true,
  late_event: true,
  never_fires: true,
  no_way_out: true,
  untold_restriction: true,
  home_restricted: true,
  block_before_warning: true,
  conflicting_restrictions: true,
  not_analysed: true,
} satisfies Record<IssueCode, true>;

/** Every issue is `{ code, path, message, severity }` with a code of the closed union and a `$` path. */
function expectWellFormed(issues: readonly Issue[], doc?: unknown): void {
  for (const issue of issues) {
    expect(Object.keys(issue).sort()).toEqual(['code', 'message', 'path', 'severity']);
    expect(Object.keys(ISSUE_CODES)).toContain(issue.code);
    expect(issue.path.startsWith('$')).toBe(true);
    const segments = parsePath(issue.path);
    expect(segments, `malformed path ${issue.path}`).toBeDefined();
    // The path points into the document: at least its parent exists (the key itself may be the one missing).
    if (doc !== undefined && typeof doc === 'object') {
      expect(exists(doc, segments!.slice(0, -1)), `${issue.path} points outside the document`).toBe(true);
    }
    expect(typeof issue.message).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
    // Raw zod phrases and stringified objects are not messages an analyst can act on.
    expect(issue.message).not.toMatch(/Invalid input|\[object Object\]|function Object\(\)/);
    expect(['error', 'warning']).toContain(issue.severity);
  }
}

describe('the shipped policy', () => {
  it('checks with zero errors and zero warnings', () => {
    const report = checkPolicy(policy());
    expect(report.issues).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.policy?.id).toBe('graduated-postpaid');
    expect(report.policy?.warnings).toEqual([]);
  });

  it('loads with loadPolicy: caps, scopes and rules as written', () => {
    const loaded = loadPolicy(policy());
    expect(loaded.id).toBe('graduated-postpaid');
    expect(loaded.version).toBe('2026-11-01');
    expect(loaded.currency).toBe('PLN');
    expect(loaded.locale).toBe('pl-PL');
    expect(loaded.services).toEqual(['data', 'voice', 'sms', 'mms']);
    expect(loaded.zoneNames).toEqual(['home', 'eu', 'world']);
    expect(loaded.otherZone).toBe('world');
    expect(loaded.warnings).toEqual([]);
    expect(loaded.caps.map((cap) => cap.id)).toEqual(['roaming-data', 'bill']);

    const roamingData = loaded.capById.get('roaming-data')!;
    expect(roamingData.measure).toBe('cost');
    expect(roamingData.limit).toBe(20000);
    expect(roamingData.scope).toEqual([
      { service: 'data', zone: 'eu' },
      { service: 'data', zone: 'world' },
    ]);
    expect(roamingData.rules.map((rule) => rule.name)).toEqual([
      'roaming-data-warn-80',
      'roaming-data-offer-100',
      'roaming-data-block-100',
      'roaming-data-care-100',
    ]);
    expect(roamingData.rules.find((r) => r.name === 'roaming-data-block-100')?.scope).toEqual(
      roamingData.scope,
    );

    const bill = loaded.capById.get('bill')!;
    expect(bill.scope).toHaveLength(4 * 3);
    // The whole-bill block pauses roaming data only: home is never in it.
    expect(bill.rules.find((r) => r.name === 'bill-block-roaming-data-100')?.scope).toEqual([
      { service: 'data', zone: 'eu' },
      { service: 'data', zone: 'world' },
    ]);
    expect(loaded.caplessRules.map((rule) => rule.name)).toEqual(['welcome-roaming']);
  });

  it('checks and loads from its JSON text as well as from parsed JSON', () => {
    const fromText = checkPolicy(SHIPPED_TEXT);
    expect(fromText.issues).toEqual([]);
    expect(fromText.ok).toBe(true);
    expect(fromText.policy?.document).toEqual(checkPolicy(JSON.parse(SHIPPED_TEXT)).policy?.document);
    expect(loadPolicy(SHIPPED_TEXT).id).toBe('graduated-postpaid');
    expect(loadPolicy(JSON.stringify(policy())).caps.map((c) => c.id)).toEqual(['roaming-data', 'bill']);
  });

  it('neither changes its input nor keeps a reference to it', () => {
    const doc = policy();
    const loaded = loadPolicy(doc);
    expect(doc).toEqual(shipped);
    doc.caps[0].limit = 1;
    doc.rules[1].conditions.all[0].value = 0.1;
    expect(loaded.capById.get('roaming-data')?.limit).toBe(20000);
    expect(loaded.document.caps[0]?.limit).toBe(20000);
  });
});

describe('documents that are not a JSON object', () => {
  it.each([['{ "id": '], [''], ['{"id": "x",}'], ["{'id': 'x'}"], ['not json']])(
    'text %j is invalid_format at $',
    (text) => {
      const [found] = expectErrors(text, [['invalid_format', '$']]);
      expect(found!.message).toContain('not JSON');
      expect(() => loadPolicy(text)).toThrow(PolicyError);
    },
  );

  it.each([['[]'], ['42'], ['null'], ['"a string"']])('text %s is invalid_type at $', (text) => {
    expectError(text, 'invalid_type', '$', 'object');
  });

  it.each([[null], [undefined], [42], [[]], [true]])('value %j is invalid_type at $', (value) => {
    expectError(value, 'invalid_type', '$', 'object');
  });
});

describe('unknown keys are refused, not stripped, with a did-you-mean', () => {
  it.each<[string, (doc: Draft) => void, string, string]>([
    ['at the top level', (d) => (d.curency = 'PLN'), '$.curency', 'currency'],
    ['in a cap', (d) => (d.caps[0].lable = 'x'), '$.caps[0].lable', 'label'],
    ['in a rule', (d) => (d.rules[1].prioritty = 3), '$.rules[1].prioritty', 'priority'],
    [
      'in a condition',
      (d) => (d.rules[1].conditions.all[0].opertor = 'equal'),
      '$.rules[1].conditions.all[0].opertor',
      'operator',
    ],
    ['in a rule event', (d) => (d.rules[1].event.parms = {}), '$.rules[1].event.parms', 'params'],
    [
      'in event params',
      (d) => (d.rules[1].event.params.templat = 'x'),
      '$.rules[1].event.params.templat',
      'template',
    ],
    [
      'in a block scope',
      (d) => (d.rules[7].event.params.scope.zone = 'eu'),
      '$.rules[7].event.params.scope.zone',
      'zones',
    ],
    ['in notices', (d) => (d.notices.restrictd = 'x'), '$.notices.restrictd', 'restricted'],
    [
      'in a condition group',
      (d) => (d.rules[2].conditions = { alll: [{ ...LEAF }] }),
      '$.rules[2].conditions.alll',
      'all',
    ],
  ])('%s', (_, edit, path, suggestion) => {
    const key = path.slice(path.lastIndexOf('.') + 1);
    const found = expectError(edited(edit), 'unknown_key', path, `'${key}'`, `did you mean '${suggestion}'?`);
    expect(found.severity).toBe('error');
  });

  it('refuses "prioritty" in a rule, suggesting \'priority\', and loadPolicy throws', () => {
    const doc = edited((d) => (d.rules[3].prioritty = 8));
    expectError(
      doc,
      'unknown_key',
      '$.rules[3].prioritty',
      "unknown key 'prioritty'; did you mean 'priority'?",
    );
    expect(() => loadPolicy(doc)).toThrow(PolicyError);
  });

  it('suggests only keys that are valid where the unknown key stands', () => {
    // A cap has no 'priority': suggesting it sends the analyst to a second error.
    const [inCap] = expectErrors(
      edited((d) => (d.caps[0].prioritty = 1)),
      [['unknown_key', '$.caps[0].prioritty']],
    );
    expect(inCap!.message).not.toContain("'priority'");
    const [inParams] = expectErrors(
      edited((d) => (d.rules[2].event.params.x = 1)),
      [['unknown_key', '$.rules[2].event.params.x']],
    );
    expect(inParams!.message).not.toContain('did you mean');
  });

  it('does not suggest a key as its own correction (notify params left on a block)', () => {
    const errors = expectErrors(
      edited((d) => (d.rules[1].event.type = 'block')),
      [
        ['unknown_key', '$.rules[1].event.params.template'],
        ['unknown_key', '$.rules[1].event.params.channels'],
        ['unknown_key', '$.rules[1].event.params.paymentLink'],
        ['unknown_key', '$.rules[1].event.params.threshold'],
      ],
    );
    for (const error of errors) {
      const key = error.path.slice(error.path.lastIndexOf('.') + 1);
      expect(error.message).not.toContain(`did you mean '${key}'`);
    }
  });
});

describe('path, fact params and prototype keys are refused', () => {
  it("refuses 'path' in a condition: forbidden_key, naming JSONPath", () => {
    expectError(
      edited((d) => (d.rules[1].conditions.all[0].path = '$.spend')),
      'forbidden_key',
      '$.rules[1].conditions.all[0].path',
      "'path'",
      'JSONPath',
    );
  });

  it("refuses fact 'params' in a condition", () => {
    expectError(
      edited((d) => (d.rules[1].conditions.all[0].params = { capId: 'bill' })),
      'forbidden_key',
      '$.rules[1].conditions.all[0].params',
      "'params'",
      'scalar',
    );
  });

  it("refuses 'path' beside a fact reference in a value", () => {
    expectError(
      edited((d) => (d.rules[1].conditions.all[0].value = { fact: 'limit', path: '$..x' })),
      'forbidden_key',
      '$.rules[1].conditions.all[0].value.path',
      'JSONPath',
    );
  });

  it('refuses a shared condition reference', () => {
    expectError(
      edited((d) => (d.rules[1].conditions.all[0] = { condition: 'over-limit' })),
      'forbidden_key',
      '$.rules[1].conditions.all[0].condition',
    );
  });

  it.each<[string, string, string]>([
    ['at the top level', '"id":"graduated-postpaid"', '$.__proto__'],
    ['in a cap', '"id":"roaming-data"', '$.caps[0].__proto__'],
    ['in a condition', '"fact":"optedIn"', '$.rules[3].conditions.all[1].__proto__'],
  ])('refuses an own __proto__ key %s without polluting Object.prototype', (_, anchor, path) => {
    const text = JSON.stringify(policy()).replace(anchor, `"__proto__":{"polluted":true},${anchor}`);
    const doc = JSON.parse(text) as Draft;
    // JSON.parse makes __proto__ an own key, which the check must see (structuredClone or `=` would not).
    expect(JSON.stringify(doc)).toContain('"__proto__":{"polluted":true}');
    expectError(doc, 'forbidden_key', path, "'__proto__'", 'prototype keys are refused');
    expectError(text, 'forbidden_key', path, "'__proto__'", 'prototype keys are refused');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([['constructor'], ['prototype']])('refuses a %s key', (key) => {
    expectError(
      edited((d) => (d.rules[1].conditions.all[0][key] = { prototype: { polluted: true } })),
      'forbidden_key',
      `$.rules[1].conditions.all[0].${key}`,
      `'${key}'`,
      'prototype keys are refused',
    );
  });
});

describe('operators', () => {
  it('are exactly the ten of the specification', () => {
    expect([...OPERATORS].sort()).toEqual(
      [
        'equal',
        'notEqual',
        'lessThan',
        'lessThanInclusive',
        'greaterThan',
        'greaterThanInclusive',
        'in',
        'notIn',
        'contains',
        'doesNotContain',
      ].sort(),
    );
  });

  it.each(OPERATORS.map((op) => [op]))('%s loads', (operator) => {
    const condition = ['in', 'notIn'].includes(operator)
      ? { fact: 'zone', operator, value: ['eu', 'world'] }
      : ['equal', 'notEqual', 'contains', 'doesNotContain'].includes(operator)
        ? { fact: 'zone', operator, value: 'eu' }
        : { fact: 'usageRatio', operator, value: 0.5 };
    expectLoads(edited((d) => (d.rules[1].conditions.all[0] = condition)));
  });

  it("refuses 'greaterThenInclusive', suggesting 'greaterThanInclusive'", () => {
    expectError(
      edited((d) => (d.rules[2].conditions.all[0].operator = 'greaterThenInclusive')),
      'unknown_operator',
      '$.rules[2].conditions.all[0].operator',
      'greaterThenInclusive',
      "did you mean 'greaterThanInclusive'?",
    );
  });

  it.each([
    ['not:equal'],
    ['everyFact:equal'],
    ['someValue:in'],
    ['not:greaterThan'],
    ['startsWith'],
    ['EQUAL '],
  ])('refuses the decorated or custom operator %j', (operator) => {
    expectError(
      edited((d) => (d.rules[2].conditions.all[0].operator = operator)),
      'unknown_operator',
      '$.rules[2].conditions.all[0].operator',
      operator,
    );
  });

  it('refuses an unknown operator deep inside all/any/not, at its own path', () => {
    const doc = edited(
      (d) =>
        (d.rules[2].conditions = {
          any: [{ ...LEAF }, { not: { all: [{ ...LEAF }, { ...LEAF, operator: 'gte' }] } }],
        }),
    );
    expectError(doc, 'unknown_operator', '$.rules[2].conditions.any[1].not.all[1].operator', 'gte');
  });
});

describe('facts', () => {
  const SPEC_FACTS = [
    'spend',
    'paid',
    'outstanding',
    'limit',
    'usageRatio',
    'remaining',
    'zone',
    'country',
    'roaming',
    'previousZone',
    'zoneChanged',
    'eventType',
    'eventService',
    'eventZone',
    'optedIn',
    'agentOverride',
    'tenureMonths',
    'segment',
    'daysLeftInWindow',
    'openDisputes',
    'disputedAmount',
    'oldestOpenDisputeDays',
  ];
  const SAMPLE: Record<string, unknown> = {
    zone: 'eu',
    country: 'DE',
    previousZone: 'home',
    eventType: 'usage',
    eventService: 'data',
    eventZone: 'world',
    segment: 'gold',
  };

  it('are exactly those of the specification', () => {
    expect(Object.keys(FACTS).sort()).toEqual([...SPEC_FACTS].sort());
  });

  it.each(SPEC_FACTS.map((f) => [f]))('%s may be used by a rule with a cap', (fact) => {
    const type = FACTS[fact as keyof typeof FACTS].type;
    const value = type === 'number' ? 1 : type === 'boolean' ? true : SAMPLE[fact];
    expectLoads(edited((d) => (d.rules[1].conditions.all[0] = { fact, operator: 'equal', value })));
  });

  it("refuses 'usageRatoi', suggesting 'usageRatio'", () => {
    expectError(
      edited((d) => (d.rules[2].conditions.all[0].fact = 'usageRatoi')),
      'unknown_fact',
      '$.rules[2].conditions.all[0].fact',
      'usageRatoi',
      "did you mean 'usageRatio'?",
    );
  });

  it('words the message as STYLE.md shows it', () => {
    const [found] = expectErrors(
      edited((d) => (d.rules[2].conditions.all[0].fact = 'usageRatoi')),
      [['unknown_fact', '$.rules[2].conditions.all[0].fact']],
    );
    expect(found!.message).toContain("unknown fact 'usageRatoi'; did you mean 'usageRatio'?");
  });

  it('refuses an unknown fact inside value: { fact }', () => {
    expectError(
      edited((d) => (d.rules[2].conditions.all[0].value = { fact: 'usageRatoi' })),
      'unknown_fact',
      '$.rules[2].conditions.all[0].value.fact',
      'usageRatoi',
      "did you mean 'usageRatio'?",
    );
  });

  it('suggests the key of a misspelt value: { fakt }', () => {
    const errors = expectErrors(
      edited((d) => (d.rules[2].conditions.all[0].value = { fakt: 'limit' })),
      [['unknown_key', '$.rules[2].conditions.all[0].value.fakt']],
    );
    expect(errors[0]!.message).toContain("did you mean 'fact'?");
  });

  it("names a condition's missing value plainly", () => {
    const [found] = expectErrors(
      edited((d) => delete d.rules[0].conditions.all[0].value),
      [['missing_key', '$.rules[0].conditions.all[0].value']],
    );
    expect(found!.message).toContain("'value'");
    expect(found!.message).not.toContain('Invalid input');
  });

  it('accepts value: { fact } for a fact of the same type', () => {
    expectLoads(
      edited(
        (d) =>
          (d.rules[2].conditions.all[0] = {
            fact: 'spend',
            operator: 'greaterThan',
            value: { fact: 'limit' },
          }),
      ),
    );
  });
});

describe('names and references', () => {
  it('refuses duplicate rule names, pointing at the second', () => {
    expectError(
      edited((d) => (d.rules[2].name = d.rules[1].name)),
      'duplicate_name',
      '$.rules[2].name',
      "'roaming-data-warn-80'",
      'rules[1]',
    );
  });

  it('refuses duplicate cap ids, pointing at the second', () => {
    expectError(
      edited((d) => d.caps.push({ ...d.caps[0], label: 'again' })),
      'duplicate_name',
      '$.caps[2].id',
      "'roaming-data'",
    );
  });

  it('refuses an unknown cap on a rule, suggesting the closest', () => {
    expectError(
      edited((d) => (d.rules[2].cap = 'roaming-dat')),
      'unknown_cap',
      '$.rules[2].cap',
      "'roaming-dat'",
      "did you mean 'roaming-data'?",
    );
  });

  it.each<[string, (d: Draft) => void, IssueCode, string, string]>([
    [
      'service in a cap',
      (d) => (d.caps[0].services = ['dat']),
      'unknown_service',
      '$.caps[0].services[0]',
      'data',
    ],
    ['zone in a cap', (d) => (d.caps[0].zones = ['ue']), 'unknown_zone', '$.caps[0].zones[0]', 'eu'],
    [
      'service in a block scope',
      (d) => (d.rules[7].event.params.scope.services = ['dta']),
      'unknown_service',
      '$.rules[7].event.params.scope.services[0]',
      'data',
    ],
    [
      'zone in a block scope',
      (d) => (d.rules[7].event.params.scope.zones = ['eu', 'wrld']),
      'unknown_zone',
      '$.rules[7].event.params.scope.zones[1]',
      'world',
    ],
    [
      'service in a throttle scope',
      (d) =>
        (d.rules[3].event = {
          type: 'throttle',
          params: { kbps: 64, scope: { services: ['dat'], zones: 'roaming' } },
        }),
      'unknown_service',
      '$.rules[3].event.params.scope.services[0]',
      'data',
    ],
    [
      'zone in a condition value',
      (d) => (d.rules[0].conditions.all[1] = { fact: 'zone', operator: 'equal', value: 'ue' }),
      'unknown_zone',
      '$.rules[0].conditions.all[1].value',
      'eu',
    ],
  ])('refuses an unknown %s', (_, edit, code, path, suggestion) => {
    expectError(edited(edit), code, path, `did you mean '${suggestion}'?`);
  });

  it.each<[string, (d: Draft) => void, string, string]>([
    [
      'a notify rule',
      (d) => (d.rules[1].event.params.template = 'near-limt'),
      '$.rules[1].event.params.template',
      'near-limit',
    ],
    [
      'a careNote rule',
      (d) => (d.rules[4].event.params.template = 'restricteed'),
      '$.rules[4].event.params.template',
      'restricted',
    ],
    ['notices', (d) => (d.notices.lifted = 'lifed'), '$.notices.lifted', 'lifted'],
  ])('refuses an unknown template in %s', (_, edit, path, suggestion) => {
    expectError(edited(edit), 'unknown_template', path, `did you mean '${suggestion}'?`);
  });

  it("refuses an unknown action kind 'blok', suggesting 'block'", () => {
    expectError(
      edited((d) => (d.rules[3].event.type = 'blok')),
      'unknown_action_kind',
      '$.rules[3].event.type',
      'blok',
      "did you mean 'block'?",
    );
  });

  it('refuses a rule event without a type, at event.type', () => {
    expectError(
      edited((d) => delete d.rules[3].event.type),
      'missing_key',
      '$.rules[3].event.type',
      'notify, block, throttle, offerPayment, careNote',
    );
  });
});

describe('event params per action kind', () => {
  it('throttle needs kbps', () => {
    expectError(
      edited((d) => (d.rules[3].event = { type: 'throttle', params: {} })),
      'missing_key',
      '$.rules[3].event.params.kbps',
      "'kbps'",
    );
    expectError(
      edited((d) => (d.rules[3].event = { type: 'throttle' })),
      'missing_key',
      '$.rules[3].event.params',
    );
  });

  it('throttle with kbps loads, on the cap scope by default', () => {
    const doc = edited((d) => (d.rules[3].event = { type: 'throttle', params: { kbps: 128 } }));
    const loaded = loadPolicy(doc);
    const rule = loaded.capById.get('roaming-data')!.rules.find((r) => r.name === 'roaming-data-block-100')!;
    expect(rule.event).toEqual({ type: 'throttle', params: { kbps: 128 } });
    expect(rule.scope).toEqual(loaded.capById.get('roaming-data')!.scope);
  });

  it.each([[0.5], ['128'], [0], [-64]])('throttle refuses kbps %j', (kbps) => {
    const [found] = expectErrors(
      edited((d) => (d.rules[3].event = { type: 'throttle', params: { kbps } })),
      [
        [
          typeof kbps === 'string' || !Number.isInteger(kbps) ? 'invalid_type' : 'too_small',
          '$.rules[3].event.params.kbps',
        ],
      ],
    );
    expect(found!.message).toContain(String(kbps));
  });

  it('offerPayment refuses a fractional amount', () => {
    const doc = edited((d) => (d.rules[2].event.params.amount = 12.5));
    const report = checkPolicy(doc);
    expect(report.ok).toBe(false);
    const errors = errorsOf(report.issues);
    expect(errors.map((i) => i.path)).toEqual(['$.rules[2].event.params.amount']);
    expect(['invalid_type', 'invalid_value']).toContain(errors[0]!.code);
    expect(errors[0]!.message).toContain('12.5');
    expect(errors[0]!.message).toContain('outstanding');
  });

  it.each([[0], [-5]])('offerPayment refuses the amount %j', (amount) => {
    expectError(
      edited((d) => (d.rules[2].event.params.amount = amount)),
      'invalid_value',
      '$.rules[2].event.params.amount',
      String(amount),
      '> 0',
    );
  });

  it("offerPayment suggests 'outstanding' for a misspelling", () => {
    const report = checkPolicy(edited((d) => (d.rules[2].event.params.amount = 'outstandin')));
    expect(errorsOf(report.issues).map((i) => i.path)).toEqual(['$.rules[2].event.params.amount']);
    expect(report.issues[0]!.message).toContain("did you mean 'outstanding'?");
  });

  it('offerPayment takes integer minor units', () => {
    expectLoads(edited((d) => (d.rules[2].event.params.amount = 5000)));
  });

  it('notify needs a template', () => {
    expectError(
      edited((d) => delete d.rules[1].event.params.template),
      'missing_key',
      '$.rules[1].event.params.template',
      "'template'",
    );
    expectError(
      edited((d) => delete d.rules[1].event.params),
      'missing_key',
      '$.rules[1].event.params',
    );
  });

  it('notify refuses an unknown channel', () => {
    expectError(
      edited((d) => (d.rules[1].event.params.channels = ['sms', 'fax'])),
      'invalid_value',
      '$.rules[1].event.params.channels[1]',
      'fax',
      'sms, email, push',
    );
  });

  it('notify with paymentLink: true needs the policy paymentLink', () => {
    const errors = expectErrors(
      edited((d) => delete d.paymentLink),
      [
        ['missing_key', '$.rules[1].event.params.paymentLink'],
        ['missing_key', '$.rules[5].event.params.paymentLink'],
      ],
    );
    for (const error of errors) expect(error.message).toContain("'paymentLink'");
  });

  it('careNote needs a queue', () => {
    expectError(
      edited((d) => (d.rules[4].event.params = {})),
      'missing_key',
      '$.rules[4].event.params.queue',
      "'queue'",
    );
  });
});

describe('scopes and capless rules', () => {
  it.each<[string, Draft, string[]]>([
    [
      'a block on voice',
      { type: 'block', params: { scope: { services: ['voice'], zones: 'roaming' } } },
      ["service 'voice'"],
    ],
    [
      'a block at home',
      { type: 'block', params: { scope: { services: ['data'], zones: ['home'] } } },
      ["zone 'home'"],
    ],
    [
      'a throttle everywhere',
      { type: 'throttle', params: { kbps: 64, scope: { services: '*', zones: '*' } } },
      ["service 'voice'", "service 'sms'", "service 'mms'", "zone 'home'"],
    ],
  ])('refuses %s under the roaming-data cap with scope_outside_cap', (_, event, fragments) => {
    expectError(
      edited((d) => (d.rules[3].event = event)),
      'scope_outside_cap',
      '$.rules[3].event.params.scope',
      "'roaming-data'",
      ...fragments,
    );
  });

  it("accepts a narrower scope inside the cap's", () => {
    const doc = edited(
      (d) =>
        (d.rules[3].event = { type: 'block', params: { scope: { services: ['data'], zones: ['world'] } } }),
    );
    const rule = loadPolicy(doc)
      .capById.get('roaming-data')!
      .rules.find((r) => r.name === 'roaming-data-block-100')!;
    expect(rule.scope).toEqual([{ service: 'data', zone: 'world' }]);
  });

  it.each<[string, Draft]>([
    ['block', { type: 'block' }],
    ['throttle', { type: 'throttle', params: { kbps: 64 } }],
    ['offerPayment', { type: 'offerPayment', params: { amount: 'outstanding' } }],
  ])('refuses a capless rule that would %s', (kind, event) => {
    expectError(
      edited((d) => (d.rules[0].event = event)),
      'capless_action',
      '$.rules[0].event.type',
      `'${kind}'`,
      'cap',
    );
  });

  it('accepts a capless careNote', () => {
    expectLoads(
      edited(
        (d) => (d.rules[0].event = { type: 'careNote', params: { queue: 'welcome', template: 'welcome' } }),
      ),
    );
  });

  it.each(
    [
      'spend',
      'paid',
      'outstanding',
      'limit',
      'usageRatio',
      'remaining',
      'optedIn',
      'agentOverride',
      'daysLeftInWindow',
    ].map((f) => [f]),
  )('refuses the cap fact %s in a capless rule, as a fact and as a compared fact', (fact) => {
    const type = FACTS[fact as keyof typeof FACTS].type;
    expectError(
      edited(
        (d) =>
          (d.rules[0].conditions.all[0] = { fact, operator: 'equal', value: type === 'number' ? 1 : true }),
      ),
      'capless_fact',
      '$.rules[0].conditions.all[0].fact',
      `'${fact}'`,
    );
    if (type === 'number') {
      expectError(
        edited(
          (d) =>
            (d.rules[0].conditions.all[0] = {
              fact: 'openDisputes',
              operator: 'greaterThan',
              value: { fact },
            }),
        ),
        'capless_fact',
        '$.rules[0].conditions.all[0].value.fact',
        `'${fact}'`,
      );
    }
  });

  it('accepts subscriber facts in a capless rule', () => {
    expectLoads(
      edited((d) =>
        d.rules[0].conditions.all.push(
          { fact: 'tenureMonths', operator: 'greaterThan', value: 12 },
          { fact: 'oldestOpenDisputeDays', operator: 'lessThan', value: 30 },
          { fact: 'segment', operator: 'in', value: ['gold', null] },
        ),
      ),
    );
  });
});

describe('templates', () => {
  it("refuses a template with no text for the policy locale 'pl-PL', 'pl' or 'en'", () => {
    expectError(
      edited((d) => (d.templates.welcome = { de: 'Willkommen in {zone}.' })),
      'missing_translation',
      '$.templates.welcome',
      "'welcome'",
      'pl-PL',
    );
  });

  it.each([['pl-PL'], ['pl'], ['en']])('accepts a template with only %s under the pl-PL policy', (locale) => {
    const issues = expectLoads(edited((d) => (d.templates.welcome = { [locale]: 'Welcome to {zone}.' })));
    expect(issues).toEqual([]);
  });

  it("follows the policy's own locale: 'de' suffices for a de-DE policy", () => {
    expectLoads(
      edited((d) => {
        d.locale = 'de-DE';
        for (const key of Object.keys(d.templates)) d.templates[key] = { de: 'Text {scope}.' };
      }),
    );
  });

  it.each<[string, (d: Draft) => void, string, string, string]>([
    [
      '{zoen}',
      (d) => (d.templates.welcome.en = 'Welcome to {zoen}.'),
      '$.templates.welcome.en',
      'zoen',
      'zone',
    ],
    [
      '{capLable}',
      (d) => (d.templates['near-limit'].pl = 'Limit {capLable}: {spend}'),
      '$.templates["near-limit"].pl',
      'capLable',
      'capLabel',
    ],
    [
      '{subscriberid} in the payment link',
      (d) => (d.paymentLink = 'https://pay.example.com/?sub={subscriberid}'),
      '$.paymentLink',
      'subscriberid',
      'subscriberId',
    ],
  ])('refuses the unknown placeholder %s, suggesting the closest', (_, edit, path, name, suggestion) => {
    expectError(edited(edit), 'unknown_placeholder', path, `'{${name}}'`, `did you mean '${suggestion}'?`);
  });

  it('accepts every placeholder of the specification', () => {
    const all = [
      'percent',
      'spend',
      'limit',
      'remaining',
      'capLabel',
      'service',
      'zone',
      'scope',
      'reason',
      'paymentLink',
      'amount',
      'subscriberId',
    ];
    expectLoads(edited((d) => (d.templates.welcome.en = all.map((p) => `{${p}}`).join(' '))));
  });
});

describe('condition types', () => {
  it('refuses usageRatio compared with a string', () => {
    expectError(
      edited((d) => (d.rules[2].conditions.all[0].value = '1')),
      'type_mismatch',
      '$.rules[2].conditions.all[0].value',
      "'usageRatio'",
      'number',
      'string',
    );
    expectError(
      edited(
        (d) => (d.rules[2].conditions.all[0] = { fact: 'usageRatio', operator: 'equal', value: 'high' }),
      ),
      'type_mismatch',
      '$.rules[2].conditions.all[0].value',
      "'usageRatio'",
    );
  });

  it('refuses a boolean fact compared with a string', () => {
    expectError(
      edited((d) => (d.rules[3].conditions.all[1].value = 'false')),
      'type_mismatch',
      '$.rules[3].conditions.all[1].value',
      "'optedIn'",
      'boolean',
    );
  });

  it('refuses a number fact compared with a string fact', () => {
    expectError(
      edited((d) => (d.rules[2].conditions.all[0].value = { fact: 'segment' })),
      'type_mismatch',
      '$.rules[2].conditions.all[0].value',
    );
  });

  it.each([['in'], ['notIn']])('refuses %s without a list', (operator) => {
    expectError(
      edited((d) => (d.rules[0].conditions.all[1] = { fact: 'zone', operator, value: 'eu' })),
      'type_mismatch',
      '$.rules[0].conditions.all[1].value',
      `'${operator}'`,
      'list',
    );
  });

  it('refuses a list item of the wrong type', () => {
    expectError(
      edited((d) => (d.rules[0].conditions.all[1] = { fact: 'zone', operator: 'in', value: ['eu', 1] })),
      'type_mismatch',
      '$.rules[0].conditions.all[1].value',
      "'zone'",
    );
  });

  it('refuses a list for a one-value operator', () => {
    expectError(
      edited((d) => (d.rules[0].conditions.all[1] = { fact: 'zone', operator: 'equal', value: ['eu'] })),
      'type_mismatch',
      '$.rules[0].conditions.all[1].value',
      "'in'",
    );
  });

  it('refuses null for a fact that is never null, accepts it for one that can be', () => {
    expectError(
      edited((d) => (d.rules[0].conditions.all[1] = { fact: 'zone', operator: 'equal', value: null })),
      'type_mismatch',
      '$.rules[0].conditions.all[1].value',
      'never null',
    );
    expectLoads(
      edited((d) => (d.rules[0].conditions.all[1] = { fact: 'segment', operator: 'equal', value: null })),
    );
  });

  it('warns, without refusing, about contains on a scalar fact', () => {
    const issues = expectLoads(
      edited((d) => (d.rules[0].conditions.all[1] = { fact: 'zone', operator: 'contains', value: 'eu' })),
    );
    expect(issues.map((i) => [i.code, i.path, i.severity])).toEqual([
      ['type_mismatch', '$.rules[0].conditions.all[1].operator', 'warning'],
    ]);
    const loaded = loadPolicy(
      edited((d) => (d.rules[0].conditions.all[1] = { fact: 'zone', operator: 'contains', value: 'eu' })),
    );
    expect(loaded.warnings).toEqual(issues);
  });
});

describe('zones and caps', () => {
  it('refuses a country in two zones', () => {
    expectError(
      edited((d) => (d.zones.eea = ['CH', 'NO'])),
      'overlapping_zones',
      '$.zones.eea[1]',
      "'NO'",
      "'eu'",
    );
  });

  it('refuses a country listed twice in one zone', () => {
    expectError(
      edited((d) => d.zones.eu.push('DE')),
      'overlapping_zones',
      '$.zones.eu[30]',
      "'DE'",
    );
  });

  it.each([['home'], ['roaming'], ['world']])('refuses the reserved zone name %s', (name) => {
    expectError(
      edited((d) => (d.zones[name] = ['CH'])),
      'invalid_value',
      `$.zones.${name}`,
      `'${name}'`,
    );
  });

  it.each([['home'], ['roaming']])('refuses otherZone %j', (name) => {
    expectError(
      edited((d) => (d.otherZone = name)),
      'invalid_value',
      '$.otherZone',
      `'${name}'`,
    );
  });

  it('refuses a zone name that is not a lower-case name, showing the name', () => {
    const [found] = expectErrors(
      edited((d) => {
        d.zones.EU = d.zones.eu;
        delete d.zones.eu;
      }),
      [['invalid_format', '$.zones.EU']],
    );
    expect(found!.message).toContain('EU');
    expect(found!.message).not.toContain('found a list');
  });

  const FAIR_USE = {
    id: 'fair-use',
    label: 'fair use',
    limit: 10000,
    window: 'day',
    services: ['data'],
    zones: ['home'],
  };

  it('refuses a quantity cap without a unit', () => {
    expectError(
      edited((d) => d.caps.push({ ...FAIR_USE, measure: 'quantity' })),
      'missing_key',
      '$.caps[2].unit',
      "'unit'",
    );
  });

  it('loads a quantity cap with a unit', () => {
    const loaded = loadPolicy(edited((d) => d.caps.push({ ...FAIR_USE, measure: 'quantity', unit: 'MB' })));
    expect(loaded.capById.get('fair-use')).toMatchObject({ measure: 'quantity', unit: 'MB' });
    expect(loaded.warnings.map((w) => [w.code, w.path])).toEqual([['unused', '$.caps[2]']]);
  });

  it('refuses a unit on a cost cap', () => {
    expectError(
      edited((d) => (d.caps[1].unit = 'MB')),
      'invalid_value',
      '$.caps[1].unit',
      "'quantity'",
    );
  });

  it('refuses offerPayment on a quantity cap', () => {
    expectError(
      edited((d) => {
        Object.assign(d.caps[0], { measure: 'quantity', unit: 'MB' });
        d.rules[1].event.params.paymentLink = false;
      }),
      'invalid_value',
      '$.rules[2].event.type',
      "'roaming-data'",
    );
  });

  it('refuses a payment link on a notice of a quantity cap', () => {
    expectError(
      edited((d) => {
        Object.assign(d.caps[0], { measure: 'quantity', unit: 'MB' });
        d.rules = d.rules.filter((r: { event: { type: string } }) => r.event.type !== 'offerPayment');
      }),
      'invalid_value',
      '$.rules[1].event.params.paymentLink',
      'counts quantity',
    );
  });
});

describe('limits', () => {
  const max = POLICY_LIMITS.maxConditionDepth;

  it(`accepts conditions nested ${max} deep`, () => {
    expectLoads(edited((d) => (d.rules[2].conditions = nested(max))));
  });

  it.each([['all'], ['any'], ['not'], ['mixed']] as const)(
    `refuses %s nested ${max + 1} deep with limit_exceeded`,
    (kind) => {
      expectError(
        edited((d) => (d.rules[2].conditions = nested(max + 1, kind))),
        'limit_exceeded',
        '$.rules[2].conditions',
        String(max),
      );
    },
  );

  it.each([['all'], ['not'], ['mixed']] as const)(
    'refuses %s nested 100,000 deep without throwing',
    (kind) => {
      const doc = edited((d) => (d.rules[2].conditions = nested(100_000, kind)));
      expectError(doc, 'limit_exceeded', '$.rules[2].conditions', String(max));
      expect(() => loadPolicy(doc)).toThrow(PolicyError);
    },
  );

  it('refuses a 100,000-deep condition given as JSON text without throwing', () => {
    const depth = 100_000;
    const conditions = '{"all":['.repeat(depth) + JSON.stringify(LEAF) + ']}'.repeat(depth);
    const text = JSON.stringify(edited((d) => (d.rules[2].conditions = '<here>'))).replace(
      '"<here>"',
      conditions,
    );
    expectError(text, 'limit_exceeded', '$.rules[2].conditions');
  });

  it('does not overflow on deep values outside conditions', () => {
    let deep: Draft = 1;
    for (let i = 0; i < 100_000; i++) deep = i % 2 === 0 ? [deep] : { x: deep };
    for (const edit of [
      (d: Draft) => (d.description = deep),
      (d: Draft) => (d.caps[0].services = deep),
      (d: Draft) => (d.rules[2].event.params = deep),
      (d: Draft) => (d.rules[2].conditions.all[0].value = deep),
      (d: Draft) => (d.templates.welcome = deep),
    ]) {
      const doc = edited(edit);
      let report: ReturnType<typeof checkPolicy> | undefined;
      expect(() => (report = checkPolicy(doc))).not.toThrow();
      expect(report!.ok).toBe(false);
      expect(errorsOf(report!.issues).length).toBeGreaterThan(0);
    }
  });

  it(`refuses more than ${POLICY_LIMITS.maxConditionsPerRule} leaf conditions in a rule`, () => {
    const leaves = (n: number) => ({ all: Array.from({ length: n }, () => ({ ...LEAF })) });
    expectLoads(edited((d) => (d.rules[2].conditions = leaves(POLICY_LIMITS.maxConditionsPerRule))));
    expectError(
      edited((d) => (d.rules[2].conditions = leaves(POLICY_LIMITS.maxConditionsPerRule + 1))),
      'limit_exceeded',
      '$.rules[2].conditions',
      String(POLICY_LIMITS.maxConditionsPerRule),
    );
  });

  const manyRules = (n: number) =>
    edited(
      (d) =>
        (d.rules = Array.from({ length: n }, (_, i) => ({
          ...structuredClone(d.rules[2]),
          name: `offer-${i}`,
        }))),
    );

  it(`accepts ${POLICY_LIMITS.rules} rules`, () => {
    expectLoads(manyRules(POLICY_LIMITS.rules));
  });

  it(`refuses ${POLICY_LIMITS.rules + 1} rules with limit_exceeded, and 100,000 without throwing`, () => {
    expectError(
      manyRules(POLICY_LIMITS.rules + 1),
      'limit_exceeded',
      '$.rules',
      String(POLICY_LIMITS.rules + 1),
      String(POLICY_LIMITS.rules),
    );
    const huge = edited((d) => (d.rules = new Array(100_000).fill(d.rules[2])));
    expectError(huge, 'limit_exceeded', '$.rules', '100000');
  });

  it(`refuses more than ${POLICY_LIMITS.caps} caps`, () => {
    expectError(
      edited(
        (d) =>
          (d.caps = Array.from({ length: POLICY_LIMITS.caps + 1 }, (_, i) => ({
            ...d.caps[0],
            id: `cap-${i}`,
          }))),
      ),
      'limit_exceeded',
      '$.caps',
      String(POLICY_LIMITS.caps),
    );
  });
});

/** Variants that must not load, for the checks that hold for every refused policy. */
const BROKEN: Array<[string, unknown]> = [
  ['invalid JSON text', '{ "id": '],
  ['unknown key', edited((d) => (d.rules[1].prioritty = 1))],
  ['forbidden path', edited((d) => (d.rules[1].conditions.all[0].path = '$.x'))],
  ['unknown operator', edited((d) => (d.rules[2].conditions.all[0].operator = 'greaterThenInclusive'))],
  ['unknown fact', edited((d) => (d.rules[2].conditions.all[0].fact = 'usageRatoi'))],
  ['duplicate rule', edited((d) => (d.rules[2].name = d.rules[1].name))],
  ['unknown cap', edited((d) => (d.rules[2].cap = 'roaming-dat'))],
  ['unknown action kind', edited((d) => (d.rules[3].event.type = 'blok'))],
  [
    'scope outside cap',
    edited((d) => (d.rules[3].event = { type: 'block', params: { scope: { services: '*', zones: '*' } } })),
  ],
  ['capless block', edited((d) => (d.rules[0].event = { type: 'block' }))],
  ['missing translation', edited((d) => (d.templates.welcome = { de: 'Hallo' }))],
  ['overlapping zones', edited((d) => (d.zones.eea = ['NO']))],
  ['too deep', edited((d) => (d.rules[2].conditions = nested(POLICY_LIMITS.maxConditionDepth + 1)))],
  [
    'several problems',
    edited((d) => Object.assign(d, { curency: 'PLN', otherZone: 'home', caps: [d.caps[0], d.caps[0]] })),
  ],
];

describe('loadPolicy and PolicyError', () => {
  it.each(BROKEN)('%s: loadPolicy throws a PolicyError carrying checkPolicy().issues', (_, doc) => {
    const report = checkPolicy(doc);
    expect(report.ok).toBe(false);
    let thrown: unknown;
    try {
      loadPolicy(doc);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    expect(thrown).toBeInstanceOf(SpendcapError);
    expect(thrown).toBeInstanceOf(Error);
    const error = thrown as PolicyError;
    expect(error.code).toBe('invalid_policy');
    expect(error.name).toBe('PolicyError');
    expect(error.issues).toEqual(report.issues);
    for (const issue of errorsOf(report.issues)) expect(error.message).toContain(issue.path);
  });

  it.each(BROKEN)('%s: every issue has code, a $ path, a message and a severity', (_, doc) => {
    const report = checkPolicy(doc);
    expect(errorsOf(report.issues).length).toBeGreaterThan(0);
    expectWellFormed(report.issues, typeof doc === 'string' ? undefined : doc);
  });
});

describe('property: a mutated shipped policy never throws', () => {
  type Segment = string | number;
  type Mutation =
    | { op: 'delete'; at: number }
    | { op: 'rename'; at: number; key: string }
    | { op: 'retype'; at: number; value: unknown };

  /** Every path to a value below the root, parents before children. */
  function pathsOf(node: unknown, prefix: Segment[] = [], out: Segment[][] = []): Segment[][] {
    if (node !== null && typeof node === 'object') {
      const entries: Array<[Segment, unknown]> = Array.isArray(node)
        ? node.map((v, i): [Segment, unknown] => [i, v])
        : Object.entries(node);
      for (const [key, value] of entries) {
        const path = [...prefix, key];
        out.push(path);
        pathsOf(value, path, out);
      }
    }
    return out;
  }

  function parentOf(root: Draft, path: Segment[]): Draft {
    let node = root;
    for (const key of path.slice(0, -1)) node = node[key];
    return node;
  }

  const valueArb = fc.oneof(
    fc.constantFrom<unknown>(
      null,
      0,
      -1,
      1.5,
      1e308,
      '',
      'x',
      '*',
      'roaming',
      true,
      false,
      [],
      {},
      ['data'],
      { fact: 'spend' },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const keyArb = fc.oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'path',
      'params',
      'prioritty',
      'fact',
      'all',
      'not',
      '',
    ),
    fc.string({ maxLength: 12 }),
  );
  const mutationArb = fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat({ max: 10_000 }) }),
    fc.record({ op: fc.constant('rename' as const), at: fc.nat({ max: 10_000 }), key: keyArb }),
    fc.record({ op: fc.constant('retype' as const), at: fc.nat({ max: 10_000 }), value: valueArb }),
  );

  function mutate(doc: Draft, mutation: Mutation): void {
    const paths = pathsOf(doc);
    if (paths.length === 0) return;
    const path = paths[mutation.at % paths.length]!;
    const parent = parentOf(doc, path);
    const key = path[path.length - 1]!;
    switch (mutation.op) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case 'rename': {
        if (Array.isArray(parent)) return;
        const value = parent[key];
        delete parent[key];
        // defineProperty, so that '__proto__' becomes an own key as JSON.parse would make it.
        Object.defineProperty(parent, mutation.key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
      }
      case 'retype':
        Object.defineProperty(parent, key, {
          value: structuredClone(mutation.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
    }
  }
  it('checkPolicy either loads or reports ≥1 error with a $ path; loadPolicy agrees', () => {
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (mutations) => {
        const doc = policy();
        for (const mutation of mutations) mutate(doc, mutation);
        const before = JSON.stringify(doc);
        let report: ReturnType<typeof checkPolicy> | undefined;
        expect(() => (report = checkPolicy(doc))).not.toThrow();
        expect(JSON.stringify(doc)).toBe(before);
        if (report!.ok) {
          expect(report!.policy).toBeDefined();
          expect(errorsOf(report!.issues)).toEqual([]);
          expect(loadPolicy(doc).id).toBe(report!.policy!.id);
        } else {
          expect(report!.policy).toBeUndefined();
          expect(errorsOf(report!.issues).length).toBeGreaterThanOrEqual(1);
          expect(() => loadPolicy(doc)).toThrow(PolicyError);
        }
        expectWellFormed(report!.issues, doc);
        // The text of the same document is judged the same way.
        expect(checkPolicy(before).issues).toEqual(report!.issues);
      }),
      { numRuns: 300 },
    );
  });
});
