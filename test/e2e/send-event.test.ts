// examples/send-event.sh against the local Worker: it signs a Standard Webhooks event, prints the
// answer, and on a refusal prints the server's problem detail to stderr and exits non-zero.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiJson, ROOT, URL } from './helpers';

const SCRIPT = path.join(ROOT, 'examples/send-event.sh');

function sendEvent(trigger: { id: string; secret: string }, data: unknown) {
  return spawnSync('bash', [SCRIPT, JSON.stringify(data)], {
    env: {
      ...process.env,
      STRIDE_URL: URL,
      STRIDE_TRIGGER_ID: trigger.id,
      STRIDE_TRIGGER_SECRET: trigger.secret,
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('examples/send-event.sh', () => {
  it('prints the created study, and the problem detail (exit 1) when the server refuses the event', async () => {
    const tpl = await apiJson('POST', '/v1/templates', {
      name: 'send-event',
      study: {
        name: 'run-{{sha}}',
        space: { lr: { type: 'float', low: 0.001, high: 1, log: true } },
        metadata: { by: '{{sender}}' },
      },
    });
    const trigger = await apiJson('POST', '/v1/triggers', {
      template_id: tpl.id,
      kind: 'standard',
    });

    const ok = sendEvent(trigger, { sha: 'abc', sender: 'ada' });
    expect(ok.status, ok.stderr).toBe(0);
    const answer = JSON.parse(ok.stdout);
    expect(answer).toMatchObject({ status: 'created', study_id: expect.stringMatching(/^std_/) });
    expect((await apiJson('GET', `/v1/studies/${answer.study_id}`)).name).toBe('run-abc');

    const refused = sendEvent(trigger, { sha: 'def' });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('answered 422');
    expect(refused.stderr).toContain('placeholder {{sender}} not in the event');
  });
});
