import { makeSampler } from '../src/tuning/samplers/index';
import type { FrozenTrial } from '../src/tuning/types';
import { RandomSampler } from '../src/tuning/samplers/random';
const space: any = { lr: { type: 'float', low: 1e-5, high: 1, log: true }, weight_decay: { type: 'float', low: 1e-6, high: 0.1, log: true }, momentum: { type: 'float', low: 0, high: 0.99 }, batch_size: { type: 'int', low: 16, high: 512, log: true } };
const r = new RandomSampler(); const trials: FrozenTrial[] = [];
for (let i = 0; i < 500; i++) { const p = r.sample({ space, trials, direction: 'minimize', seed: 1, trialNumber: i }); trials.push({ number: i, state: 'complete', params: p, value: Math.random(), intermediate: [] }); }
for (const spec of [{}, { multivariate: true }]) for (const n of [50, 200, 500]) {
  const s = makeSampler('tpe', { seed: 1, ...spec }); const h = trials.slice(0, n); const times: number[] = [];
  for (let k = 0; k < 15; k++) { const t0 = performance.now(); s.sample({ space, trials: h, direction: 'minimize', seed: 1, trialNumber: n + k }); times.push(performance.now() - t0); }
  console.log(JSON.stringify(spec), n, times.map((t) => t.toFixed(1)).join(' '));
}
