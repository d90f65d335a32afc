#!/usr/bin/env node
// Copy the browser libraries the dashboard and the API docs use from
// node_modules into public/vendor/ (ignored by git): ECharts for the charts,
// Swagger UI for /docs. Served by the Worker as static assets, so the pages
// need nothing from the internet. Run by npm start, npm test and npm run deploy.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vendor = path.join(root, 'public', 'vendor');
mkdirSync(vendor, { recursive: true });
const files = [
  ['echarts/dist/echarts.min.js', 'echarts.min.js'],
  ['swagger-ui-dist/swagger-ui-bundle.js', 'swagger-ui-bundle.js'],
  ['swagger-ui-dist/swagger-ui.css', 'swagger-ui.css'],
];
for (const [from, to] of files)
  copyFileSync(path.join(root, 'node_modules', from), path.join(vendor, to));
