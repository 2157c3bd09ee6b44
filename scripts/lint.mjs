// The lint step: prettier's format check, plus the project rules a formatter cannot see.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

let problems = 0;
try {
  execFileSync('npx', ['prettier', '--check', 'src', 'test', 'examples', 'scripts', 'bench', '*.ts'], {
    stdio: 'inherit',
  });
} catch {
  problems++;
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

// The library never reads the wall clock, the environment or randomness; only src/cli touches the process.
const forbidden = [
  [/\bDate\.now\(\)|new Date\(\)/, 'reads the wall clock'],
  [/Math\.random\(/, 'uses randomness'],
  [/process\.(env|argv|stdout|stderr|exit)/, 'touches the process'],
  [/from 'node:fs'|require\('fs'\)/, 'touches the file system'],
  [/console\./, 'writes to the console'],
];
for (const file of files('src')) {
  if (file.startsWith(join('src', 'cli'))) continue;
  // Comments (TSDoc examples included) may mention what the code must not do.
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  for (const [pattern, what] of forbidden) {
    // The Redis adapter schedules lease renewals by the clock; no decision ever sees it (events carry
    // their own time), and the leases themselves expire on the server's clock.
    if (what === 'reads the wall clock' && file.startsWith(join('src', 'redis'))) continue;
    if (pattern.test(text)) {
      console.error(`${file}: ${what}; only src/cli may`);
      problems++;
    }
  }
  if (file !== join('src', 'rules', 'engine.ts') && /from 'json-rules-engine'/.test(text)) {
    console.error(`${file}: imports json-rules-engine; only src/rules/ may`);
    problems++;
  }
}
if (problems > 0) {
  console.error(`lint: ${problems} problem(s)`);
  process.exit(1);
}
console.log('lint: ok');
