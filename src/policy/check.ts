import { PolicyError, type Issue, type IssueCode } from '../errors.js';
import { FACTS, type FactName } from '../schema/facts.js';
import { COUNTRY_CODES } from '../schema/countries.js';
import { EVENT_TYPES } from '../schema/events.js';
import {
  PolicySchema,
  POLICY_LIMITS,
  type Condition,
  type LeafCondition,
  type PolicyDocument,
  type PolicyScope,
  type Rule,
} from '../schema/policy.js';
import type { Scope } from '../schema/actions.js';
import { protoKeyPath } from '../schema/records.js';
import {
  collectKeys,
  didYouMean,
  formatPath,
  issuesFromZod,
  type IssueContext,
} from '../schema/zod-issues.js';
import { PLACEHOLDERS, resolveTemplateText } from '../explain/template.js';
import type { LoadedCap, LoadedRule, Policy } from './types.js';

/** The outcome of `checkPolicy`: the loaded policy when there is no error, and every issue either way. */
export interface PolicyReport {
  readonly ok: boolean;
  readonly policy?: Policy;
  readonly issues: readonly Issue[];
}

const RESERVED_ZONES = new Set(['home', 'roaming', '*']);
const ISSUE_CONTEXT: IssueContext = {
  knownKeys: collectKeys(PolicySchema),
  forbiddenKeys: {
    path: "json-rules-engine evaluates 'path' as JSONPath, which can run code; every spendcap fact is a scalar",
    params: "fact 'params' are refused: every spendcap fact is a scalar computed by the engine",
    condition: 'shared condition references are refused: write the condition in the rule',
  },
  valueCodes: { fact: 'unknown_fact', operator: 'unknown_operator', type: 'unknown_action_kind' },
};
const LINK_PLACEHOLDERS = ['subscriberId', 'amount', 'actionId'];

/**
 * Checks a policy document (parsed JSON, or its text) without throwing: every issue with its JSON path,
 * code, message and severity, and the loaded policy when there is no error.
 *
 * @example
 * const report = checkPolicy(JSON.parse(fs.readFileSync('rules/graduated-postpaid.json', 'utf8')));
 * if (!report.ok) for (const issue of report.issues) console.log(issue.path, issue.message);
 */
export function checkPolicy(input: unknown): PolicyReport {
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (error) {
      return fail([issue('invalid_format', '$', `the policy is not JSON: ${(error as Error).message}`)]);
    }
  }
  const shapeIssues = checkLimits(json);
  if (shapeIssues.length > 0) return fail(shapeIssues);
  const parsed = PolicySchema.safeParse(json);
  if (!parsed.success) return fail(issuesFromZod(parsed.error.issues, json, ISSUE_CONTEXT));
  const issues = checkSemantics(parsed.data);
  if (issues.some((i) => i.severity === 'error')) return fail(issues);
  const policy = compilePolicy(parsed.data, issues);
  return { ok: true, policy, issues };
}

/**
 * Loads a policy document (parsed JSON, or its text) or throws a `PolicyError` whose `issues` carry
 * JSON paths and messages. Warnings do not stop loading; they are on `policy.warnings`.
 *
 * @example
 * const policy = loadPolicy(JSON.parse(text));
 * const engine = createEngine(policy);
 */
export function loadPolicy(input: unknown): Policy {
  const report = checkPolicy(input);
  if (!report.ok || report.policy === undefined) throw new PolicyError(report.issues);
  return report.policy;
}

function fail(issues: Issue[]): PolicyReport {
  return { ok: false, issues };
}

function issue(
  code: IssueCode,
  path: string,
  message: string,
  severity: 'error' | 'warning' = 'error',
): Issue {
  return { code, path, message, severity };
}

