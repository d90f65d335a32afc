/** Shapes the coordinator stores and answers with (the API's Study and Trial). */
import type { Params, Space, TrialState } from '../tuning/types';

export interface SamplerConfig {
  name: 'tpe' | 'gp' | 'random' | 'qmc' | 'grid';
  seed: number;
  [option: string]: unknown;
}

export interface PrunerConfig {
  name: 'none' | 'median' | 'asha' | 'hyperband';
  [option: string]: unknown;
}

export interface StudyConfig {
  id: string;
  name: string;
  direction: 'minimize' | 'maximize';
  metric: string;
  space: Space;
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  executor: { kind: 'client' };
  max_trials: number | null;
  metadata: Record<string, unknown>;
  created_at: string;
}

export interface TrialView {
  study_id: string;
  number: number;
  params: Params;
  state: TrialState;
  value: number | null;
  intermediate: { step: number; value: number }[];
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
}

export interface StudyView extends Omit<StudyConfig, 'id'> {
  id: string;
  state: 'running' | 'completed';
  n_trials: number;
  best_trial: TrialView | null;
}

export type TellBody = { value: number; state?: 'complete' } | { state: 'failed' | 'pruned'; error?: string };
