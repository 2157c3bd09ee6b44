// The roaming trip: a Polish subscriber travels to Spain, passes the warning and the cap on roaming
// data, keeps calling, comes home, and pays through the link. Run: npm run demo
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createEngine, loadPolicy } from 'spendcap';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));

/** Replays the trip and returns the decisions with their events. */
export async function replayTrip() {
  const policy = loadPolicy(await readJson(here('../../rules/graduated-postpaid.json')));
  const profile = await readJson(here('./profile.json'));
  const events = await readJson(here('./events.json'));
  const engine = createEngine(policy);
  let state = engine.init(profile);
  const steps = [];
  for (const event of events) {
    const decision = await engine.process(state, event);
    state = decision.state;
    steps.push({ event, decision });
  }
  return { engine, profile, steps, state };
}

function describeEvent(event) {
  const money = (minor) => `${(minor / 100).toFixed(2)} PLN`;
  switch (event.type) {
    case 'usage':
      return `${event.service} in ${event.country}, ${money(event.cost.amount)}`;
    case 'location':
      return `attached to a network in ${event.country}`;
    case 'payment':
      return `payment of ${money(event.amount)} (${event.reference})`;
    default:
      return event.type;
  }
}

/** The timeline a person can read: time, event, each action with its one-line reason. */
export function formatTimeline({ profile, steps }) {
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: profile.timeZone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const lines = [
    `Roaming trip of ${profile.subscriberId} (home ${profile.homeCountry}, ${profile.timeZone})`,
    '',
  ];
  for (const { event, decision } of steps) {
    lines.push(`${time.format(new Date(event.at))}  ${describeEvent(event)}  [${decision.outcome}]`);
    for (const action of decision.actions) {
      const scope = action.scope ? ` ${action.scope.map((p) => `${p.service}@${p.zone}`).join(',')}` : '';
      const extra = action.kind === 'unblock' ? ` (cause: ${action.cause})` : '';
      lines.push(`    -> ${action.kind}${scope}${extra}: ${action.because.text}`);
      if (action.kind === 'notify')
        lines.push(`       message (${action.channels.join('+')}): ${action.message}`);
      if (action.kind === 'careNote') lines.push(`       care note (${action.queue}): ${action.summary}`);
      if (action.kind === 'offerPayment') lines.push(`       payment link: ${action.link}`);
    }
  }
  return lines.join('\n');
}

/** Every example exports `main`: it returns what it would print, so test/examples.test.ts can run it. */
export async function main() {
  const trip = await replayTrip();
  return { trip, text: `${formatTimeline(trip)}\n\nNow: ${trip.engine.explain(trip.state).text}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log((await main()).text);
}
