// Edge studies whose trials each train for seconds, one after another, on the
// local Worker. This is the regression test for the local queue stall. A trial
// trained for seconds without pausing workerd's event loop. Meanwhile Node
// closed an idle connection of miniflare's loopback server, and the queue
// broker then sent its per-batch log on that dead socket. The request failed,
// the broker's flush never finished, and `stride-edge-trials` delivered
// nothing again: the next trial stayed `running` with 0 epochs, for good.
// Two studies in a row must finish every trial, whatever the machine's speed.
import { describe, expect, it } from 'vitest';
import { apiJson, KEY, sleep, URL } from './helpers';

// About 26 GFLOP per trial (the edge budget is 60): several seconds of training on a laptop core.
const PROBE = {
  model: { kind: 'mlp', hidden: [256, 256], activation: 'relu' },
  task: 'classification',
  data: {
    kind: 'synthetic',
    name: 'blobs',
    n: 2048,
    features: 16,
    classes: 3,
    noise: 0.5,
    seed: 1,
  },
  optimizer: { name: 'adam' },
  batch_size: 32,
  seed: 0,
};
const EPOCHS = 30;

/** GET a study's state; null when the answer does not come within 20 s (a held request counts as no answer). */
async function stateOf(id: string): Promise<string | null> {
  try {
    const res = await fetch(`${URL}/v1/studies/${id}`, {
      headers: { Authorization: `Bearer ${KEY}` },
      signal: AbortSignal.timeout(20_000),
    });
    return res.ok ? ((await res.json()) as { state: string }).state : null;
  } catch {
    return null;
  }
}

describe('edge trials on the local queue', () => {
  it('two edge studies in a row train all their trials to the end', async () => {
    for (const round of [0, 1]) {
      const study = await apiJson('POST', '/v1/studies', {
        name: `edge-queue ${round}`,
        space: { lr: { type: 'categorical', choices: [1e-3, 3e-3] } },
        sampler: { name: 'grid', seed: 0 },
        max_trials: 2,
        executor: { kind: 'edge', epochs: EPOCHS, parallelism: 2, probe: PROBE },
      });
      await apiJson('POST', `/v1/studies/${study.id}/run`);
      // Generous: a few seconds per trial here, minutes on a slow machine. Stalled, it never completes.
      const deadline = Date.now() + 240_000;
      let state: string | null = null;
      while (Date.now() < deadline && (state = await stateOf(study.id)) !== 'completed')
        await sleep(500);
      const trials = await apiJson('GET', `/v1/studies/${study.id}/trials`);
      const list = (trials.trials ?? trials) as { state: string; intermediate: unknown[] }[];
      expect({ round, state, trials: list.map((t) => [t.state, t.intermediate.length]) }).toEqual({
        round,
        state: 'completed',
        trials: [
          ['complete', EPOCHS],
          ['complete', EPOCHS],
        ],
      });
    }
  }, 600_000);
});
