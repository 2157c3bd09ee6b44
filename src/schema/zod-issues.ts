import type { z } from 'zod';
import type { Issue, IssueCode } from '../errors.js';

type ZodIssue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/**
 * Writes a JSON path the way analysts read it: `$.rules[2].conditions.all[0].fact`.
 *
 * @example
 * formatPath(['rules', 2, 'name']); // '$.rules[2].name'
 */
export function formatPath(path: Path): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Levenshtein distance, for did-you-mean. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * The closest of `candidates` to a misspelt `name`, or undefined when none is close.
 *
 * @example
 * closest('usageRatoi', ['usageRatio', 'spend']); // 'usageRatio'
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** ` did you mean 'x'?` or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const match = closest(name, candidates);
  return match === undefined ? '' : `; did you mean '${match}'?`;
}

/** A short, safe rendering of a found value for a message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return String(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** How an issue list of one union option fails at its own root: fewer means the input meant that option. */
function rootProblems(issues: readonly ZodIssue[]): number {
  let n = 0;
  for (const issue of issues) {
    if (issue.path.length === 0) n += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
    else if (issue.path.length === 1 && issue.code === 'invalid_type' && issue.input === undefined) n += 1;
  }
  return n;
}

/** Options that shape messages for one document kind. */
export interface IssueContext {
  /** Every key the schema knows, for did-you-mean on unknown keys. */
  readonly knownKeys: ReadonlySet<string>;
  /** Keys refused with a reason rather than as unknown. */
  readonly forbiddenKeys?: Readonly<Record<string, string>>;
  /** Codes for an invalid enum value, chosen by the last path segment (`fact` → `unknown_fact`). */
  readonly valueCodes?: Readonly<Record<string, IssueCode>>;
}

const PROTOTYPE_KEYS: Readonly<Record<string, string>> = {
  __proto__: 'prototype keys are refused',
  constructor: 'prototype keys are refused',
  prototype: 'prototype keys are refused',
};

/**
 * Turns zod issues into spendcap issues with JSON paths, plain messages and did-you-mean suggestions.
 * Union failures are narrowed to the option the input evidently meant, so an analyst sees
 * "unknown fact 'usageRatoi'" rather than "invalid input".
 *
 * @example
 * const result = PolicySchema.safeParse(json);
 * if (!result.success) issuesFromZod(result.error.issues, json, context);
 */
