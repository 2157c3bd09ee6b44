// Writes a month's worth of rated records for the analyst's walkthrough (README "An analyst's
// walkthrough"): `last-month.ndjson` (one event per line) and `profiles.json` in the current directory.
// The records come from the benchmark's W1 generator, deterministic from its seed.
//
//   node examples/analyst/make-log.mjs [subscribers] [events]
import { writeFileSync } from 'node:fs';
import { generateW1 } from '../../bench/workload.mjs';

const subscribers = Number(process.argv[2] ?? 500);
const events = Number(process.argv[3] ?? 6000);
const w1 = generateW1({ subscribers, events, seed: 20261101 });
writeFileSync('last-month.ndjson', `${w1.events.map((e) => JSON.stringify(e)).join('\n')}\n`);
writeFileSync('profiles.json', `${JSON.stringify(w1.profiles, null, 1)}\n`);
console.log(
  `wrote last-month.ndjson (${w1.events.length} events) and profiles.json (${w1.profiles.length} subscribers)`,
);
