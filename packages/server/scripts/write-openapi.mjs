// Writes packages/server/openapi.json from src/http/openapi.ts (built into dist/ by `npx tsc -b`).
// test/http/openapi-document.test.ts fails while the file and the served document differ.
import { writeFileSync } from 'node:fs';
import { openApiJson } from '../dist/http/openapi.js';

const target = new URL('../openapi.json', import.meta.url);
writeFileSync(target, openApiJson(''));
console.log(`wrote ${target.pathname}`);
