import type { Issue, IssueCode } from '../errors.js';
import type { LoadedCap, LoadedRule, Policy } from './types.js';
import type { LeafCondition } from '../schema/policy.js';
import { FACTS, type FactName, type FactValue, type Facts } from '../schema/facts.js';
import { compiledOf } from '../rules/conditions.js';
import { getOwn } from '../schema/records.js';
import { MONEY_FACTS } from '../ledger/facts.js';

/**
 * Policy analysis: what a policy can do, found by evaluating its rules on every cell of each cap's fact
 * space, not by sampling.
 *
 * A cell gives every fact the rules read one value. The values of a fact are representatives of the
 * bands between the thresholds the rules compare it with (each threshold, a value just below and just
 * above it, and one beyond either end), the values named in `equal`/`in` lists plus one named nowhere,
 * both booleans, and every zone. Money is one axis, so that its facts stay consistent: a cell's
 * `outstanding` and `paid` give `spend = outstanding + paid`, `usageRatio = outstanding / limit` and
 * `remaining = limit - outstanding`, and every threshold on any of them is mapped onto that axis. Where
 * the rules read the zone, `roaming` follows it, and a move between zones sets `previousZone` and
 * `zoneChanged`. Two rules of different caps meet where their subscriber facts agree.
 *
 * Because every band is tried, a finding holds for the whole band its cell stands for: a rule that
 * matches in no cell cannot fire, whatever the amounts.
 */

/** What `analyzePolicy` may be told. */
export interface AnalyzeOptions {
  /** Cells per cap beyond which that cap is reported as not analysed (default 200,000). */
  readonly maxCells?: number;
}

const DEFAULT_MAX_CELLS = 200_000;

/** The money facts, all on one axis (outstanding, with paid beside it). */
const MONEY: ReadonlySet<FactName> = new Set(MONEY_FACTS);
const ZONE_FACTS: ReadonlySet<FactName> = new Set(['zone', 'roaming', 'previousZone', 'zoneChanged']);
const EVENT_TYPES = ['usage', 'location', 'payment', 'adjustment', 'dispute', 'override', 'tick'];

type Dimension = { readonly facts: readonly FactName[]; readonly values: readonly (readonly FactValue[])[] };

/** A cap's fact space: money points, and the other dimensions (each one or more facts set together). */
interface Space {
  readonly cap: LoadedCap | null;
  readonly outstanding: readonly number[];
  readonly paid: readonly number[];
  readonly dimensions: readonly Dimension[];
  readonly read: ReadonlySet<FactName>;
}

/** One cell: its coordinates, the facts, and which rules of the space match. */
interface Cell {
  readonly o: number;
  readonly p: number;
  readonly picks: readonly number[];
  readonly facts: Facts;
}

const literalsOf = (leaf: LeafCondition): FactValue[] => {
  const value = leaf.value;
  if (Array.isArray(value)) return value as FactValue[];
  if (value !== null && typeof value === 'object') return [];
  return [value as FactValue];
};

/** Points around each threshold: just below, at and just above it, and beyond either end. */
function numericPoints(thresholds: readonly number[], base: readonly number[]): number[] {
  const out = new Set<number>(base);
  for (const t of thresholds) {
    const lo = Math.floor(t);
    const hi = Math.ceil(t);
    for (const v of [lo - 1, lo, hi, hi + 1]) out.add(v);
    out.add(t);
  }
  if (thresholds.length > 0) {
    out.add(Math.floor(Math.min(...thresholds)) - 10);
    out.add(Math.ceil(Math.max(...thresholds)) + 10);
  }
  return [...out].filter(Number.isFinite).sort((a, b) => a - b);
}

/** The facts read by a group of rules, with the literal values they are compared with. */
function thresholdsOf(rules: readonly LoadedRule[]): Map<FactName, FactValue[]> {
  const out = new Map<FactName, FactValue[]>();
  for (const rule of rules) {
    for (const leaf of rule.leaves) {
      const fact = leaf.fact as FactName;
      const list = out.get(fact) ?? [];
      list.push(...literalsOf(leaf));
      out.set(fact, list);
      const value = leaf.value;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const other = (value as { fact: string }).fact as FactName;
        if (!out.has(other)) out.set(other, []);
      }
    }
  }
  return out;
}

