// The customer stories, replayed the old way and the spendcap way, side by side. Every figure in the
// table is computed by spendcap's measureTimeline from the replayed decisions. Run: npm run demo
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createEngine, loadPolicy, measureTimeline } from 'spendcap';
import { replayLegacy } from './legacy-practice.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));

/** Replays events under a policy the spendcap way; returns timeline entries. */
async function replaySpendcap(policy, profile, events) {
  const engine = createEngine(policy);
  let state = engine.init(profile);
  const entries = [];
  for (const event of events) {
    const decision = await engine.process(state, event);
    state = decision.state;
    entries.push({ at: event.at, eventType: event.type, actions: decision.actions });
  }
  return entries;
}

/** Every story in examples/stories/, each replayed both ways and measured. */
export async function replayStories() {
  const names = (await readdir(here('./'), { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  const stories = [];
  for (const name of names.sort()) {
    const dir = (file) => here(`./${name}/${file}`);
    const story = await readJson(dir('story.json'));
    const profile = await readJson(dir('profile.json'));
    const events = await readJson(dir('events.json'));
    const policy = loadPolicy(await readJson(dir(story.policy)));
    const legacy = loadPolicy(await readJson(dir(story.legacy)));
    const spendcapEntries = await replaySpendcap(policy, profile, events);
    const legacyEntries = await replayLegacy(legacy, profile, events);
    stories.push({
      name,
      title: story.title,
      legacy: measureTimeline(legacyEntries, story.until),
      spendcap: measureTimeline(spendcapEntries, story.until),
      spendcapEntries,
    });
  }
  return stories;
}

const hours = (h) => String(Math.round(h * 10) / 10);
const relief = (list) => (list.length === 0 ? 'never' : list.map(hours).join(', '));

/** The side-by-side table. */
export function formatTable(stories) {
  const header = [
    'story',
    'practice',
    'domestic voice blocked (h)',
    'relief -> unblock (h)',
    'notices before 1st restriction',
    'untold restrictions',
  ];
  const rows = [header];
  for (const s of stories) {
    for (const [practice, m] of [
      ['legacy', s.legacy],
      ['spendcap', s.spendcap],
    ]) {
      rows.push([
        s.title,
        practice,
        hours(m.domesticVoiceBlockedHours),
        relief(m.hoursFromReliefToUnblock),
        String(m.noticesBeforeFirstRestriction),
        String(m.untoldRestrictions),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

export async function main() {
  const stories = await replayStories();
  return { stories, text: `Customer stories, the old way and the spendcap way:\n\n${formatTable(stories)}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log((await main()).text);
}
