// Job notices to dispatch_url: signed (HMAC-SHA256 over "<timestamp>.<body>"
// with the study's secret), pushed by the study's Durable Object alarm (never
// inside ask/tell), retried with backoff. A local receiver fails twice, then
// takes the third delivery.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, inject, it } from 'vitest';

const URL = inject('strideUrl');
const KEY = inject('devKey');

async function api(method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(URL.replace(/\/$/, '') + p, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

describe('dispatch_url job notices', () => {
  it('POSTs a signed notice when trials become available, retrying until the receiver takes it', async () => {
    const received: { at: number; headers: Record<string, string | string[] | undefined>; body: string; answered: number }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const answered = received.length < 2 ? 503 : 200;
        received.push({ at: Date.now(), headers: req.headers, body, answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const t0 = Date.now();
      const study = await api('POST', '/v1/studies', {
        name: 'dispatch',
        space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
        max_trials: 4,
        executor: { kind: 'runner', max_parallel: 2, dispatch_url: `http://127.0.0.1:${port}/hook` },
      });
      // The secret is shown once, at creation.
      expect(study.dispatch_secret).toMatch(/^dsec_[A-Za-z0-9_-]{40,}$/);
      expect((await api('GET', `/v1/studies/${study.id}`)).dispatch_secret).toBeUndefined();

      const t = Date.now();
      while (received.filter((r) => r.answered === 200).length === 0 && Date.now() - t < 30_000) await new Promise((r) => setTimeout(r, 100));
      expect(received.map((r) => r.answered)).toEqual([503, 503, 200]);
      // Backoff between attempts: about 1 s, then 2 s.
      expect(received[1].at - received[0].at).toBeGreaterThanOrEqual(800);
      expect(received[2].at - received[1].at).toBeGreaterThanOrEqual(1600);
      expect(received[0].at - t0).toBeLessThan(5_000);
      for (const r of received) {
        const ts = String(r.headers['stride-timestamp']);
        const sig = String(r.headers['stride-signature']);
        const mac = createHmac('sha256', study.dispatch_secret).update(`${ts}.${r.body}`).digest('hex');
        expect(sig).toBe(`v1=${mac}`);
        expect(timingSafeEqual(Buffer.from(sig), Buffer.from(`v1=${mac}`))).toBe(true);
        expect(Math.abs(Number(ts) * 1000 - r.at)).toBeLessThan(10_000);
        const notice = JSON.parse(r.body);
        // max_parallel 2 bounds what can be leased now.
        expect(notice).toMatchObject({ type: 'trials.available', study_id: study.id, available: 2, lease: { method: 'POST', path: '/v1/runners/lease' } });
      }
      // A tampered body does not verify.
      const forged = createHmac('sha256', study.dispatch_secret).update(`${received[2].headers['stride-timestamp']}.${received[2].body.replace('"available":2', '"available":9')}`).digest('hex');
      expect(`v1=${forged}`).not.toBe(received[2].headers['stride-signature']);
      const read = await api('GET', `/v1/studies/${study.id}`);
      expect(read.dispatch).toMatchObject({ pending: false, last: { ok: true, attempt: 3, detail: 'HTTP 200' } });
    } finally {
      server.close();
    }
  });
});