/**
 * A threshold on a money fact as an amount outstanding, for a cap of `limit` with `paid` paid (spend is
 * outstanding plus paid); undefined for a fact not on that axis.
 *
 * @example
 * outstandingAt('usageRatio', 0.8, 20_000); // 16000
 */
export function outstandingAt(fact: string, threshold: number, limit: number, paid = 0): number | undefined {
  switch (fact) {
    case 'outstanding':
      return threshold;
    case 'usageRatio':
      return threshold * limit;
    case 'remaining':
      return limit - threshold;
    case 'spend':
      return threshold - paid;
    default:
      return undefined;
  }
}

/** The money points of a cap: every threshold on a money fact, mapped onto outstanding. */
function moneyAxis(
  cap: LoadedCap,
  read: Map<FactName, FactValue[]>,
): { outstanding: number[]; paid: number[] } {
  const nums = (fact: FactName) => (read.get(fact) ?? []).filter((v): v is number => typeof v === 'number');
  const L = cap.limit;
  const paid = numericPoints(nums('paid'), [0]).filter((v) => v >= 0);
  const onAxis: number[] = [];
  for (const fact of ['outstanding', 'usageRatio', 'remaining'] as const)
    for (const t of nums(fact)) onAxis.push(outstandingAt(fact, t, L)!);
  for (const t of nums('limit')) onAxis.push(t);
  for (const t of nums('spend')) for (const p of paid) onAxis.push(outstandingAt('spend', t, L, p)!);
  return { outstanding: numericPoints(onAxis, [-1, 0, L]), paid };
}

function otherString(named: readonly FactValue[], prefix: string): string {
  let candidate = `${prefix}-other`;
  while (named.includes(candidate)) candidate += '-x';
  return candidate;
}

/** The non-money dimensions for the facts `read`, shared by every cap of the policy. */
function dimensionsOf(policy: Policy, read: Map<FactName, FactValue[]>): Dimension[] {
  const dims: Dimension[] = [];
  const zones = policy.zoneNames;
  const usesZone = read.has('zone') || read.has('roaming');
  const usesPrevious = read.has('previousZone') || read.has('zoneChanged');
  if (usesZone && usesPrevious) {
    // Where the subscriber is and was: zoneChanged and roaming follow.
    const values: FactValue[][] = [];
    for (const zone of zones)
      for (const previous of zones) values.push([zone, zone !== 'home', previous, zone !== previous]);
    dims.push({ facts: ['zone', 'roaming', 'previousZone', 'zoneChanged'], values });
  } else {
    if (usesZone) dims.push({ facts: ['zone', 'roaming'], values: zones.map((z) => [z, z !== 'home']) });
    if (read.has('previousZone')) dims.push({ facts: ['previousZone'], values: zones.map((z) => [z]) });
    if (read.has('zoneChanged')) dims.push({ facts: ['zoneChanged'], values: [[false], [true]] });
  }
  for (const [fact, literals] of read) {
    if (MONEY.has(fact) || ZONE_FACTS.has(fact)) continue;
    const info = FACTS[fact];
    let values: FactValue[];
    if (info.type === 'boolean') values = [false, true];
    else if (fact === 'eventType') values = [...EVENT_TYPES];
    else if (fact === 'eventService') values = [...policy.services, null];
    else if (fact === 'eventZone') values = [...zones, null];
    else if (info.type === 'number') {
      const base = fact === 'daysLeftInWindow' ? [0, 31] : [0];
      values = numericPoints(
        literals.filter((v): v is number => typeof v === 'number'),
        base,
      );
      if (fact === 'daysLeftInWindow' || fact === 'openDisputes' || fact === 'tenureMonths')
        values = values.filter((v) => (v as number) >= 0);
    } else {
      const named = [...new Set(literals.filter((v): v is string => typeof v === 'string'))];
      values = [...named, otherString(named, fact)];
    }
    if (info.nullable && !values.includes(null)) values.push(null);
    dims.push({ facts: [fact], values: values.map((v) => [v]) });
  }
  return dims;
}