/** Refuses oversized or over-deep documents before zod walks them (a deep tree would overflow its stack). */
function checkLimits(json: unknown): Issue[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return [issue('invalid_type', '$', 'expected the policy to be a JSON object')];
  }
  const doc = json as Record<string, unknown>;
  const out: Issue[] = [];
  const proto = protoKeyPath(json);
  if (proto !== null)
    out.push(
      issue('forbidden_key', formatPath(proto), "key '__proto__' is refused: prototype keys are refused"),
    );
  const count = (key: string, max: number) => {
    const value = doc[key];
    const size = Array.isArray(value)
      ? value.length
      : value && typeof value === 'object'
        ? Object.keys(value).length
        : 0;
    if (size > max)
      out.push(
        issue('limit_exceeded', formatPath([key]), `found ${size} entries; at most ${max} are allowed`),
      );
  };
  count('rules', POLICY_LIMITS.rules);
  count('caps', POLICY_LIMITS.caps);
  count('zones', POLICY_LIMITS.zones);
  count('services', POLICY_LIMITS.services);
  count('templates', POLICY_LIMITS.templates);
  const rules = doc['rules'];
  if (Array.isArray(rules) && rules.length <= POLICY_LIMITS.rules) {
    rules.forEach((rule, index) => {
      if (rule === null || typeof rule !== 'object') return;
      const conditions = (rule as Record<string, unknown>)['conditions'];
      const { depth, leaves } = measure(conditions, POLICY_LIMITS.maxConditionDepth + 1);
      const path = formatPath(['rules', index, 'conditions']);
      if (depth > POLICY_LIMITS.maxConditionDepth) {
        out.push(
          issue(
            'limit_exceeded',
            path,
            `conditions nest deeper than ${POLICY_LIMITS.maxConditionDepth} levels`,
          ),
        );
      } else if (leaves > POLICY_LIMITS.maxConditionsPerRule) {
        out.push(
          issue(
            'limit_exceeded',
            path,
            `found ${leaves} conditions; at most ${POLICY_LIMITS.maxConditionsPerRule} per rule`,
          ),
        );
      }
    });
  }
  return out;
}

/** Depth of all/any/not nesting (stopping at `cap`) and the number of leaves. */
function measure(node: unknown, cap: number): { depth: number; leaves: number } {
  let depth = 0;
  let leaves = 0;
  const stack: Array<[unknown, number]> = [[node, 1]];
  while (stack.length > 0) {
    const [current, level] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const record = current as Record<string, unknown>;
    const children: unknown[] = [];
    for (const key of ['all', 'any'] as const) {
      const list = record[key];
      if (Array.isArray(list)) children.push(...list);
    }
    if ('not' in record) children.push(record['not']);
    if (children.length === 0) {
      leaves++;
      continue;
    }
    depth = Math.max(depth, level);
    if (level > cap) return { depth, leaves };
    for (const child of children) stack.push([child, level + 1]);
    if (leaves > POLICY_LIMITS.maxConditionsPerRule * 4) break;
  }
  return { depth, leaves };
}

function zoneNamesOf(doc: PolicyDocument): string[] {
  return ['home', ...Object.keys(doc.zones), doc.otherZone];
}

/** Expands a policy service list ("*" or names) to names. */
function expandServices(list: PolicyScope['services'], doc: PolicyDocument): string[] {
  return list === '*' ? [...doc.services] : [...list];
}

/** Expands a policy zone list ("*", "roaming" or names) to names. */
function expandZones(list: PolicyScope['zones'], doc: PolicyDocument): string[] {
  const all = zoneNamesOf(doc);
  if (list === '*') return all;
  if (list === 'roaming') return all.filter((z) => z !== 'home');
  return [...list];
}

/**
 * The concrete scope of services × zones, sorted by service then zone.
 *
 * @example
 * expandScope(['data'], ['world', 'eu']); // [{ service: 'data', zone: 'eu' }, { service: 'data', zone: 'world' }]
 */
export function expandScope(services: Iterable<string>, zones: Iterable<string>): Scope {
  const zoneList = [...new Set(zones)].sort();
  const out: Scope = [];
  for (const service of [...new Set(services)].sort())
    for (const zone of zoneList) out.push({ service, zone });
  return out;
}

function leavesOf(condition: Condition, out: LeafCondition[] = []): LeafCondition[] {
  if ('fact' in condition) out.push(condition);
  else if ('all' in condition) for (const c of condition.all) leavesOf(c, out);
  else if ('any' in condition) for (const c of condition.any) leavesOf(c, out);
  else leavesOf(condition.not, out);
  return out;
}

/** Leaves with their JSON paths, for located messages. */
function leavesWithPaths(
  condition: Condition,
  path: (string | number)[],
  out: Array<[LeafCondition, (string | number)[]]> = [],
) {
  if ('fact' in condition) out.push([condition, path]);
  else if ('all' in condition) condition.all.forEach((c, i) => leavesWithPaths(c, [...path, 'all', i], out));
  else if ('any' in condition) condition.any.forEach((c, i) => leavesWithPaths(c, [...path, 'any', i], out));
  else leavesWithPaths(condition.not, [...path, 'not'], out);
  return out;
}

