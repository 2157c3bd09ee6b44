import { readFileSync } from 'node:fs';
import type { Action } from '../schema/actions.js';
import type { SubscriberProfile } from '../schema/profile.js';
import type { SubscriberState } from '../schema/state.js';
import type { BatchDecision, SpendcapEngine } from '../engine.js';
import { parseJsonSource } from './locate.js';

/** An input error of the CLI: the message names the file and, where there is one, line:column. */
export class InputFailure extends Error {}

/** The largest policy file the CLI reads (a policy within every other limit is far smaller). */
export const MAX_POLICY_BYTES = 1_048_576;
/** The longest line of an event log: a valid event is a few kilobytes at most (every field is bounded). */
export const MAX_EVENT_LINE_BYTES = 65_536;

/** Reads a file, or standard input for `-`. */
export function readInput(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputFailure(
      `${file === '-' ? 'standard input' : file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** One record of an input file: its value, or why it could not be read, and where it was. */
export interface Record_ {
  readonly line: number;
  readonly value?: unknown;
  readonly error?: string;
}

/**
 * The records of a file of events or profiles: NDJSON (one JSON value per line; blank lines skipped) or
 * one JSON array. A line that is not JSON is kept as an error with its line:column, never dropped.
 *
 * @example
 * readRecords('events.ndjson'); // [{ line: 1, value: {...} }, { line: 2, error: '2:14: ...' }]
 */
export function readRecords(file: string): Record_[] {
  const text = readInput(file);
  const name = file === '-' ? 'stdin' : file;
  const start = text.search(/\S/);
  if (start >= 0 && text[start] === '[') {
    const source = parseJsonSource(text);
    const first = source.errors[0];
    if (first !== undefined)
      throw new InputFailure(
        `${name}:${first.position.line}:${first.position.column}: invalid JSON: ${first.message}`,
      );
    // An array's elements: numbered by the line each starts on.
    const lines = source.elementLines();
    return (source.value as unknown[]).map((value, i) => ({ line: lines[i] ?? 1, value }));
  }
  const out: Record_[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (line.length > MAX_EVENT_LINE_BYTES) {
      out.push({
        line: i + 1,
        error: `${name}:${i + 1}:1: the line is ${line.length} characters long; an event is at most ${MAX_EVENT_LINE_BYTES}`,
      });
      continue;
    }
    try {
      out.push({ line: i + 1, value: JSON.parse(line) });
    } catch {
      const source = parseJsonSource(line);
      const first = source.errors[0];
      out.push({
        line: i + 1,
        error: `${name}:${i + 1}:${first?.position.column ?? 1}: invalid JSON: ${first?.message ?? 'unreadable'}`,
      });
    }
  }
  return out;
}

/** Profiles from a JSON array, NDJSON or an object keyed by subscriber id. */
export function readProfiles(file: string): SubscriberProfile[] {
  const text = readInput(file).trim();
  if (text.startsWith('{') && !text.includes('\n{')) {
    const source = parseJsonSource(text);
    const first = source.errors[0];
    if (first !== undefined)
      throw new InputFailure(
        `${file}:${first.position.line}:${first.position.column}: invalid JSON: ${first.message}`,
      );
    const value = source.value as Record<string, unknown>;
    // One profile, or profiles keyed by id.
    return (
      typeof value['subscriberId'] === 'string' ? [value] : Object.values(value)
    ) as SubscriberProfile[];
  }
  const records = readRecords(file);
  const bad = records.find((r) => r.error !== undefined);
  if (bad !== undefined) throw new InputFailure(bad.error!);
  return records.map((r) => r.value as SubscriberProfile);
}

/** A decision of a simulation: the engine's, with the input line of its event. */
export interface LineDecision extends BatchDecision {
  readonly line: number;
}

/** A progress report on standard error, only on a terminal and only for long inputs. */
export interface Progress {
  update(done: number): void;
  end(): void;
}

/** Inputs over this many events get a progress bar (on a TTY). */
export const PROGRESS_FROM = 100_000;

export function progressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const on = total > PROGRESS_FROM && stream.isTTY === true;
  let last = -1;
  const draw = (done: number) => {
    const share = total === 0 ? 1 : done / total;
    const percent = Math.floor(share * 100);
    if (percent === last) return;
    last = percent;
    const width = 30;
    const full = Math.round(share * width);
    stream.write(
      `\r${label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${percent}% ${done}/${total} events`,
    );
  };
  return {
    update: (done) => on && draw(done),
    end: () => {
      if (!on) return;
      draw(total);
      stream.write('\n');
    },
  };
}

/** Events per `run` call: the states carry from one to the next, as a resumed run would. */
const CHUNK = 50_000;

/**
 * Runs the records through the engine, in chunks (each subscriber's order kept; a resumed run gives
 * what one run gives), with a progress bar. Unreadable records become `rejected` decisions.
 */
export async function replay(
  engine: SpendcapEngine,
  records: readonly Record_[],
  profiles: readonly SubscriberProfile[],
  label: string,
): Promise<{ decisions: LineDecision[]; states: Record<string, SubscriberState> }> {
  const decisions: LineDecision[] = [];
  let states: Record<string, SubscriberState> = {};
  const progress = progressBar(label, records.length);
  for (let from = 0; from < records.length; from += CHUNK) {
    const chunk = records.slice(from, from + CHUNK);
    const readable = chunk.filter((r) => r.error === undefined);
    const result = await engine.run(
      readable.map((r) => r.value),
      profiles,
      states,
    );
    states = { ...result.states };
    let k = 0;
    for (const record of chunk) {
      if (record.error !== undefined) {
        decisions.push({
          line: record.line,
          eventId: null,
          subscriberId: null,
          outcome: 'rejected',
          actions: [],
          issues: [{ code: 'invalid_format', path: '$', message: record.error, severity: 'error' }],
        });
      } else decisions.push({ line: record.line, ...result.decisions[k++]! });
    }
    progress.update(Math.min(records.length, from + CHUNK));
  }
  progress.end();
  return { decisions, states };
}

/** What a simulation did, for people and for machines. */
export interface Summary {
  readonly events: number;
  readonly unreadable: number;
  readonly outcomes: Record<string, number>;
  readonly actions: Record<string, number>;
  /** Per rule, per action kind. */
  readonly byRule: Record<string, Record<string, number>>;
  readonly subscribers: number;
  readonly subscribersRestricted: number;
  /** Hours restricted, summed over every restriction (until its unblock, or the subscriber's last event). */
  readonly hoursRestricted: number;
}

/** An action's scope as `service@zone` pairs joined by commas ('' for an action without one). */
export const scopeKey = (a: Action): string =>
  'scope' in a
    ? (a.scope as readonly { service: string; zone: string }[]).map((p) => `${p.service}@${p.zone}`).join(',')
    : '';

/** Restriction intervals per subscriber: [start, end, action] from each block/throttle to its unblock. */
export function restrictionIntervals(
  decisions: readonly LineDecision[],
  clockOf: (subscriberId: string) => number | null,
): Map<string, { start: number; end: number; action: Action; open: boolean }[]> {
  const out = new Map<string, { start: number; end: number; action: Action; open: boolean }[]>();
  const open = new Map<string, { start: number; action: Action }>();
  for (const d of decisions) {
    for (const a of d.actions) {
      const key = `${a.subscriberId}\u0000${a.capId}\u0000${a.ruleId}\u0000${scopeKey(a)}`;
      if (a.kind === 'block' || a.kind === 'throttle') {
        if (!open.has(key)) open.set(key, { start: Date.parse(a.at), action: a });
      } else if (a.kind === 'unblock') {
        const o = open.get(key);
        if (o === undefined) continue;
        open.delete(key);
        const list = out.get(a.subscriberId) ?? [];
        list.push({ start: o.start, end: Date.parse(a.at), action: o.action, open: false });
        out.set(a.subscriberId, list);
      }
    }
  }
  for (const { start, action } of open.values()) {
    const end = Math.max(start, clockOf(action.subscriberId) ?? start);
    const list = out.get(action.subscriberId) ?? [];
    list.push({ start, end, action, open: true });
    out.set(action.subscriberId, list);
  }
  return out;
}

export function summarize(
  decisions: readonly LineDecision[],
  states: Readonly<Record<string, SubscriberState>>,
): Summary {
  const outcomes: Record<string, number> = { applied: 0, late: 0, duplicate: 0, rejected: 0 };
  const actions: Record<string, number> = {};
  const byRule: Record<string, Record<string, number>> = {};
  let unreadable = 0;
  for (const d of decisions) {
    outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
    if (d.eventId === null && d.issues?.[0]?.code === 'invalid_format') unreadable++;
    for (const a of d.actions) {
      actions[a.kind] = (actions[a.kind] ?? 0) + 1;
      const rule = (byRule[a.ruleId] ??= {});
      rule[a.kind] = (rule[a.kind] ?? 0) + 1;
    }
  }
  const intervals = restrictionIntervals(decisions, (id) => states[id]?.clock ?? null);
  let ms = 0;
  for (const list of intervals.values()) for (const i of list) ms += i.end - i.start;
  return {
    events: decisions.length,
    unreadable,
    outcomes,
    actions,
    byRule,
    subscribers: Object.keys(states).length,
    subscribersRestricted: intervals.size,
    hoursRestricted: Math.round((ms / 3_600_000) * 100) / 100,
  };
}

/** The summary as a few readable lines. */
export function summaryText(s: Summary): string {
  const lines: string[] = [];
  const pairs = (r: Record<string, number>) =>
    Object.entries(r)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  lines.push(
    `events: ${s.events} (${pairs(s.outcomes)})${s.unreadable > 0 ? `, ${s.unreadable} unreadable` : ''}`,
  );
  lines.push(`actions: ${pairs(s.actions)}`);
  const rules = Object.keys(s.byRule).sort();
  if (rules.length > 0) {
    lines.push('actions by rule:');
    const width = Math.max(...rules.map((r) => r.length));
    for (const rule of rules) lines.push(`  ${rule.padEnd(width)}  ${pairs(s.byRule[rule]!)}`);
  }
  lines.push(
    `subscribers: ${s.subscribers}, restricted at some point: ${s.subscribersRestricted}, hours restricted: ${s.hoursRestricted}`,
  );
  return `${lines.join('\n')}\n`;
}