/** Facts every cell starts from (the values of facts no rule reads). */
function baseFacts(cap: LoadedCap | null): Facts {
  const facts = {} as Record<FactName, FactValue>;
  for (const name of Object.keys(FACTS) as FactName[]) facts[name] = FACTS[name].nullable ? null : 0;
  facts.zone = 'home';
  facts.previousZone = 'home';
  facts.country = 'ZZ';
  facts.roaming = false;
  facts.zoneChanged = false;
  facts.eventType = 'usage';
  facts.optedIn = false;
  facts.agentOverride = false;
  facts.daysLeftInWindow = 15;
  if (cap === null)
    for (const name of Object.keys(FACTS) as FactName[]) if (FACTS[name].level === 'cap') facts[name] = null;
  return facts as Facts;
}

function writeMoney(facts: Record<string, FactValue>, cap: LoadedCap, o: number, p: number): void {
  facts['outstanding'] = o;
  facts['paid'] = p;
  facts['spend'] = o + p;
  facts['limit'] = cap.limit;
  facts['usageRatio'] = o / cap.limit;
  facts['remaining'] = cap.limit - o;
}

function cellCount(space: Space): number {
  let n = space.cap === null ? 1 : space.outstanding.length * space.paid.length;
  for (const d of space.dimensions) n *= d.values.length;
  return n;
}

/** Every cell of a space, in order (money innermost, ascending). */
function* cellsOf(space: Space): Generator<Cell> {
  const picks = space.dimensions.map(() => 0);
  const base = baseFacts(space.cap);
  const os = space.cap === null ? [0] : space.outstanding;
  const ps = space.cap === null ? [0] : space.paid;
  for (;;) {
    const facts = { ...base } as Record<string, FactValue>;
    space.dimensions.forEach((d, i) => d.facts.forEach((f, j) => (facts[f] = d.values[picks[i]!]![j]!)));
    for (let pi = 0; pi < ps.length; pi++) {
      for (let oi = 0; oi < os.length; oi++) {
        const cell = { ...facts };
        if (space.cap !== null) writeMoney(cell, space.cap, os[oi]!, ps[pi]!);
        yield { o: oi, p: pi, picks: [...picks], facts: cell as Facts };
      }
    }
    let i = 0;
    while (i < picks.length) {
      picks[i]!++;
      if (picks[i]! < space.dimensions[i]!.values.length) break;
      picks[i] = 0;
      i++;
    }
    if (i === picks.length) return;
  }
}

const isRestriction = (rule: LoadedRule) => rule.event.type === 'block' || rule.event.type === 'throttle';

/** A cell as words, naming only the facts the rules read. */
function describeCell(cell: Cell, read: ReadonlySet<FactName>, cap: LoadedCap | null): string {
  const parts: string[] = [];
  const f = cell.facts as Record<string, FactValue>;
  if (cap !== null && [...read].some((r) => MONEY.has(r))) {
    const ratio = Math.round((f['usageRatio'] as number) * 10_000) / 100;
    parts.push(`outstanding ${f['outstanding']} of limit ${cap.limit} (usageRatio ${ratio}%)`);
    if (read.has('paid') || read.has('spend')) parts.push(`paid ${f['paid']}`);
  }
  for (const name of read) {
    if (MONEY.has(name)) continue;
    parts.push(`${name} ${JSON.stringify(f[name])}`);
  }
  return parts.length === 0 ? 'always' : parts.join(', ');
}

/**
 * Warnings about what a loaded policy can do, each at the JSON path of the rule or template concerned:
 * rules that can never fire, restrictions with no way out, restrictions the subscriber is told about
 * only by the built-in notice, spend abroad restricting home, a block reached before its warning,
 * conflicting restrictions of one scope, templates missing a language the policy declares, and caps
 * too large to analyse.
 *
 * @example
 * analyzePolicy(loadPolicy(json)); // [] for the shipped packs
 */
