// The shared sampler conformance suite, applied to the model-based samplers
// (with short startups so the model, not the random startup, answers).
import { GpSampler } from '../../src/tuning/samplers/gp';
import { TpeSampler } from '../../src/tuning/samplers/tpe';
import { samplerConformance } from './conformance';

samplerConformance('tpe', () => new TpeSampler({ n_startup_trials: 3 }));
samplerConformance(
  'tpe (multivariate)',
  () => new TpeSampler({ n_startup_trials: 3, multivariate: true }),
);
samplerConformance(
  'gp',
  () => new GpSampler({ n_startup_trials: 3, n_candidates: 128, n_local_search: 2 }),
  { historyLength: 15 },
);
