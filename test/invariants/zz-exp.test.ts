import { readFileSync } from 'node:fs';
import { it } from 'vitest';
import { createEngine, loadPolicy, EventSchema } from '../../src/index';
it('x', async () => {
  const policy = loadPolicy(JSON.parse(readFileSync('/work/main/rules/graduated-postpaid.json', 'utf8')));
  const engine = createEngine(policy);
  for (const at of ['2026-02-30T10:00:00Z','2026-13-01T00:00:00Z','2026-03-01T10:00:00','2026-03-01T24:00:00Z','2026-03-01T10:00:00+05:30','2026-03-01T10:00:00.123456Z', '2026-03-01T10:00Z','+275760-09-13T00:00:00Z']) {
    console.log(at, EventSchema.safeParse({type:'tick', id:'a', subscriberId:'s', at}).success, Date.parse(at));
  }
  let s = engine.init({ subscriberId: 's1', homeCountry: 'PL', timeZone: 'Europe/Warsaw', cycleAnchorDay: 1 });
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < 600; i++) {
    const d = await engine.process(s, { type: 'usage', id: 'e' + i, subscriberId: 's1', at: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 3600_000 * 3).toISOString(), service: 'data', country: i % 3 ? 'DE' : 'US', cost: { amount: 900, currency: 'PLN' } });
    s = d.state; n += d.actions.length;

  }
  console.log('ms/event', (performance.now() - t0) / 600, n);
});