export function analyzePolicy(policy: Policy, options: AnalyzeOptions = {}): Issue[] {
  const maxCells = options.maxCells ?? DEFAULT_MAX_CELLS;
  const out: Issue[] = [];
  const doc = policy.document;
  const ruleIndex = new Map<string, number>();
  doc.rules.forEach((r, i) => ruleIndex.set(r.name, i));
  const warn = (code: IssueCode, path: string, message: string) =>
    out.push({ code, path, message, severity: 'warning' });
  const at = (rule: LoadedRule, tail = '') => `$.rules[${ruleIndex.get(rule.name)}]${tail}`;

  const allRules = [...policy.caplessRules, ...policy.caps.flatMap((c) => c.rules)];
  // Subscriber dimensions from every rule, so that two caps' cells can be matched on them.
  const allRead = thresholdsOf(allRules);
  const subscriberRead = new Map([...allRead].filter(([f]) => FACTS[f].level === 'subscriber'));
  const subscriberDims = dimensionsOf(policy, subscriberRead);

  /** Per restricting rule: the subscriber-fact keys of the cells where it matches. */
  const restrictingKeys = new Map<LoadedRule, Set<string>>();
  const hasNotices = doc.notices?.restricted !== undefined;

  const groups: { cap: LoadedCap | null; rules: readonly LoadedRule[] }[] = [
    ...(policy.caplessRules.length > 0 ? [{ cap: null, rules: policy.caplessRules }] : []),
    ...policy.caps.filter((c) => c.rules.length > 0).map((cap) => ({ cap, rules: cap.rules })),
  ];
  for (const { cap, rules } of groups) {
    const read = thresholdsOf(rules);
    const capRead = new Map([...read].filter(([f]) => FACTS[f].level === 'cap' && !MONEY.has(f)));
    const money = cap === null ? { outstanding: [0], paid: [0] } : moneyAxis(cap, read);
    const space: Space = {
      cap,
      outstanding: money.outstanding,
      paid: money.paid,
      dimensions: [...subscriberDims, ...dimensionsOf(policy, capRead)],
      read: new Set(read.keys()),
    };
    const count = cellCount(space);
    const where = cap === null ? 'the rules without a cap' : `cap '${cap.id}'`;
    if (count > maxCells) {
      warn(
        'not_analysed',
        cap === null ? '$.rules' : `$.caps[${doc.caps.findIndex((c) => c.id === cap.id)}]`,
        `not analysed: ${where} spans ${count} cells of facts (over ${maxCells}); split its rules or read fewer facts`,
      );
      continue;
    }
    const tests = rules.map((r) => compiledOf(r.conditions));
    const fired = rules.map(() => false);
    const subscriberPicks = subscriberDims.length;
    const noWayOut = new Map<LoadedRule, Cell>();
    const untold = new Map<LoadedRule, Cell>();
    const conflicts = new Map<string, { a: LoadedRule; b: LoadedRule; cell: Cell }>();
    // Per line of cells (every coordinate but outstanding): the first outstanding point where each
    // rule matches, for "block before warning".
    const firstMatch = new Map<string, Map<LoadedRule, number>>();
    for (const cell of cellsOf(space)) {
      const matches = tests.map((t) => t(cell.facts));
      const subKey = cell.picks.slice(0, subscriberPicks).join(',');
      const lineKey = `${cell.p}|${cell.picks.join(',')}`;
      let line = firstMatch.get(lineKey);
      if (line === undefined) firstMatch.set(lineKey, (line = new Map()));
      const notified = rules.some((r, i) => matches[i] && r.event.type === 'notify');
      rules.forEach((rule, i) => {
        if (!matches[i]) return;
        fired[i] = true;
        if (!line!.has(rule)) line!.set(rule, cell.o);
        if (!isRestriction(rule)) return;
        let keys = restrictingKeys.get(rule);
        if (keys === undefined) restrictingKeys.set(rule, (keys = new Set()));
        keys.add(subKey);
        if (!noWayOut.has(rule) && !liftable(policy, space, cell, tests[i]!)) noWayOut.set(rule, cell);
        if (!hasNotices && !notified && !untold.has(rule)) untold.set(rule, cell);
        rules.forEach((other, j) => {
          if (j <= i || !matches[j] || !isRestriction(other)) return;
          const key = `${rule.name}\u0000${other.name}`;
          if (!conflicts.has(key) && disagree(rule, other)) conflicts.set(key, { a: rule, b: other, cell });
        });
      });
    }
    rules.forEach((rule, i) => {
      if (!fired[i])
        warn(
          'never_fires',
          at(rule, '.conditions'),
          `rule '${rule.name}' can never fire: its conditions hold in none of the ${count} cells of ${where}'s facts`,
        );
    });
    for (const [rule, cell] of noWayOut) {
      warn(
        'no_way_out',
        at(rule),
        `rule '${rule.name}' restricts with no way out when ${describeCell(cell, space.read, cap)}: no payment, opt-in, window end or zone change makes its conditions false`,
      );
    }
    for (const [rule, cell] of untold) {
      warn(
        'untold_restriction',
        at(rule),
        `rule '${rule.name}' restricts when ${describeCell(cell, space.read, cap)} with no notice of the policy's own (no notify rule of ${where} matches, and no notices.restricted template): the subscriber gets only spendcap's built-in English notice`,
      );
    }
    for (const { a, b, cell } of conflicts.values()) {
      warn(
        'conflicting_restrictions',
        at(b),
        `rules '${a.name}' and '${b.name}' both restrict ${sharedPairs(a, b)} when ${describeCell(cell, space.read, cap)}, one as ${restrictionWords(a)} and one as ${restrictionWords(b)}`,
      );
    }
    if (cap !== null) {
      const warnings = rules.filter((r) => r.event.type === 'notify');
      const reported = new Set<LoadedRule>();
      for (const line of firstMatch.values()) {
        for (const rule of rules) {
          if (!isRestriction(rule) || reported.has(rule)) continue;
          const block = line.get(rule);
          if (block === undefined) continue;
          const warned = warnings.map((w) => line.get(w)).filter((o): o is number => o !== undefined);
          const first = warned.length === 0 ? undefined : Math.min(...warned);
          if (first !== undefined && first < block) continue;
          reported.add(rule);
          const amount = space.outstanding[block]!;
          warn(
            'block_before_warning',
            at(rule),
            first === undefined
              ? `rule '${rule.name}' ${restrictionVerb(rule)} at outstanding ${amount} of ${cap.limit} with no warning of cap '${cap.id}' before it`
              : `rule '${rule.name}' ${restrictionVerb(rule)} at outstanding ${amount} of ${cap.limit}, not after the first warning of cap '${cap.id}' (at ${space.outstanding[first]!}): the block threshold is at or below the warning's`,
          );
        }
      }
      // Spend outside home restricting home.
      if ([...cap.zones].some((z) => z !== 'home')) {
        for (const rule of rules) {
          if (!isRestriction(rule)) continue;
          const home = (rule.scope ?? []).filter((p) => p.zone === 'home').map((p) => p.service);
          if (home.length === 0) continue;
          warn(
            'home_restricted',
            at(rule, '.event'),
            `rule '${rule.name}' restricts ${home.join(', ')} at home, but cap '${cap.id}' counts spend outside home: spend abroad can cut services at home (give the block a scope without home)`,
          );
        }
      }
    }
  }

  // Restrictions of different caps that meet on the same subscriber facts and disagree.
  const restricting = [...restrictingKeys.keys()];
  for (let i = 0; i < restricting.length; i++) {
    for (let j = i + 1; j < restricting.length; j++) {
      const a = restricting[i]!;
      const b = restricting[j]!;
      if (a.capId === b.capId || !disagree(a, b)) continue;
      const ka = restrictingKeys.get(a)!;
      if (![...restrictingKeys.get(b)!].some((k) => ka.has(k))) continue;
      warn(
        'conflicting_restrictions',
        at(b),
        `rules '${a.name}' (cap '${a.capId}') and '${b.name}' (cap '${b.capId}') can both restrict ${sharedPairs(a, b)} at once, one as ${restrictionWords(a)} and one as ${restrictionWords(b)}`,
      );
    }
  }

  // Templates missing a language the policy declares (its locale and every locale its templates use).
  const declared = new Set<string>([doc.locale]);
  for (const texts of Object.values(doc.templates))
    for (const locale of Object.keys(texts)) declared.add(locale);
  for (const [key, texts] of Object.entries(doc.templates)) {
    for (const locale of declared) {
      const language = locale.split('-')[0]!;
      if (getOwn(texts, locale) !== undefined || getOwn(texts, language) !== undefined) continue;
      warn(
        'missing_translation',
        `$.templates[${JSON.stringify(key)}]`,
        `template '${key}' has no text in '${locale}', which the policy declares: a subscriber in '${locale}' gets ${getOwn(texts, 'en') !== undefined ? 'the English text' : 'another language'}`,
      );
    }
  }
  return out;
}

