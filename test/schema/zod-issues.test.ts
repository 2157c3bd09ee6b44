import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import {
  closest,
  collectKeys,
  describeValue,
  didYouMean,
  formatPath,
  issuesFromZod,
  type IssueContext,
} from '../../src/schema/zod-issues';
import {
  ConditionSchema,
  LeafConditionSchema,
  PolicySchema,
  RuleEventSchema,
  TopConditionSchema,
} from '../../src/schema/policy';
import type { Issue } from '../../src/errors';
import { parsePath } from '../support/paths';

/** Runs `schema` on `input` and maps its issues; the input must be invalid. */
function issuesOf(
  schema: z.ZodType,
  input: unknown,
  context: IssueContext,
  prefix: PropertyKey[] = [],
): Issue[] {
  const result = schema.safeParse(input);
  expect(result.success).toBe(false);
  return issuesFromZod(result.error!.issues, input, context, prefix);
}

/** The `[code, path]` pairs of issues, for exact comparison. */
function located(issues: readonly Issue[]): Array<[string, string]> {
  return issues.map((i) => [i.code, i.path]);
}

const PLAIN: IssueContext = { knownKeys: new Set(['alpha', 'beta', 'gamma']) };
const POLICY_CONTEXT: IssueContext = {
  knownKeys: collectKeys(PolicySchema),
  forbiddenKeys: { path: 'JSONPath can run code', params: 'facts are scalars' },
  valueCodes: { fact: 'unknown_fact', operator: 'unknown_operator', type: 'unknown_action_kind' },
};

/** Levenshtein distance, written independently of the module under test. */
/** Edit distance counting an adjacent transposition as one edit ("ue" is one edit from "eu"). */
function levenshtein(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      rows[i]![j] = Math.min(
        rows[i - 1]![j]! + 1,
        rows[i]![j - 1]! + 1,
        rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i]![j] = Math.min(rows[i]![j]!, rows[i - 2]![j - 2]! + 1);
      }
    }
  }
  return rows[a.length]![b.length]!;
}

describe('formatPath', () => {
  it.each<[PropertyKey[], string]>([
    [[], '$'],
    [['rules', 2, 'conditions', 'all', 0, 'fact'], '$.rules[2].conditions.all[0].fact'],
    [['rules', 0, 'event', 'params', 'scope', 'zones', 1], '$.rules[0].event.params.scope.zones[1]'],
    [['templates', 'near-limit', 'pl-PL'], '$.templates["near-limit"]["pl-PL"]'],
    [['$schema'], '$.$schema'],
    [['_private', 'a1'], '$._private.a1'],
    [['zones', '0'], '$.zones["0"]'],
    [['1st'], '$["1st"]'],
    [[''], '$[""]'],
    [['a b', 'say "hi"'], '$["a b"]["say \\"hi\\""]'],
    [['__proto__'], '$.__proto__'],
  ])('%j → %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });

  it('writes a symbol key as a quoted string rather than throwing', () => {
    expect(formatPath(['a', Symbol('s')])).toBe('$.a["Symbol(s)"]');
  });

  it('round-trips: the written path reads back as the same segments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(), fc.string(), fc.constantFrom('near-limit', 'pl-PL', '$x', '0'))),
        (path) => {
          const text = formatPath(path);
          expect(text.startsWith('$')).toBe(true);
          expect(parsePath(text)).toEqual(path);
        },
      ),
    );
  });
});

describe('closest and didYouMean', () => {
  it.each<[string, string[], string | undefined]>([
    ['usageRatoi', ['spend', 'usageRatio', 'limit'], 'usageRatio'],
    [
      'greaterThenInclusive',
      ['greaterThan', 'greaterThanInclusive', 'lessThanInclusive'],
      'greaterThanInclusive',
    ],
    ['prioritty', ['priority', 'name', 'cap'], 'priority'],
    ['blok', ['notify', 'block', 'throttle', 'offerPayment', 'careNote'], 'block'],
    ['Block', ['notify', 'block'], 'block'],
    ['roaming-dat', ['roaming-data', 'bill'], 'roaming-data'],
    ['subscriberid', ['subscriberId', 'amount', 'actionId'], 'subscriberId'],
    ['completelyDifferent', ['spend', 'limit'], undefined],
    ['usageRatio', [], undefined],
  ])('closest(%j) is %j', (name, candidates, expected) => {
    expect(closest(name, candidates)).toBe(expected);
  });

  it('didYouMean words the suggestion, or says nothing', () => {
    expect(didYouMean('usageRatoi', ['usageRatio'])).toBe("; did you mean 'usageRatio'?");
    expect(didYouMean('zzzzzzzz', ['usageRatio'])).toBe('');
  });

  it('does not suggest a name that shares nothing with a short misspelling', () => {
    expect(closest('x', ['id'])).toBeUndefined();
    expect(closest('', ['a', 'id'])).toBeUndefined();
    expect(didYouMean('q', ['id', 'cap'])).toBe('');
  });

  it('returns a candidate, the name itself when it is one, and never a wholesale replacement', () => {
    const nameArb = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(nameArb, fc.array(nameArb, { maxLength: 8 }), (name, candidates) => {
        const found = closest(name, candidates);
        if (found !== undefined) expect(candidates).toContain(found);
        if (candidates.includes(name)) expect(found?.toLowerCase()).toBe(name.toLowerCase());
        if (found !== undefined && found.toLowerCase() !== name.toLowerCase()) {
          // A suggestion keeps something of the name: it is not a wholesale replacement.
          expect(levenshtein(name.toLowerCase(), found.toLowerCase())).toBeLessThan(
            Math.max(name.length, found.length),
          );
        }
        const text = didYouMean(name, candidates);
        expect(text === '' || text === `; did you mean '${found}'?`).toBe(true);
      }),
    );
  });
});

