// Outbound notifications end to end: a study's events reach a local receiver
// as signed Standard Webhooks from the notifications queue, retried with
// backoff; the delivery log shows each attempt; a receiver that keeps failing
// gets its subscription disabled (NOTIFY_DISABLE_AFTER is 3 for this Worker).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { apiJson, until } from './helpers';

/** A receiver answering `answers[i]` to the i-th request (the last one after that). */
async function receiver(answers: number[]) {
  const got: { headers: IncomingHttpHeaders; body: string; at: number }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(answers[Math.min(got.length - 1, answers.length - 1)]).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => server.close(),
  };
}

describe('outbound notifications', () => {
  it('delivers study.completed signed, after a receiver fails twice; the log shows three attempts', async () => {
    const rx = await receiver([500, 503, 200]);
    try {
      const study = await apiJson('POST', '/v1/studies', {
        name: 'notify-me',
        space: { lr: { type: 'float', low: 0.01, high: 1 } },
        max_trials: 2,
      });
      const sub = await apiJson('POST', '/v1/subscriptions', {
        url: rx.url,
        events: ['study.completed'],
        study_id: study.id,
      });
      expect(sub).toMatchObject({
        state: 'active',
        events: ['study.completed'],
        study_id: study.id,
      });
      expect(sub.secret).toMatch(/^whsec_/);
      for (let i = 0; i < 2; i++) {
        const t = await apiJson('POST', `/v1/studies/${study.id}/ask`);
        await apiJson('POST', `/v1/studies/${study.id}/trials/${t.number}/tell`, {
          value: 1 - i / 10,
        });
      }
      await until('the third delivery', async () => rx.got.length >= 3);
      // Retried with backoff: about 1 s, then 2 s apart.
      expect(rx.got[1].at - rx.got[0].at).toBeGreaterThanOrEqual(800);
      expect(rx.got[2].at - rx.got[1].at).toBeGreaterThanOrEqual(1600);
      const wh = new Webhook(sub.secret);
      for (const r of rx.got) {
        const payload = wh.verify(r.body, r.headers as Record<string, string>) as any;
        expect(payload.type).toBe('study.completed');
        expect(payload.data.study).toMatchObject({
          id: study.id,
          name: 'notify-me',
          n_trials: 2,
          best_trial: { number: 1, value: 0.9 },
        });
      }
      // The same message id on every attempt, so the receiver can dedupe.
      expect(new Set(rx.got.map((r) => r.headers['webhook-id'])).size).toBe(1);
      await until(
        'the log',
        async () =>
          (await apiJson('GET', `/v1/subscriptions/${sub.id}/deliveries`)).deliveries.length >= 3,
      );
      const { deliveries } = await apiJson('GET', `/v1/subscriptions/${sub.id}/deliveries`);
      expect(deliveries.map((d: any) => [d.attempt, d.ok, d.response_status]).reverse()).toEqual([
        [1, false, 500],
        [2, false, 503],
        [3, true, 200],
      ]);
      expect((await apiJson('GET', `/v1/subscriptions/${sub.id}`)).consecutive_failures).toBe(0);
    } finally {
      rx.close();
    }
  });

  it('sends best_improved and trial.failed to a project-wide subscription; disables one that keeps failing', async () => {
    const ok = await receiver([200]);
    const broken = await receiver([500]);
    try {
      const good = await apiJson('POST', '/v1/subscriptions', {
        url: ok.url,
        events: ['study.best_improved', 'trial.failed'],
      });
      const bad = await apiJson('POST', '/v1/subscriptions', {
        url: broken.url,
        events: ['trial.failed'],
      });
      const study = await apiJson('POST', '/v1/studies', {
        name: 'events',
        space: { lr: { type: 'float', low: 0.01, high: 1 } },
      });
      const t0 = await apiJson('POST', `/v1/studies/${study.id}/ask`);
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t0.number}/tell`, { value: 2 });
      const t1 = await apiJson('POST', `/v1/studies/${study.id}/ask`);
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t1.number}/tell`, {
        state: 'failed',
        error: 'CUDA out of memory',
      });
      const t2 = await apiJson('POST', `/v1/studies/${study.id}/ask`);
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t2.number}/tell`, { value: 1 });
      const t3 = await apiJson('POST', `/v1/studies/${study.id}/ask`);
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t3.number}/tell`, { value: 3 }); // not an improvement
      await until('three events at the good receiver', async () => ok.got.length >= 3);
      const events = ok.got.map((r) => JSON.parse(r.body));
      const mine = events.filter((e) => e.data.study.id === study.id);
      expect(mine.map((e) => e.type).sort()).toEqual([
        'study.best_improved',
        'study.best_improved',
        'trial.failed',
      ]);
      const improved = mine
        .filter((e) => e.type === 'study.best_improved')
        .map((e) => [e.data.trial.number, e.data.previous_best]);
      expect(improved.sort()).toEqual([
        [0, null],
        [2, 2],
      ]);
      expect(mine.find((e) => e.type === 'trial.failed').data.trial).toMatchObject({
        number: 1,
        error: 'CUDA out of memory',
      });
      // The broken receiver: three failed attempts in a row disable the subscription, which says why.
      await until(
        'the subscription to be disabled',
        async () => (await apiJson('GET', `/v1/subscriptions/${bad.id}`)).state === 'disabled',
      );
      const disabled = await apiJson('GET', `/v1/subscriptions/${bad.id}`);
      expect(disabled.disabled_reason).toMatch(
        /disabled after 3 failed deliveries in a row \(last: HTTP 500\)/,
      );
      // (Other tests' failed trials reach this project-wide subscription too: at least the three that disabled it.)
      expect(broken.got.length).toBeGreaterThanOrEqual(3);
      expect((await apiJson('POST', `/v1/subscriptions/${bad.id}/enable`)).state).toBe('active');
      expect((await apiJson('GET', `/v1/subscriptions/${good.id}`)).state).toBe('active');
    } finally {
      ok.close();
      broken.close();
    }
  });
});
