#!/usr/bin/env node
// `npm start [-- <wrangler dev options>]`: `wrangler dev` with the options given
// (`npm start -- --port 8792`); without --port, wrangler.toml's [dev] port (8787).
// A busy port is one clear line here instead of workerd's stack dump.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** The value of `--name V` or `--name=V` among the arguments. */
function option(name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

function configuredPort() {
  const toml = readFileSync(path.join(root, 'wrangler.toml'), 'utf8');
  const dev = /^\[dev\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml)?.[1] ?? '';
  return /^\s*port\s*=\s*(\d+)/m.exec(dev)?.[1] ?? '8787';
}

const port = Number(option('port') ?? configuredPort());
const ipOption = option('ip');
const host = !ipOption || ipOption === 'localhost' ? '127.0.0.1' : ipOption.replace(/^\[|\]$/g, '');

/** Resolves to the error code when `host:port` cannot be bound (EADDRINUSE, EACCES), else null. */
function bindError() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) => resolve(err.code ?? String(err)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

if (Number.isInteger(port) && port > 0) {
  const error = await bindError();
  if (error === 'EADDRINUSE') {
    console.error(
      `npm start: port ${port} is already in use (another \`npm start\`?): stop it, or serve elsewhere with \`npm start -- --port ${port === 8792 ? 8793 : 8792}\``,
    );
    process.exit(1);
  }
  if (error === 'EACCES') {
    console.error(
      `npm start: no permission to listen on port ${port}: pick another with \`npm start -- --port 8792\``,
    );
    process.exit(1);
  }
}

// stride reads nothing from `Request.cf`: don't fetch it (offline, wrangler prints a stack trace when it can't).
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
// Preloaded into wrangler (whose launcher passes Node options on to the CLI): keeps
// miniflare's loopback server from dropping idle connections, which stopped local queues.
const keepAlive = pathToFileURL(path.join(root, 'scripts/loopback-keepalive.mjs')).href;
const child = spawn(
  process.execPath,
  ['--import', keepAlive, path.join(root, 'node_modules/wrangler/bin/wrangler.js'), 'dev', ...args],
  { cwd: root, stdio: 'inherit' },
);
// Ctrl-C reaches wrangler directly (same process group); a SIGTERM sent to this process is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
