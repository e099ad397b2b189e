// Fails the build when the shipped JavaScript exceeds the budget (issue #4: 150 KB gzipped).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 150 * 1024;
const dir = new URL('../dist/assets/', import.meta.url).pathname;
let total = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
  const size = gzipSync(readFileSync(join(dir, name)), { level: 9 }).length;
  total += size;
  console.log(`budget: ${name} ${(size / 1024).toFixed(1)} KB gzipped`);
}
console.log(`budget: JavaScript ${(total / 1024).toFixed(1)} KB gzipped of ${BUDGET_BYTES / 1024} KB`);
if (total > BUDGET_BYTES) {
  console.error('budget: over the JavaScript budget');
  process.exit(1);
}