/** Whether some move out of the subscriber's reach makes `test` false from `cell`. */
function liftable(policy: Policy, space: Space, cell: Cell, test: (f: Facts) => boolean): boolean {
  const f = cell.facts as Record<string, FactValue>;
  const moves: Record<string, FactValue>[] = [];
  if (space.cap !== null) {
    const o = f['outstanding'] as number;
    const p = f['paid'] as number;
    // A payment of what is outstanding (or more).
    for (const paidOff of [0, -1]) {
      if (o > paidOff) {
        const m = { ...f };
        writeMoney(m, space.cap, paidOff, p + o - paidOff);
        m['eventType'] = 'payment';
        moves.push(m);
      }
    }
    // The window ends: a new one starts empty.
    const m = { ...f };
    writeMoney(m, space.cap, 0, 0);
    m['daysLeftInWindow'] = 31;
    m['eventType'] = 'tick';
    moves.push(m);
  }
  // An opt-in.
  moves.push({ ...f, optedIn: true, eventType: 'override' });
  // A move to another zone.
  for (const zone of policy.zoneNames) {
    if (zone === f['zone']) continue;
    moves.push({
      ...f,
      zone,
      roaming: zone !== 'home',
      previousZone: f['zone'] as string,
      zoneChanged: true,
      eventZone: zone,
      eventType: 'location',
    });
  }
  return moves.some((m) => !test(m as Facts));
}

