import fc from 'fast-check';

// One seed per run: fixed in CI (so a red build reproduces), random locally (so new cases turn up),
// always printed when a property fails, and overridable with FC_SEED to replay a failure.
const fromEnv = process.env['FC_SEED'];
const seed = fromEnv !== undefined ? Number(fromEnv) : process.env['CI'] ? 20261124 : Date.now() % 2 ** 31;
const numRuns = process.env['FC_RUNS'] !== undefined ? Number(process.env['FC_RUNS']) : undefined;

fc.configureGlobal({
  seed,
  ...(numRuns !== undefined ? { numRuns } : {}),
  reporter: (details) => {
    if (details.failed) {
      throw new Error(`${fc.defaultReportMessage(details)}\nReplay with FC_SEED=${seed}`);
    }
  },
});
