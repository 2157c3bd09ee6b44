import type { Policy, LoadedCap } from '../policy/types.js';
import { outstandingAt } from '../policy/analyze.js';
import type { Action } from '../schema/actions.js';
import type { SubscriberProfile } from '../schema/profile.js';
import type { SpendcapEngine } from '../engine.js';
import { restrictionIntervals, type LineDecision, type Summary } from './replay.js';

/** One point of a subscriber's timeline: after an event, each cap's outstanding amount. */
interface Point {
  readonly at: number;
  readonly outstanding: Readonly<Record<string, number>>;
}

interface Threshold {
  readonly rule: string;
  readonly amount: number;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The amounts (on the outstanding axis) at which a cap's rules compare money. */
export function thresholdsOf(cap: LoadedCap): Threshold[] {
  const out: Threshold[] = [];
  for (const rule of cap.rules) {
    for (const leaf of rule.leaves) {
      if (typeof leaf.value !== 'number') continue;
      const t = leaf.value;
      // (The line is drawn for nothing paid: spend is then the amount outstanding.)
      const amount = outstandingAt(leaf.fact, t, cap.limit);
      if (amount === undefined) continue;
      // Rules at the same amount share one line.
      const same = out.findIndex((t) => t.amount === amount);
      if (same < 0) out.push({ rule: rule.name, amount });
      else if (!out[same]!.rule.split(', ').includes(rule.name))
        out[same] = { rule: `${out[same]!.rule}, ${rule.name}`, amount };
    }
  }
  return out;
}

/** Each subscriber's points, replayed with `process` (a fresh engine state per subscriber). */
async function timelines(
  engine: SpendcapEngine,
  events: readonly { line: number; value: unknown }[],
  profiles: ReadonlyMap<string, SubscriberProfile>,
  chosen: ReadonlySet<string>,
): Promise<Map<string, Point[]>> {
  const out = new Map<string, Point[]>();
  const states = new Map<string, ReturnType<SpendcapEngine['init']>>();
  for (const { value } of events) {
    const id = (value as { subscriberId?: unknown } | null)?.subscriberId;
    if (typeof id !== 'string' || !chosen.has(id)) continue;
    let state = states.get(id);
    if (state === undefined) {
      const profile = profiles.get(id);
      if (profile === undefined) continue;
      state = engine.init(profile);
    }
    const decision = await engine.process(state, value);
    state = decision.state;
    states.set(id, state);
    if (decision.outcome === 'rejected' || state.clock === null) continue;
    const explained = engine.explain(state);
    const outstanding: Record<string, number> = {};
    for (const [capId, facts] of Object.entries(explained.caps))
      outstanding[capId] = (facts['outstanding'] as number | null) ?? 0;
    const list = out.get(id) ?? [];
    list.push({ at: state.clock, outstanding });
    out.set(id, list);
  }
  return out;
}

const W = 720;
const H = 200;
const PAD = { left: 70, right: 16, top: 16, bottom: 28 };

function chart(
  policy: Policy,
  cap: LoadedCap,
  points: readonly Point[],
  actions: readonly Action[],
  bands: readonly { start: number; end: number; action: Action; open: boolean }[],
  from: number,
  to: number,
): string {
  const thresholds = thresholdsOf(cap);
  const values = points.map((p) => p.outstanding[cap.id] ?? 0);
  const top = Math.max(cap.limit * 1.1, ...values, ...thresholds.map((t) => t.amount)) || 1;
  const span = Math.max(1, to - from);
  const x = (t: number) => PAD.left + ((t - from) / span) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (Math.max(0, v) / top) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  const mine = bands.filter((b) => b.action.capId === cap.id);
  for (const b of mine) {
    parts.push(
      `<rect class="band" x="${x(b.start).toFixed(1)}" y="${PAD.top}" width="${Math.max(2, x(b.end) - x(b.start)).toFixed(1)}" height="${H - PAD.top - PAD.bottom}"><title>${esc(`${b.action.kind} by ${b.action.ruleId} from ${new Date(b.start).toISOString()}${b.open ? ' (still in force)' : ` to ${new Date(b.end).toISOString()}`}: ${b.action.because.text}`)}</title></rect>`,
    );
  }
  for (const t of thresholds) {
    parts.push(
      `<line class="threshold" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t.amount).toFixed(1)}" y2="${y(t.amount).toFixed(1)}"><title>${esc(`${t.rule}: ${t.amount}`)}</title></line>`,
      `<text class="label" x="${W - PAD.right - 4}" y="${(y(t.amount) - 3).toFixed(1)}" text-anchor="end">${esc(t.rule)}</text>`,
    );
  }
  if (points.length > 0) {
    // A step line: the amount holds until the next event.
    let d = `M${x(points[0]!.at).toFixed(1)},${y(values[0]!).toFixed(1)}`;
    for (let i = 1; i < points.length; i++)
      d += ` H${x(points[i]!.at).toFixed(1)} V${y(values[i]!).toFixed(1)}`;
    d += ` H${x(to).toFixed(1)}`;
    parts.push(`<path class="spend" d="${d}"/>`);
  }
  const notices = actions.filter((a) => a.kind === 'notify' && (a.capId === cap.id || a.capId === null));
  for (const n of notices) {
    const t = Date.parse(n.at);
    const message = n.kind === 'notify' ? n.message : '';
    parts.push(
      `<circle class="notice" cx="${x(t).toFixed(1)}" cy="${PAD.top + 6}" r="5"><title>${esc(`${n.ruleId} at ${n.at}: ${message}`)}</title></circle>`,
    );
  }
  const axis = [
    `<line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}"/>`,
    `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}"/>`,
    `<text class="label" x="${PAD.left - 6}" y="${y(0)}" text-anchor="end">0</text>`,
    `<text class="label" x="${PAD.left - 6}" y="${y(cap.limit).toFixed(1)}" text-anchor="end">${cap.limit}</text>`,
    `<text class="label" x="${PAD.left}" y="${H - 8}">${esc(new Date(from).toISOString().slice(0, 16))}</text>`,
    `<text class="label" x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${esc(new Date(to).toISOString().slice(0, 16))}</text>`,
  ];
  return `<figure><figcaption>${esc(cap.label)} (${esc(cap.id)}, limit ${cap.limit} ${esc(cap.unit ?? policy.currency)} minor units)</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" data-cap="${esc(cap.id)}" data-points="${points.length}" data-bands="${mine.length}" data-notices="${notices.length}" data-thresholds="${thresholds.length}">${axis.join('')}${parts.join('')}</svg></figure>`;
}

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}
figure{margin:8px 0}figcaption{font-size:12px;color:#555}svg{background:#fcfcfc;border:1px solid #ddd}
.spend{fill:none;stroke:#1f5fbf;stroke-width:2}.threshold{stroke:#c77700;stroke-dasharray:4 3}.band{fill:#d33;opacity:.18}
.notice{fill:#2a9d4b}.axis{stroke:#888}.label{font-size:10px;fill:#555}.subscriber{border-top:1px solid #eee;padding-top:6px}`;

/**
 * One self-contained HTML page (no network): the summary tables and, per subscriber, an SVG timeline
 * per cap of the outstanding amount against each threshold the rules name, with restriction bands and
 * notices (hover for the texts).
 */
export async function renderReport(input: {
  readonly engine: SpendcapEngine;
  readonly policy: Policy;
  readonly records: readonly { line: number; value?: unknown }[];
  readonly profiles: readonly SubscriberProfile[];
  readonly decisions: readonly LineDecision[];
  readonly summary: Summary;
  readonly limit: number;
}): Promise<{ html: string; subscribers: number }> {
  const { engine, policy, decisions, summary } = input;
  const profiles = new Map(input.profiles.map((p) => [p.subscriberId, p]));
  const actionsBy = new Map<string, Action[]>();
  for (const d of decisions)
    for (const a of d.actions) {
      const list = actionsBy.get(a.subscriberId) ?? [];
      list.push(a);
      actionsBy.set(a.subscriberId, list);
    }
  // Subscribers with actions first (restricted ones first of those), up to the limit.
  const restricted = new Set(
    [...actionsBy]
      .filter(([, as]) => as.some((a) => a.kind === 'block' || a.kind === 'throttle'))
      .map(([id]) => id),
  );
  const chosenList = [...actionsBy.keys()]
    .sort((a, b) => Number(restricted.has(b)) - Number(restricted.has(a)) || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, input.limit);
  const chosen = new Set(chosenList);
  const readable = input.records.filter((r): r is { line: number; value: unknown } => 'value' in r);
  const points = await timelines(engine, readable, profiles, chosen);
  const bands = restrictionIntervals(decisions, (id) => points.get(id)?.at(-1)?.at ?? null);
  const sections: string[] = [];
  for (const id of chosenList) {
    const list = points.get(id) ?? [];
    const acts = actionsBy.get(id) ?? [];
    const times = [...list.map((p) => p.at), ...acts.map((a) => Date.parse(a.at))];
    if (times.length === 0) continue;
    const from = Math.min(...times);
    const to = Math.max(...times, from + 3_600_000);
    const charts = policy.caps.map((cap) => chart(policy, cap, list, acts, bands.get(id) ?? [], from, to));
    const rows = acts.map((a) => [a.at, a.kind, a.ruleId, a.capId ?? '', a.because.text]);
    sections.push(
      `<section class="subscriber" data-subscriber="${esc(id)}"><h2>${esc(id)}</h2>${charts.join('')}${table(['at', 'action', 'rule', 'cap', 'because'], rows)}</section>`,
    );
  }
  const outcomeRows = Object.entries(summary.outcomes).map(([k, n]) => [k, n]);
  const ruleRows = Object.entries(summary.byRule)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([rule, kinds]) => Object.entries(kinds).map(([kind, n]) => [rule, kind, n]));
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spendcap simulation: ${esc(policy.id)} ${esc(policy.version)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<style>${STYLE}</style></head><body>
<h1>spendcap simulation: policy ${esc(policy.id)} (${esc(policy.version)})</h1>
<p>${summary.events} events, ${summary.subscribers} subscribers, ${summary.subscribersRestricted} restricted at some point, ${summary.hoursRestricted} hours restricted in all. Timelines: ${sections.length} subscriber(s)${actionsBy.size > sections.length ? ` of the ${actionsBy.size} with actions (raise --report-limit for more)` : ''}; blue: outstanding amount, dashed: the thresholds the rules name, red: restrictions in force, green: notices (hover for the texts).</p>
<h2>Outcomes</h2>${table(['outcome', 'events'], outcomeRows)}
<h2>Actions by kind</h2>${table(['kind', 'actions'], Object.entries(summary.actions))}
<h2>Actions by rule</h2>${table(['rule', 'kind', 'actions'], ruleRows)}
${sections.join('\n')}
<script>document.body.dataset.timelines = String(document.querySelectorAll('section.subscriber svg').length);</script>
</body></html>
`;
  return { html, subscribers: sections.length };
}