describe('describeValue', () => {
  it.each<[unknown, string]>([
    [undefined, 'nothing'],
    [null, 'null'],
    [[1, 2], 'a list'],
    [{ a: 1 }, 'an object'],
    ['blok', '"blok"'],
    [12.5, '12.5'],
    [true, 'true'],
    ['x'.repeat(50), `"${'x'.repeat(40)}..."`],
  ])('%j → %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });
});

describe('collectKeys', () => {
  it('knows every key of the policy document, at every level', () => {
    const keys = collectKeys(PolicySchema);
    for (const key of [
      '$schema',
      'id',
      'version',
      'description',
      'currency',
      'locale',
      'services',
      'zones',
      'otherZone',
      'paymentLink',
      'caps',
      'rules',
      'notices',
      'templates',
      'label',
      'limit',
      'window',
      'measure',
      'unit',
      'name',
      'cap',
      'priority',
      'conditions',
      'event',
      'all',
      'any',
      'not',
      'fact',
      'operator',
      'value',
      'type',
      'params',
      'template',
      'channels',
      'threshold',
      'scope',
      'kbps',
      'amount',
      'queue',
      'restricted',
      'lifted',
    ]) {
      expect(keys, key).toContain(key);
    }
    expect(keys.has('path')).toBe(false);
  });
});

describe('issuesFromZod', () => {
  it('refuses an unknown key at its own path, with a did-you-mean', () => {
    const issues = issuesOf(z.strictObject({ alpha: z.number() }), { alpha: 1, alpah: 2 }, PLAIN);
    expect(issues).toEqual([
      {
        code: 'unknown_key',
        path: '$.alpah',
        message: "unknown key 'alpah'; did you mean 'alpha'?",
        severity: 'error',
      },
    ]);
  });

  it('refuses each unknown key separately', () => {
    const issues = issuesOf(
      z.strictObject({ alpha: z.number() }),
      { alpha: 1, x1: 1, 'two words': 2 },
      PLAIN,
    );
    expect(located(issues)).toEqual([
      ['unknown_key', '$.x1'],
      ['unknown_key', '$["two words"]'],
    ]);
  });

  it('gives a forbidden key its reason', () => {
    const issues = issuesOf(
      z.strictObject({ fact: z.string() }),
      { fact: 'spend', path: '$.x' },
      POLICY_CONTEXT,
    );
    expect(issues).toEqual([
      {
        code: 'forbidden_key',
        path: '$.path',
        message: "key 'path' is refused: JSONPath can run code",
        severity: 'error',
      },
    ]);
  });

  it.each<[string, IssueContext]>([
    ['without forbidden keys', PLAIN],
    ['with forbidden keys', POLICY_CONTEXT],
  ])('refuses own __proto__ / constructor / prototype keys %s, saying why', (_, context) => {
    const input = JSON.parse('{"alpha":1,"__proto__":{"x":1},"constructor":2,"prototype":3}') as unknown;
    const issues = issuesOf(z.strictObject({ alpha: z.number() }), input, context);
    expect(located(issues)).toEqual([
      ['forbidden_key', '$.__proto__'],
      ['forbidden_key', '$.constructor'],
      ['forbidden_key', '$.prototype'],
    ]);
    for (const issue of issues)
      expect(issue.message).toMatch(
        /^key '(__proto__|constructor|prototype)' is refused: prototype keys are refused$/,
      );
  });

  it('names a missing key and a wrong type with what was found and expected', () => {
    const schema = z.strictObject({ alpha: z.string(), beta: z.number() });
    expect(issuesOf(schema, { beta: 'x' }, PLAIN)).toEqual([
      {
        code: 'missing_key',
        path: '$.alpha',
        message: "missing 'alpha': expected string",
        severity: 'error',
      },
      { code: 'invalid_type', path: '$.beta', message: 'found "x"; expected number', severity: 'error' },
    ]);
  });

  it('uses the code of the field for an invalid enum value, with did-you-mean and the options', () => {
    const [issue] = issuesOf(
      LeafConditionSchema,
      { fact: 'usageRatoi', operator: 'equal', value: 1 },
      POLICY_CONTEXT,
    );
    expect(issue).toMatchObject({ code: 'unknown_fact', path: '$.fact', severity: 'error' });
    expect(issue!.message).toContain('usageRatoi');
    expect(issue!.message).toContain("did you mean 'usageRatio'?");
    expect(issue!.message).toContain('spend');
  });

  it('prefixes paths, and reads found values at the prefixed path', () => {
    const doc = {
      rules: [
        {},
        {},
        { conditions: { all: [{ fact: 'spend', operator: 'greaterThenInclusive', value: 1 }] } },
      ],
    };
    const issues = issuesOf(ConditionSchema, doc.rules[2]!.conditions, POLICY_CONTEXT);
    expect(located(issues)).toEqual([['unknown_operator', '$.all[0].operator']]);
    const result = ConditionSchema.safeParse(doc.rules[2]!.conditions);
    const prefixed = issuesFromZod(result.error!.issues, doc, POLICY_CONTEXT, ['rules', 2, 'conditions']);
    expect(located(prefixed)).toEqual([['unknown_operator', '$.rules[2].conditions.all[0].operator']]);
    expect(prefixed[0]!.message).toContain('greaterThenInclusive');
    expect(prefixed[0]!.message).toContain("did you mean 'greaterThanInclusive'?");
  });

  it('narrows a union to the option the input meant, down nested all/any/not', () => {
    const input = { all: [{ any: [{ not: { fact: 'usageRatoi', operator: 'equal', value: 1 } }] }] };
    const issues = issuesOf(ConditionSchema, input, POLICY_CONTEXT);
    expect(located(issues)).toEqual([['unknown_fact', '$.all[0].any[0].not.fact']]);
  });

  it('reports an unknown discriminator at the discriminator, once, with did-you-mean', () => {
    const issues = issuesOf(RuleEventSchema, { type: 'blok' }, POLICY_CONTEXT);
    expect(located(issues)).toEqual([['unknown_action_kind', '$.type']]);
    expect(issues[0]!.message).toContain('"blok"');
    expect(issues[0]!.message).toContain("did you mean 'block'?");
  });

  it('reports a discriminator below the root at its own path (not `.type.type`)', () => {
    const schema = z.strictObject({ event: RuleEventSchema });
    const unknown = issuesOf(schema, { event: { type: 'throtle', params: { kbps: 1 } } }, POLICY_CONTEXT);
    expect(located(unknown)).toEqual([['unknown_action_kind', '$.event.type']]);
    expect(unknown[0]!.message).toContain("did you mean 'throttle'?");
    const missing = issuesOf(schema, { event: { params: {} } }, POLICY_CONTEXT);
    expect(located(missing)).toEqual([['missing_key', '$.event.type']]);
  });

  it('suggests a literal of a union of literals', () => {
    const schema = z.strictObject({
      zones: z.union([z.literal('*'), z.literal('roaming'), z.array(z.string())]),
    });
    const issues = issuesOf(schema, { zones: 'roamin' }, PLAIN);
    expect(located(issues)).toEqual([['invalid_type', '$.zones']]);
    expect(issues[0]!.message).toContain('"roamin"');
    expect(issues[0]!.message).toContain("did you mean 'roaming'?");
  });

  it("refuses a misspelt group key at the top of conditions, suggesting 'all'", () => {
    const issues = issuesOf(
      TopConditionSchema,
      { alll: [{ fact: 'spend', operator: 'equal', value: 1 }] },
      POLICY_CONTEXT,
    );
    expect(located(issues)).toEqual([['unknown_key', '$.alll']]);
    expect(issues[0]!.message).toContain("did you mean 'all'?");
  });

  it('refuses a shared condition reference as a forbidden key', () => {
    const context: IssueContext = {
      ...POLICY_CONTEXT,
      forbiddenKeys: { condition: 'write the condition in the rule' },
    };
    const issues = issuesOf(TopConditionSchema, { all: [{ condition: 'over-limit' }] }, context);
    expect(located(issues)).toEqual([['forbidden_key', '$.all[0].condition']]);
  });

  it("narrows a value object to { fact }, suggesting 'fact' for 'fakt'", () => {
    const issues = issuesOf(
      LeafConditionSchema,
      { fact: 'spend', operator: 'greaterThan', value: { fakt: 'limit' } },
      POLICY_CONTEXT,
    );
    expect(located(issues)).toEqual([['unknown_key', '$.value.fakt']]);
    expect(issues[0]!.message).toContain("did you mean 'fact'?");
  });

  it('names a missing value without leaking zod wording', () => {
    const issues = issuesOf(LeafConditionSchema, { fact: 'spend', operator: 'greaterThan' }, POLICY_CONTEXT);
    expect(located(issues)).toEqual([['missing_key', '$.value']]);
    expect(issues[0]!.message).toContain("'value'");
    expect(issues[0]!.message).not.toContain('Invalid input');
  });

  it('reports a nested list where a list of names is expected at the element', () => {
    const schema = z.strictObject({ services: z.union([z.literal('*'), z.array(z.string()).min(1)]) });
    const issues = issuesOf(schema, { services: [['data']] }, PLAIN);
    expect(located(issues)).toEqual([['invalid_type', '$.services[0]']]);
    expect(issues[0]!.message).not.toContain('an object of another shape');
  });

  it('maps size, format and refinement failures with what was found', () => {
    expect(issuesOf(z.array(z.number()).min(1), [], PLAIN)).toEqual([
      {
        code: 'too_small',
        path: '$',
        message: 'found a list; expected array to have >=1 items',
        severity: 'error',
      },
    ]);
    expect(issuesOf(z.string().max(3), 'abcdef', PLAIN)).toEqual([
      {
        code: 'too_big',
        path: '$',
        message: 'found "abcdef"; expected string to have <=3 characters',
        severity: 'error',
      },
    ]);
    const [format] = issuesOf(z.string().regex(/^[a-z]+$/, 'expected a lower-case name'), 'EU', PLAIN);
    expect(format).toEqual({
      code: 'invalid_format',
      path: '$',
      message: 'found "EU"; expected a lower-case name',
      severity: 'error',
    });
    const [refined] = issuesOf(
      z.number().refine((n) => n > 0, 'expected an amount > 0'),
      -5,
      PLAIN,
    );
    expect(refined).toEqual({
      code: 'invalid_value',
      path: '$',
      message: 'found -5; expected an amount > 0',
      severity: 'error',
    });
    const [literal] = issuesOf(z.literal('x'), 'y', PLAIN);
    expect(literal).toEqual({
      code: 'invalid_value',
      path: '$',
      message: 'found "y"; expected "x"',
      severity: 'error',
    });
  });

  it('reports an invalid record key at the key, naming the key rather than its value', () => {
    const schema = z.record(z.string().regex(/^[a-z]+$/, 'expected a lower-case name'), z.array(z.string()));
    const issues = issuesOf(schema, { eu: ['DE'], EU: ['FR'] }, PLAIN);
    expect(located(issues)).toEqual([['invalid_format', '$.EU']]);
    expect(issues[0]!.message).toContain('"EU"');
    expect(issues[0]!.message).not.toContain('found a list');
  });

  it('never throws on arbitrary input, and every issue is well formed', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (input) => {
        const result = PolicySchema.safeParse(input);
        if (result.success) return;
        let issues: Issue[] = [];
        expect(() => (issues = issuesFromZod(result.error.issues, input, POLICY_CONTEXT))).not.toThrow();
        expect(issues.length).toBeGreaterThan(0);
        for (const issue of issues) {
          expect(issue.severity).toBe('error');
          expect(parsePath(issue.path), issue.path).toBeDefined();
          expect(issue.message.length).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('locates every issue of an arbitrary condition inside it', () => {
    const leafArb = fc.record(
      {
        fact: fc.constantFrom('spend', 'usageRatio', 'usageRatoi', 'zone', 'x'),
        operator: fc.constantFrom('equal', 'in', 'greaterThenInclusive', 'not:equal'),
        value: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.record({ fact: fc.constantFrom('limit', 'lmit') })),
        path: fc.constant('$.x'),
        params: fc.constant({}),
        extra: fc.constant(1),
      },
      { requiredKeys: [] },
    );
    const conditionArb = fc.letrec((tie) => ({
      condition: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leafArb,
        fc.record({ all: fc.array(tie('condition'), { maxLength: 3 }) }),
        fc.record({ any: fc.array(tie('condition'), { maxLength: 3 }) }),
        fc.record({ not: tie('condition') }),
      ),
    })).condition;
    fc.assert(
      fc.property(conditionArb, (input) => {
        const result = ConditionSchema.safeParse(input);
        if (result.success) return;
        const issues = issuesFromZod(result.error.issues, input, POLICY_CONTEXT);
        expect(issues.length).toBeGreaterThan(0);
        for (const issue of issues) {
          const segments = parsePath(issue.path);
          expect(segments, issue.path).toBeDefined();
          // The parent of the reported location exists in the input (the last key may be the missing one).
          let node: unknown = input;
          for (const key of segments!.slice(0, -1)) {
            expect(
              node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, key),
              issue.path,
            ).toBe(true);
            node = (node as Record<string | number, unknown>)[key];
          }
        }
      }),
    );
  });
});
