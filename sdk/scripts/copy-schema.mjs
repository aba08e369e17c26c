// tsc never copies hand-written or generated .d.ts inputs to outDir, yet dist/types.d.ts
// imports './schema.js': ship the generated declarations beside it.
import { copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
copyFileSync(join(root, 'src', 'schema.d.ts'), join(root, 'dist', 'schema.d.ts'));
