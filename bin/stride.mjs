#!/usr/bin/env node
// The `stride` command (src/cli/main.ts), run through tsx so the TypeScript
// sources need no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
