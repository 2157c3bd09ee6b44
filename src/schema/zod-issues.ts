import type { z } from 'zod';
import type { Issue, IssueCode } from '../errors.js';
import { ALLOWED_KEYS_MARK } from './strict.js';

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

/**
 * Edit distance with adjacent transpositions counted as one edit (optimal string alignment), so
 * "lable" is one edit from "label".
 */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The closest of `candidates` to a misspelt `name`, or undefined when none is close: at most one edit
 * in three characters (and at least one allowed), never a wholesale replacement of the name.
 *
 * @example
 * closest('usageRatoi', ['usageRatio', 'spend']); // 'usageRatio'
 * closest('x', ['id']); // undefined
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  // Names are short; a long text is no misspelling of one, and comparing it would cost its length
  // times each candidate's (a megabyte string would take seconds).
  if (name.length > MAX_SUGGESTED_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    if (candidate.length > MAX_SUGGESTED_LENGTH * 2) continue;
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  if (best === undefined) return undefined;
  if (bestDistance === 0) return best;
  // A one-character name shares too little with anything to guess from; "ue" for "eu" is one edit.
  const allowed = name.length < 2 ? 0 : Math.max(1, Math.floor(name.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** ` did you mean 'x'?` or nothing. */
/** Names longer than this get no suggestion. */
const MAX_SUGGESTED_LENGTH = 64;

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

/**
 * How one union option fails at its own root. `shapeMismatch`: the input is not even of the option's
 * type (a string for an object, an object for a literal); otherwise `problems` counts unknown and
 * missing keys. The option the input evidently meant has no shape mismatch and the fewest problems.
 */
function rootFit(issues: readonly ZodIssue[]): { shapeMismatch: boolean; problems: number } {
  let shapeMismatch = false;
  let problems = 0;
  for (const issue of issues) {
    if (issue.path.length === 0) {
      if (issue.code === 'unrecognized_keys') problems += issue.keys.length;
      else shapeMismatch = true;
    } else if (issue.path.length === 1 && issue.input === undefined) {
      problems += 1;
    }
  }
  return { shapeMismatch, problems };
}

/** Options that shape messages for one document kind. */
export interface IssueContext {
  /** Every key the schema knows: did-you-mean candidates when the object's own keys are not known. */
  readonly knownKeys: ReadonlySet<string>;
  /** Keys refused with a reason rather than as unknown. */
  readonly forbiddenKeys?: Readonly<Record<string, string>>;
  /** Codes for an invalid enum value, chosen by the last path segment (`fact` → `unknown_fact`). */
  readonly valueCodes?: Readonly<Record<string, IssueCode>>;
}

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const own = <T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined =>
  record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;

/** The keys a strict object allows, when its issue carries them (see `strictObject`). */
function allowedKeys(issue: ZodIssue): string[] | undefined {
  if (!issue.message.startsWith(ALLOWED_KEYS_MARK)) return undefined;
  return JSON.parse(issue.message.slice(ALLOWED_KEYS_MARK.length)) as string[];
}

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
  return dropMissingSuggested(collectIssues(zodIssues, input, context, prefix));
}

function collectIssues(
  zodIssues: readonly ZodIssue[],
  input: unknown,
  context: IssueContext,
  prefix: Path,
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
      case 'unrecognized_keys': {
        const allowed = allowedKeys(issue);
        for (const key of issue.keys) {
          const keyPath = formatPath([...path, key]);
          const reason =
            own(context.forbiddenKeys, key) ??
            (PROTOTYPE_KEYS.has(key) ? 'prototype keys are refused' : undefined);
          if (reason !== undefined) {
            out.push({
              code: 'forbidden_key',
              path: keyPath,
              message: `key '${key}' is refused: ${reason}`,
              severity: 'error',
            });
            continue;
          }
          const candidates = (allowed ?? [...context.knownKeys]).filter((k) => k !== key);
          const hint = didYouMean(key, candidates);
          const list = allowed !== undefined && hint === '' ? ` (allowed here: ${allowed.join(', ')})` : '';
          out.push({
            code: 'unknown_key',
            path: keyPath,
            message: `unknown key '${key}'${hint}${list}`,
            severity: 'error',
          });
        }
        break;
      }
      case 'invalid_union': {
        const discriminator = issue.discriminator;
        if (discriminator !== undefined && issue.errors.length === 0) {
          // zod puts the discriminator itself at the end of the path; older versions did not.
          const discPath = path[path.length - 1] === discriminator ? path : [...path, discriminator];
          const value = valueAt(input, discPath);
          const options = (issue as { options?: unknown[] }).options?.map(String) ?? [];
          const code = own(context.valueCodes, discriminator) ?? 'invalid_value';
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
        if (issue.errors.length === 0) {
          push('invalid_value', `found ${describeValue(found)}; ${issue.message}`);
          break;
        }
        if (found === undefined && path.length > 0) {
          const expected = [...new Set(issue.errors.map((errs) => describeExpected(errs)))].join(' or ');
          push('missing_key', `missing '${String(last)}': expected ${expected}`);
          break;
        }
        // An unknown key that is a misspelling of one the option allows is evidence for that option.
        const score = (errors: readonly ZodIssue[], problems: number) => {
          let explained = 0;
          for (const e of errors) {
            if (e.code !== 'unrecognized_keys' || e.path.length !== 0) continue;
            const allowed = allowedKeys(e) ?? [];
            explained += e.keys.filter((k) => closest(k, allowed) !== undefined).length;
          }
          return problems - 2 * explained;
        };
        const fitting = issue.errors
          .map((errors) => ({ errors, ...rootFit(errors) }))
          .filter((option) => !option.shapeMismatch)
          .map((option) => ({ ...option, score: score(option.errors, option.problems) }))
          .sort((a, b) => a.score - b.score || a.errors.length - b.errors.length);
        const best = fitting[0];
        if (best !== undefined) {
          out.push(...collectIssues(best.errors, input, context, path));
          break;
        }
        // The input is of none of the options' types: say what each would have been.
        const literals = issue.errors
          .flat()
          .filter((i): i is z.core.$ZodIssueInvalidValue => i.code === 'invalid_value' && i.path.length === 0)
          .flatMap((i) => i.values.map(String));
        const hint = typeof found === 'string' ? didYouMean(found, literals) : '';
        const expected = [...new Set(issue.errors.map((errs) => describeExpected(errs)))].join(' or ');
        push(
          found === undefined ? 'missing_key' : 'invalid_type',
          `found ${describeValue(found)}; expected ${expected}${hint}`,
        );
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
        if (found === undefined && path.length > 0) {
          push(
            'missing_key',
            `missing '${String(last)}': expected one of ${issue.values.map(String).join(', ')}`,
          );
          break;
        }
        const options = issue.values.map(String);
        const code =
          (typeof last === 'string' ? own(context.valueCodes, last) : undefined) ?? 'invalid_value';
        const name = typeof found === 'string' ? found : '';
        const subject = code.startsWith('unknown_')
          ? code.slice('unknown_'.length).replace('_', ' ')
          : 'value';
        const shown = typeof found === 'string' ? `'${found}'` : describeValue(found);
        push(
          code,
          options.length === 1
            ? `found ${describeValue(found)}; expected ${JSON.stringify(issue.values[0])}`
            : `unknown ${subject} ${shown}${didYouMean(name, options)} (expected one of ${options.join(', ')})`,
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
      case 'invalid_key': {
        // The problem is the key itself (a record's key), so the message shows the key, not its value.
        const key = String(last);
        for (const inner of collectIssues(issue.issues, key, context, [])) {
          out.push({ ...inner, path: at, message: `key ${inner.message}` });
        }
        break;
      }
      default:
        push('invalid_value', `found ${describeValue(found)}; ${issue.message}`);
    }
  }
  return out;
}

/**
 * An unknown key that suggests a missing one says it all: drop the "missing" issue it explains. A
 * refused key (a shared condition reference, `path`) is the whole story of its object: drop the
 * "missing" issues beside it.
 */
function dropMissingSuggested(issues: Issue[]): Issue[] {
  const explained = new Set<string>();
  const refusedParents = new Set<string>();
  const parentOf = (path: string) => path.replace(/(\.[A-Za-z_$][\w$]*|\[[^\]]*\])$/, '');
  for (const issue of issues) {
    if (issue.code === 'forbidden_key') refusedParents.add(parentOf(issue.path));
    const match = /did you mean '([^']+)'\?/.exec(issue.message);
    if (issue.code === 'unknown_key' && match !== null) {
      const parent = issue.path.replace(/(\.[A-Za-z_$][\w$]*|\[[^\]]*\])$/, '');
      explained.add(formatPath([...parsePath(parent), match[1]!]));
    }
  }
  return issues.filter(
    (i) => !(i.code === 'missing_key' && (explained.has(i.path) || refusedParents.has(parentOf(i.path)))),
  );
}

/**
 * Splits a JSON path written by `formatPath` back into segments.
 *
 * @example
 * parsePath('$.rules[2]["a b"]'); // ['rules', 2, 'a b']
 */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out;
}

function describeExpected(errors: readonly ZodIssue[]): string {
  const root = errors.find((e) => e.path.length === 0);
  if (root === undefined) return 'an object of another shape';
  if (root.code === 'invalid_union' && root.errors.length > 0) {
    return [...new Set(root.errors.map((errs) => describeExpected(errs)))].join(' or ');
  }
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
