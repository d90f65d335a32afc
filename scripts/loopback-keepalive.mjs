// Local dev only: keep miniflare's loopback server from closing idle
// keep-alive connections (miniflare < 4.20260730.0, cloudflare/workers-sdk#14848,
// fixed upstream by #14850 the same way). Without this, local queues stop for good.
//
// workerd calls back into Node over the "loopback" HTTP server (logging,
// dev-registry, custom services) and pools those connections. Node closes an
// idle one after `keepAliveTimeout` (5 s); workerd notices only when its event
// loop next polls, and stride's edge trials and range tests run TF.js for
// seconds at a time in that loop. The next loopback request then goes out on
// the dead socket and fails with "Network connection lost". The queue broker
// sends one (its `QUEUE <name> 1/1 (…ms)` log line) after every batch, outside
// its try/catch, so the failure leaves its flush marked pending forever: that
// queue never delivers again until the process restarts (trials stay
// `running` with 0 epochs, lease re-sends are never delivered either).
//
// Imported by scripts/local-worker.mjs (bench, e2e) and vitest.config.ts, and
// preloaded into `wrangler dev` by scripts/start.mjs. It sets
// `keepAliveTimeout = 0` on miniflare's loopback server only (found by its
// request listener, `#handleLoopback`); other servers are left alone.
import http from 'node:http';

const PATCHED = Symbol.for('stride.loopbackKeepAlive');
const LISTENER = '#handleLoopback';

if (!http[PATCHED]) {
  http[PATCHED] = true;
  const createServer = http.createServer;
  http.createServer = function strideCreateServer(...args) {
    const server = createServer.apply(this, args);
    const listener = args.find((a) => typeof a === 'function');
    if (listener?.name === LISTENER) server.keepAliveTimeout = 0;
    return server;
  };
}
