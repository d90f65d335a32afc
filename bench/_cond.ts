import { makeSampler } from '../src/tuning/samplers/index';
import type { FrozenTrial, Params } from '../src/tuning/types';
function f(p: Params): number {
  const opt = p.optimizer as string; const u = Math.log10(p.lr as number); const w = Math.log10(p.weight_decay as number);
  const wall = (lim: number) => 3 * Math.max(0, u - lim) ** 2; let loss: number;
  if (opt === 'sgd') { const m = p.momentum as number; loss = 0.25 + 0.1 * (u - Math.log10(0.1 * (1 - m))) ** 2 + 0.5 * (m - 0.9) ** 2 + wall(-0.5); }
  else if (opt === 'adam') { const b2 = p.beta2 as number; loss = 0.2 + 0.1 * (u + 3.5) ** 2 + 0.04 * (Math.log10(1 - b2) + 2.5) ** 2 + wall(-2); }
  else loss = 0.23 + 0.12 * (u + 3) ** 2 + wall(-2);
  return loss + 0.02 * (w + 4) ** 2;
}
const space: any = { optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] }, lr: { type: 'float', low: 1e-5, high: 1, log: true }, weight_decay: { type: 'float', low: 1e-6, high: 0.1, log: true }, momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: 'sgd' } }, beta2: { type: 'float', low: 0.9, high: 0.9999, when: { optimizer: 'adam' } } };
const spec = process.argv[2] ?? 'tpe';
for (let seed = 0; seed < 10; seed++) {
  const s = makeSampler(spec as any, { seed }); const trials: FrozenTrial[] = []; const counts: Record<string, number> = { sgd: 0, adam: 0, rmsprop: 0 }; let best = Infinity; let bestAdam = Infinity;
  for (let i = 0; i < 50; i++) { const p = s.sample({ space, trials, direction: 'minimize', seed, trialNumber: i }); const v = f(p); if (i >= 10) counts[p.optimizer as string]++; if (p.optimizer === 'adam') bestAdam = Math.min(bestAdam, v); best = Math.min(best, v); trials.push({ number: i, state: 'complete', params: p, value: v, intermediate: [] }); }
  console.log(seed, JSON.stringify(counts), (best - 0.2).toFixed(4), (bestAdam - 0.2).toFixed(4));
}
