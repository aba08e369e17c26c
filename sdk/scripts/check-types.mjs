// Fails when src/schema.d.ts no longer matches ../api-spec/openapi.yaml, so a spec change
// cannot ship with stale client types. Regenerates into a temporary file and compares bytes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const spec = join(root, '..', 'api-spec', 'openapi.yaml');
const committed = join(root, 'src', 'schema.d.ts');

const require = createRequire(import.meta.url);
const pkgJson = require.resolve('openapi-typescript/package.json');
const { bin } = require(pkgJson);
const cli = join(dirname(pkgJson), typeof bin === 'string' ? bin : bin['openapi-typescript']);

const dir = mkdtempSync(join(tmpdir(), 'zhuqi-sdk-types-'));
const fresh = join(dir, 'schema.d.ts');
try {
  const run = spawnSync(process.execPath, [cli, spec, '-o', fresh], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    console.error('check:types: openapi-typescript failed');
    process.exit(2);
  }
  let current = '';
  try {
    current = readFileSync(committed, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  if (readFileSync(fresh, 'utf8') !== current) {
    console.error('src/schema.d.ts is stale: run npm run gen');
    process.exit(1);
  }
  console.log('src/schema.d.ts is up to date with ../api-spec/openapi.yaml');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