const NUMERIC_OPERATORS = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);

function checkSemantics(doc: PolicyDocument): Issue[] {
  const out: Issue[] = [];
  const at = (...path: (string | number)[]) => formatPath(path);
  const services = new Set(doc.services);
  const zoneNames = zoneNamesOf(doc);
  const zoneSet = new Set(zoneNames);

  doc.services.forEach((service, i) => {
    if (doc.services.indexOf(service) !== i)
      out.push(issue('duplicate_name', at('services', i), `service '${service}' is listed twice`));
  });

  if (RESERVED_ZONES.has(doc.otherZone)) {
    out.push(
      issue(
        'invalid_value',
        at('otherZone'),
        `'${doc.otherZone}' is reserved; name the other zone e.g. "world"`,
      ),
    );
  }
  const zoneOfCountry = new Map<string, string>();
  for (const [zone, countries] of Object.entries(doc.zones)) {
    if (RESERVED_ZONES.has(zone) || zone === doc.otherZone) {
      out.push(
        issue('invalid_value', at('zones', zone), `zone name '${zone}' is reserved or equals otherZone`),
      );
    }
    countries.forEach((country, i) => {
      const other = zoneOfCountry.get(country);
      if (other !== undefined) {
        out.push(
          issue(
            'overlapping_zones',
            at('zones', zone, i),
            other === zone
              ? `country '${country}' is listed twice in zone '${zone}'`
              : `country '${country}' is already in zone '${other}'; zones must not overlap`,
          ),
        );
      } else zoneOfCountry.set(country, zone);
    });
  }

  const checkServiceList = (list: PolicyScope['services'], path: (string | number)[]) => {
    if (list === '*') return;
    list.forEach((service, i) => {
      if (!services.has(service)) {
        out.push(
          issue(
            'unknown_service',
            at(...path, i),
            `unknown service '${service}'${didYouMean(service, services)} (the policy declares ${doc.services.join(', ')})`,
          ),
        );
      }
    });
  };
  const checkZoneList = (list: PolicyScope['zones'], path: (string | number)[]) => {
    if (list === '*' || list === 'roaming') return;
    list.forEach((zone, i) => {
      if (!zoneSet.has(zone)) {
        out.push(
          issue(
            'unknown_zone',
            at(...path, i),
            `unknown zone '${zone}'${didYouMean(zone, [...zoneSet, 'roaming'])} (zones: ${zoneNames.join(', ')}, or "roaming", "*")`,
          ),
        );
      }
    });
  };

  const namesOf: NamesOf = (fact) => {
    if (fact === 'zone' || fact === 'previousZone' || fact === 'eventZone') {
      return { code: 'unknown_zone', what: 'zone', names: zoneNames };
    }
    if (fact === 'eventService') return { code: 'unknown_service', what: 'service', names: doc.services };
    if (fact === 'eventType') return { code: 'invalid_value', what: 'event type', names: EVENT_TYPES };
    if (fact === 'country') return { code: 'invalid_value', what: 'country', names: [...COUNTRY_CODES] };
    return undefined;
  };

  const caps = new Map<string, (typeof doc.caps)[number]>();
  doc.caps.forEach((cap, i) => {
    if (caps.has(cap.id))
      out.push(issue('duplicate_name', at('caps', i, 'id'), `cap id '${cap.id}' is used twice`));
    caps.set(cap.id, cap);
    checkServiceList(cap.services, ['caps', i, 'services']);
    checkZoneList(cap.zones, ['caps', i, 'zones']);
    if (cap.measure === 'quantity' && cap.unit === undefined) {
      out.push(
        issue(
          'missing_key',
          at('caps', i, 'unit'),
          'missing \'unit\': a quantity cap counts usage quantity in one unit, e.g. "MB"',
        ),
      );
    }
    if (cap.measure !== 'quantity' && cap.unit !== undefined) {
      out.push(
        issue('invalid_value', at('caps', i, 'unit'), "'unit' is only for caps whose measure is 'quantity'"),
      );
    }
    if (!doc.rules.some((rule) => rule.cap === cap.id)) {
      out.push(issue('unused', at('caps', i), `cap '${cap.id}' has no rules`, 'warning'));
    }
  });

  const templateKeys = new Set(Object.keys(doc.templates));
  const usedTemplates = new Set<string>();
  const checkTemplateRef = (key: string, path: (string | number)[]) => {
    usedTemplates.add(key);
    if (!templateKeys.has(key)) {
      out.push(
        issue('unknown_template', at(...path), `unknown template '${key}'${didYouMean(key, templateKeys)}`),
      );
    }
  };

  const names = new Map<string, number>();
  doc.rules.forEach((rule, i) => {
    const path: (string | number)[] = ['rules', i];
    if (names.has(rule.name)) {
      out.push(
        issue(
          'duplicate_name',
          at(...path, 'name'),
          `rule name '${rule.name}' is already used by rules[${names.get(rule.name)}]`,
        ),
      );
    } else names.set(rule.name, i);
    const cap = rule.cap === undefined ? undefined : caps.get(rule.cap);
    if (rule.cap !== undefined && cap === undefined) {
      out.push(
        issue(
          'unknown_cap',
          at(...path, 'cap'),
          `unknown cap '${rule.cap}'${didYouMean(rule.cap, caps.keys())}`,
        ),
      );
    }
    checkConditions(rule, path, namesOf, out);
    const kind = rule.event.type;
    if (rule.cap === undefined && kind !== 'notify' && kind !== 'careNote') {
      out.push(
        issue(
          'capless_action',
          at(...path, 'event', 'type'),
          `a rule without a cap may only notify or careNote, found '${kind}'; add "cap"`,
        ),
      );
    }
    switch (rule.event.type) {
      case 'notify':
        checkTemplateRef(rule.event.params.template, [...path, 'event', 'params', 'template']);
        if (rule.event.params.paymentLink === true && cap?.measure === 'quantity') {
          out.push(
            issue(
              'invalid_value',
              at(...path, 'event', 'params', 'paymentLink'),
              `cap '${cap.id}' counts quantity; a payment cannot lower it, so there is no link to attach`,
            ),
          );
        }
        if (rule.event.params.paymentLink === true && doc.paymentLink === undefined) {
          out.push(
            issue(
              'missing_key',
              at(...path, 'event', 'params', 'paymentLink'),
              "paymentLink is true but the policy has no 'paymentLink'",
            ),
          );
        }
        break;
      case 'careNote':
        if (rule.event.params.template !== undefined)
          checkTemplateRef(rule.event.params.template, [...path, 'event', 'params', 'template']);
        break;
      case 'offerPayment':
        if (cap?.measure === 'quantity') {
          out.push(
            issue(
              'invalid_value',
              at(...path, 'event', 'type'),
              `cap '${cap.id}' counts quantity; a payment cannot lower it`,
            ),
          );
        }
        break;
      case 'block':
      case 'throttle': {
        const scope = rule.event.params?.scope;
        if (scope === undefined || cap === undefined) break;
        const scopePath = [...path, 'event', 'params', 'scope'];
        checkServiceList(scope.services, [...scopePath, 'services']);
        checkZoneList(scope.zones, [...scopePath, 'zones']);
        const capServices = new Set(expandServices(cap.services, doc));
        const capZones = new Set(expandZones(cap.zones, doc));
        const outsideServices = expandServices(scope.services, doc).filter(
          (s) => services.has(s) && !capServices.has(s),
        );
        const outsideZones = expandZones(scope.zones, doc).filter((z) => zoneSet.has(z) && !capZones.has(z));
        if (outsideServices.length > 0 || outsideZones.length > 0) {
          const what = [
            ...outsideServices.map((s) => `service '${s}'`),
            ...outsideZones.map((z) => `zone '${z}'`),
          ].join(', ');
          out.push(
            issue(
              'scope_outside_cap',
              at(...scopePath),
              `the scope names ${what}, outside cap '${cap.id}' (a restriction must lie inside its cap's scope)`,
            ),
          );
        }
        break;
      }
    }
  });
  if (doc.rules.length === 0)
    out.push(issue('unused', at('rules'), 'the policy has no rules: it never acts', 'warning'));

  for (const key of ['restricted', 'lifted'] as const) {
    const ref = doc.notices?.[key];
    if (ref !== undefined) checkTemplateRef(ref, ['notices', key]);
  }

  for (const [key, texts] of Object.entries(doc.templates)) {
    for (const [locale, text] of Object.entries(texts)) {
      try {
        Intl.getCanonicalLocales(locale);
      } catch {
        out.push(
          issue('invalid_value', at('templates', key, locale), `'${locale}' is not a BCP 47 locale tag`),
        );
      }
      for (const match of text.matchAll(/\{([^{}]*)\}/g)) {
        const name = match[1]!;
        if (!PLACEHOLDERS.includes(name)) {
          out.push(
            issue(
              'unknown_placeholder',
              at('templates', key, locale),
              `unknown placeholder '{${name}}'${didYouMean(name, PLACEHOLDERS)} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
            ),
          );
        }
      }
    }
    if (resolveTemplateText(texts, doc.locale) === undefined) {
      out.push(
        issue(
          'missing_translation',
          at('templates', key),
          `template '${key}' has no text for the policy's locale '${doc.locale}', its language, or 'en'`,
        ),
      );
    }
    if (!usedTemplates.has(key))
      out.push(issue('unused', at('templates', key), `template '${key}' is not used by any rule`, 'warning'));
  }

  if (doc.paymentLink !== undefined) {
    for (const match of doc.paymentLink.matchAll(/\{([^{}]*)\}/g)) {
      const name = match[1]!;
      if (!LINK_PLACEHOLDERS.includes(name)) {
        out.push(
          issue(
            'unknown_placeholder',
            at('paymentLink'),
            `unknown placeholder '{${name}}'${didYouMean(name, LINK_PLACEHOLDERS)} (known: {subscriberId}, {amount}, {actionId})`,
          ),
        );
      }
    }
    if (!/^https:\/\/[^\s]+$/.test(doc.paymentLink)) {
      out.push(issue('invalid_format', at('paymentLink'), 'expected an https:// URL without spaces'));
    }
  }
  return out;
}

/** The names a string fact can take, for facts whose values a policy names: zones, services, event types. */
type NamesOf = (fact: string) => { code: IssueCode; what: string; names: readonly string[] } | undefined;

/** A condition comparing `zone` with "ue" can never match: refuse it like any other unknown name. */
function checkNamedValues(leaf: LeafCondition, path: (string | number)[], namesOf: NamesOf, out: Issue[]) {
  const known = namesOf(leaf.fact);
  if (known === undefined) return;
  const values = Array.isArray(leaf.value) ? leaf.value : [leaf.value];
  values.forEach((value, i) => {
    if (typeof value !== 'string' || known.names.includes(value)) return;
    const at = formatPath(Array.isArray(leaf.value) ? [...path, 'value', i] : [...path, 'value']);
    out.push(
      issue(
        known.code,
        at,
        `unknown ${known.what} '${value}'${didYouMean(value, known.names)}${known.names.length <= 20 ? ` (known: ${known.names.join(', ')})` : ''}`,
      ),
    );
  });
}

function checkConditions(rule: Rule, rulePath: (string | number)[], namesOf: NamesOf, out: Issue[]) {
  const at = (path: (string | number)[]) => formatPath(path);
  for (const [leaf, path] of leavesWithPaths(rule.conditions, [...rulePath, 'conditions'])) {
    const info = FACTS[leaf.fact as FactName];
    if (rule.cap === undefined && info.level === 'cap') {
      out.push(
        issue(
          'capless_fact',
          at([...path, 'fact']),
          `fact '${leaf.fact}' belongs to a cap; this rule has no "cap"`,
        ),
      );
    }
    const value = leaf.value;
    let compared: { type: string; nullable: boolean } | undefined;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const other = FACTS[value.fact as FactName];
      if (rule.cap === undefined && other.level === 'cap') {
        out.push(
          issue(
            'capless_fact',
            at([...path, 'value', 'fact']),
            `fact '${value.fact}' belongs to a cap; this rule has no "cap"`,
          ),
        );
      }
      compared = other;
    }
    const op = leaf.operator;
    const mismatch = (message: string) => out.push(issue('type_mismatch', at([...path, 'value']), message));
    if (op === 'in' || op === 'notIn') {
      if (!Array.isArray(value)) {
        mismatch(`operator '${op}' needs a list value, found ${value === null ? 'null' : typeof value}`);
        continue;
      }
      checkNamedValues(leaf, path, namesOf, out);
      for (const item of value) {
        if (item !== null && typeof item !== info.type)
          mismatch(`fact '${leaf.fact}' is a ${info.type}; the list holds ${JSON.stringify(item)}`);
      }
      continue;
    }
    if (op === 'contains' || op === 'doesNotContain') {
      out.push(
        issue(
          'type_mismatch',
          at([...path, 'operator']),
          `operator '${op}' needs a list fact, but '${leaf.fact}' is a scalar: the condition is always ${op === 'contains' ? 'false' : 'false too (json-rules-engine refuses non-list facts)'}; use 'in'/'equal'`,
          'warning',
        ),
      );
      continue;
    }
    if (Array.isArray(value)) {
      mismatch(`operator '${op}' compares with one value, found a list (use 'in' for a list)`);
      continue;
    }
    checkNamedValues(leaf, path, namesOf, out);
    const valueType = compared !== undefined ? compared.type : value === null ? 'null' : typeof value;
    if (NUMERIC_OPERATORS.has(op) && (info.type !== 'number' || valueType !== 'number')) {
      mismatch(
        `operator '${op}' compares numbers; fact '${leaf.fact}' is a ${info.type} and the value is a ${valueType}`,
      );
    } else if (valueType === 'null' && !info.nullable) {
      mismatch(`fact '${leaf.fact}' is never null`);
    } else if (valueType !== 'null' && valueType !== info.type) {
      mismatch(`fact '${leaf.fact}' is a ${info.type}; the value is a ${valueType}`);
    }
  }
}

function compilePolicy(doc: PolicyDocument, issues: readonly Issue[]): Policy {
  const zoneOfCountry = new Map<string, string>();
  for (const [zone, countries] of Object.entries(doc.zones))
    for (const c of countries) zoneOfCountry.set(c, zone);
  const byPriority = (a: LoadedRule, b: LoadedRule) => b.priority - a.priority || a.index - b.index;
  const capDocs = new Map(doc.caps.map((cap) => [cap.id, cap]));
  const rules: LoadedRule[] = doc.rules.map((rule, index) => {
    const cap = rule.cap === undefined ? undefined : capDocs.get(rule.cap);
    let scope: Scope | null = null;
    if ((rule.event.type === 'block' || rule.event.type === 'throttle') && cap !== undefined) {
      const s = rule.event.params?.scope ?? { services: cap.services, zones: cap.zones };
      scope = expandScope(expandServices(s.services, doc), expandZones(s.zones, doc));
    }
    const leaves = leavesOf(rule.conditions);
    const facts = new Set<FactName>();
    for (const leaf of leaves) {
      facts.add(leaf.fact as FactName);
      if (leaf.value !== null && typeof leaf.value === 'object' && !Array.isArray(leaf.value))
        facts.add(leaf.value.fact as FactName);
    }
    return {
      name: rule.name,
      capId: rule.cap ?? null,
      priority: rule.priority ?? 1,
      index,
      conditions: rule.conditions,
      event: rule.event,
      scope,
      leaves,
      facts,
    };
  });
  const caps: LoadedCap[] = doc.caps.map((cap) => {
    const services = expandServices(cap.services, doc);
    const zones = expandZones(cap.zones, doc);
    return {
      id: cap.id,
      label: cap.label,
      limit: cap.limit,
      window: cap.window,
      measure: cap.measure ?? 'cost',
      unit: cap.unit ?? null,
      services: new Set(services),
      zones: new Set(zones),
      scope: expandScope(services, zones),
      rules: rules.filter((r) => r.capId === cap.id).sort(byPriority),
    };
  });
  const document = deepFreeze(structuredClone(doc));
  // Loaded rules and caps are shared by every decision: frozen, so no caller can change a scope under us.
  for (const rule of rules) deepFreeze(rule);
  for (const cap of caps) deepFreeze(cap.scope);
  return {
    kind: 'spendcap.policy',
    document,
    id: doc.id,
    version: doc.version,
    currency: doc.currency,
    locale: doc.locale,
    services: [...doc.services],
    zoneNames: zoneNamesOf(doc),
    otherZone: doc.otherZone,
    caps,
    capById: new Map(caps.map((cap) => [cap.id, cap])),
    caplessRules: rules.filter((r) => r.capId === null).sort(byPriority),
    warnings: issues.filter((i) => i.severity === 'warning'),
    zoneOf(country: string, homeCountry: string): string {
      if (country === homeCountry) return 'home';
      return zoneOfCountry.get(country) ?? doc.otherZone;
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
