import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The newest modification time under a directory. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/**
 * The tests that run the built CLI as a user would need `dist/`: build it once per test run when it is
 * missing or older than the sources (`.ci/run` has built it already, so this costs nothing there).
 */
export default function setup(): void {
  let built = 0;
  try {
    built = statSync('dist/cli.js').mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newest('src')) return;
  execFileSync(process.execPath, ['node_modules/tsup/dist/cli-default.js', '--silent'], { stdio: 'inherit' });
}