/**
 * Whether two restricting rules would ask for different things of a shared (service, zone): two
 * throttles to different speeds (which one holds?). A block with a throttle is an escalation, not a
 * conflict: the block holds while it is in force, and the throttle when the block lifts.
 */
function disagree(a: LoadedRule, b: LoadedRule): boolean {
  const pairs = new Set((a.scope ?? []).map((p) => `${p.service}@${p.zone}`));
  if (!(b.scope ?? []).some((p) => pairs.has(`${p.service}@${p.zone}`))) return false;
  return (
    a.event.type === 'throttle' && b.event.type === 'throttle' && restrictionWords(a) !== restrictionWords(b)
  );
}

function restrictionWords(rule: LoadedRule): string {
  const event = rule.event;
  return event.type === 'throttle' ? `a throttle to ${event.params.kbps} kbps` : 'a block';
}

function restrictionVerb(rule: LoadedRule): string {
  const event = rule.event;
  return event.type === 'throttle' ? `throttles to ${event.params.kbps} kbps` : 'blocks';
}

function sharedPairs(a: LoadedRule, b: LoadedRule): string {
  const pairs = new Set((a.scope ?? []).map((p) => `${p.service}@${p.zone}`));
  return (b.scope ?? [])
    .map((p) => `${p.service}@${p.zone}`)
    .filter((k) => pairs.has(k))
    .join(', ');
}
