import { readFile } from 'node:fs/promises';
import { createEngine, loadPolicy } from 'spendcap';

export async function main() {
  // 1. Load a policy: loadPolicy throws a PolicyError listing every issue with its JSON path.
  const policyUrl = new URL('../rules/graduated-postpaid.json', import.meta.url);
  const policy = loadPolicy(JSON.parse(await readFile(policyUrl, 'utf8')));
  const engine = createEngine(policy);

  // 2. One state per subscriber: plain JSON, store it anywhere.
  let state = engine.init({
    subscriberId: 'pl-48601000002',
    homeCountry: 'PL',
    timeZone: 'Europe/Warsaw',
    cycleAnchorDay: 1,
    locale: 'en',
  });

  // 3. Feed it rated usage, locations and payments; act on the actions that come back.
  const events = [
    {
      type: 'location',
      id: 'l1',
      subscriberId: 'pl-48601000002',
      at: '2026-11-05T08:00:00+01:00',
      country: 'IT',
    },
    {
      type: 'usage',
      id: 'u1',
      subscriberId: 'pl-48601000002',
      at: '2026-11-05T09:00:00+01:00',
      service: 'data',
      country: 'IT',
      cost: { amount: 20500, currency: 'PLN' },
    },
    {
      type: 'payment',
      id: 'p1',
      subscriberId: 'pl-48601000002',
      at: '2026-11-05T09:30:00+01:00',
      amount: 20500,
      currency: 'PLN',
      reference: 'top-up',
    },
  ];
  const log = [];
  for (const event of events) {
    const decision = await engine.process(state, event);
    state = decision.state;
    for (const action of decision.actions) log.push(`${event.id} ${action.kind}: ${action.because.text}`);
  }
  return { text: log.join('\n'), state, explanation: engine.explain(state) };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await main()).text);
