// Job notices to dispatch_url: signed (HMAC-SHA256 over "<timestamp>.<body>"
// with the study's secret), pushed by the study's Durable Object alarm (never
// inside ask/tell), retried with backoff. A local receiver fails twice, then
// takes the third delivery.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { apiJson, until } from './helpers';

describe('dispatch_url job notices', () => {
  it('POSTs a signed notice when trials become available, retrying until the receiver takes it', async () => {
    const received: {
      at: number;
      headers: Record<string, string | string[] | undefined>;
      body: string;
      answered: number;
    }[] = [];
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
      const study = await apiJson('POST', '/v1/studies', {
        name: 'dispatch',
        space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
        max_trials: 4,
        executor: {
          kind: 'runner',
          max_parallel: 2,
          dispatch_url: `http://127.0.0.1:${port}/hook`,
        },
      });
      // The secret is shown once, at creation.
      expect(study.dispatch_secret).toMatch(/^dsec_[A-Za-z0-9_-]{40,}$/);
      expect((await apiJson('GET', `/v1/studies/${study.id}`)).dispatch_secret).toBeUndefined();

      const t = Date.now();
      while (received.filter((r) => r.answered === 200).length === 0 && Date.now() - t < 30_000)
        await new Promise((r) => setTimeout(r, 100));
      expect(received.map((r) => r.answered)).toEqual([503, 503, 200]);
      // Backoff between attempts: about 1 s, then 2 s.
      expect(received[1].at - received[0].at).toBeGreaterThanOrEqual(800);
      expect(received[2].at - received[1].at).toBeGreaterThanOrEqual(1600);
      expect(received[0].at - t0).toBeLessThan(5_000);
      for (const r of received) {
        const ts = String(r.headers['stride-timestamp']);
        const sig = String(r.headers['stride-signature']);
        const mac = createHmac('sha256', study.dispatch_secret)
          .update(`${ts}.${r.body}`)
          .digest('hex');
        expect(sig).toBe(`v1=${mac}`);
        expect(timingSafeEqual(Buffer.from(sig), Buffer.from(`v1=${mac}`))).toBe(true);
        expect(Math.abs(Number(ts) * 1000 - r.at)).toBeLessThan(10_000);
        const notice = JSON.parse(r.body);
        // max_parallel 2 bounds what can be leased now.
        expect(notice).toMatchObject({
          type: 'trials.available',
          study_id: study.id,
          available: 2,
          lease: { method: 'POST', path: '/v1/runners/lease' },
        });
      }
      // A tampered body does not verify.
      const forged = createHmac('sha256', study.dispatch_secret)
        .update(
          `${received[2].headers['stride-timestamp']}.${received[2].body.replace('"available":2', '"available":9')}`,
        )
        .digest('hex');
      expect(`v1=${forged}`).not.toBe(received[2].headers['stride-signature']);
      const read = await apiJson('GET', `/v1/studies/${study.id}`);
      expect(read.dispatch).toMatchObject({
        pending: false,
        last: { ok: true, attempt: 3, detail: 'HTTP 200' },
      });

      // Both slots leased, then one trial told: a slot is free again, so a new notice goes out.
      const g0 = await apiJson('POST', '/v1/runners/lease', { study_id: study.id });
      await apiJson('POST', '/v1/runners/lease', { study_id: study.id });
      await apiJson('POST', `/v1/studies/${study.id}/trials/${g0.trial.number}/tell`, {
        value: 1,
        lease_token: g0.lease.token,
      });
      await until('the notice of the freed slot', async () => received.length >= 4, 10_000);
      expect(JSON.parse(received[3].body)).toMatchObject({ study_id: study.id, available: 1 });

      // Without max_parallel a tell frees nothing: no notice beyond the one at creation.
      const unbounded = await apiJson('POST', '/v1/studies', {
        name: 'dispatch-unbounded',
        space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
        max_trials: 4,
        executor: { kind: 'runner', dispatch_url: `http://127.0.0.1:${port}/hook` },
      });
      const mine = () => received.filter((r) => JSON.parse(r.body).study_id === unbounded.id);
      await until('the creation notice', async () => mine().length >= 1, 10_000);
      const g = await apiJson('POST', '/v1/runners/lease', { study_id: unbounded.id });
      await apiJson('POST', `/v1/studies/${unbounded.id}/trials/${g.trial.number}/tell`, {
        value: 1,
        lease_token: g.lease.token,
      });
      await new Promise((r) => setTimeout(r, 1500));
      expect(mine()).toHaveLength(1);
    } finally {
      server.close();
    }
  });
});