export function issuesFromZod(
  zodIssues: readonly ZodIssue[],
  input: unknown,
  context: IssueContext,
  prefix: Path = [],
): Issue[] {
  const out: Issue[] = [];
  for (const issue of zodIssues) {
    const path = [...prefix, ...issue.path];
    const at = formatPath(path);
    const found = valueAt(input, path);
    const push = (code: IssueCode, message: string) =>
      out.push({ code, path: at, message, severity: 'error' });
    const last = path[path.length - 1];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const keyPath = formatPath([...path, key]);
          const reason = context.forbiddenKeys?.[key] ?? PROTOTYPE_KEYS[key];
          if (reason !== undefined) {
            out.push({
              code: 'forbidden_key',
              path: keyPath,
              message: `key '${key}' is refused: ${reason}`,
              severity: 'error',
            });
          } else {
            out.push({
              code: 'unknown_key',
              path: keyPath,
              message: `unknown key '${key}'${didYouMean(key, context.knownKeys)}`,
              severity: 'error',
            });
          }
        }
        break;
      case 'invalid_union': {
        const discriminator = issue.discriminator;
        if (discriminator !== undefined && issue.errors.length === 0) {
          // zod puts the discriminator itself at the end of the path; older versions did not.
          const discPath = path[path.length - 1] === discriminator ? path : [...path, discriminator];
          const value = valueAt(input, discPath);
          const options = (issue as { options?: unknown[] }).options?.map(String) ?? [];
          const code = context.valueCodes?.[discriminator] ?? 'invalid_value';
          const name = typeof value === 'string' ? value : '';
          out.push({
            code: value === undefined ? 'missing_key' : code,
            path: formatPath(discPath),
            message:
              value === undefined
                ? `missing '${discriminator}': expected one of ${options.join(', ')}`
                : `unknown ${discriminator} ${describeValue(value)}; expected one of ${options.join(', ')}${didYouMean(name, options)}`,
            severity: 'error',
          });
          break;
        }
        if (issue.errors.length > 0) {
          const ranked = issue.errors
            .map((errors) => ({ errors, root: rootProblems(errors) }))
            .sort((a, b) => a.root - b.root || a.errors.length - b.errors.length);
          const best = ranked[0]!;
          // When every option fails at the root, the input matches none of them in shape: say so once.
          if (best.root > 0 && ranked.every((r) => r.root > 0)) {
            const literals = issue.errors
              .flat()
              .filter(
                (i): i is z.core.$ZodIssueInvalidValue => i.code === 'invalid_value' && i.path.length === 0,
              )
              .flatMap((i) => i.values.map(String));
            const hint = typeof found === 'string' ? didYouMean(found, literals) : '';
            const expected = [...new Set(issue.errors.map((errs) => describeExpected(errs)))].join(' or ');
            push(
              found === undefined ? 'missing_key' : 'invalid_type',
              `found ${describeValue(found)}; expected ${expected}${hint}`,
            );
            break;
          }
          out.push(...issuesFromZod(best.errors, input, context, path));
          break;
        }
        push('invalid_value', issue.message);
        break;
      }
      case 'invalid_type':
        if (found === undefined && path.length > 0) {
          push('missing_key', `missing '${String(last)}': expected ${issue.expected}`);
        } else {
          push('invalid_type', `found ${describeValue(found)}; expected ${issue.expected}`);
        }
        break;
      case 'invalid_value': {
        const options = issue.values.map(String);
        const code = (typeof last === 'string' ? context.valueCodes?.[last] : undefined) ?? 'invalid_value';
        const name = typeof found === 'string' ? found : '';
        const subject = code.startsWith('unknown_')
          ? code.slice('unknown_'.length).replace('_', ' ')
          : 'value';
        push(
          code,
          options.length === 1
            ? `found ${describeValue(found)}; expected ${JSON.stringify(issue.values[0])}`
            : `unknown ${subject} ${describeValue(found)}${didYouMean(name, options)} (expected one of ${options.join(', ')})`,
        );
        break;
      }
      case 'too_small':
        push('too_small', `found ${describeValue(found)}; ${issue.message.replace(/^Too small: /, '')}`);
        break;
      case 'too_big':
        push('too_big', `found ${describeValue(found)}; ${issue.message.replace(/^Too big: /, '')}`);
        break;
      case 'invalid_format':
        push(
          'invalid_format',
          `found ${describeValue(found)}; ${issue.message.replace(/^Invalid string: /, '')}`,
        );
        break;
      case 'invalid_key':
        out.push(
          ...issuesFromZod(issue.issues, input, context, path).map((i) => ({
            ...i,
            message: `key ${i.message}`,
          })),
        );
        break;
      default:
        push('invalid_value', `found ${describeValue(found)}; ${issue.message}`);
    }
  }
  return out;
}

function describeExpected(errors: readonly ZodIssue[]): string {
  const root = errors.find((e) => e.path.length === 0);
  if (root === undefined) return 'an object of another shape';
  if (root.code === 'invalid_type') return root.expected;
  if (root.code === 'invalid_value') return root.values.map((v) => JSON.stringify(v)).join(' or ');
  if (root.code === 'unrecognized_keys')
    return 'an object without ' + root.keys.map((k) => `'${k}'`).join(', ');
  return root.message;
}

/**
 * Every object key a zod schema knows, walking objects, arrays, unions, records and wrappers.
 *
 * @example
 * collectKeys(PolicySchema).has('paymentLink'); // true
 */
export function collectKeys(
  schema: z.core.$ZodType,
  keys = new Set<string>(),
  seen = new Set<unknown>(),
  depth = 0,
): Set<string> {
  if (seen.has(schema) || depth > 12) return keys;
  seen.add(schema);
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const visit = (s: unknown) => {
    if (s !== null && typeof s === 'object' && '_zod' in s)
      collectKeys(s as z.core.$ZodType, keys, seen, depth + 1);
  };
  switch (def.type) {
    case 'object': {
      const shape = def['shape'] as Record<string, unknown>;
      for (const key of Object.keys(shape)) {
        keys.add(key);
        visit(shape[key]);
      }
      break;
    }
    case 'array':
      visit(def['element']);
      break;
    case 'union':
      for (const option of def['options'] as unknown[]) visit(option);
      break;
    case 'record':
      visit(def['valueType']);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
    case 'nonoptional':
      visit(def['innerType']);
      break;
    case 'pipe':
      visit(def['in']);
      break;
    default:
  }
  return keys;
}
