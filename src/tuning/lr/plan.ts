/**
 * lr/suggest's budgeted search around the ladder (ladder.ts): its config from a range test and
 * a request (the screen's span, the anchors, the budget less the range test's share), the study
 * space its runs live in, the compute they spent, and the verdict over a study's trials. Pure:
 * the service (services/lr-suggest.ts) creates the study and answers with what this decides, and
 * the study's coordinator enqueues each level (coordinator/lr-round.ts).
 */
import { DomainError } from '../../contract/errors';
import type { Anchor, CandidateEvidence, LadderConfig, Unit } from '../../contract/lr-suggestion';
import { DEFAULT_BUDGET_RUNS, type LrRangeTest } from '../../contract/schemas';
import type { StudyView, TrialView } from '../../contract/study';
import { DEFAULT_LR, type Optimizer } from './priors';
import { zeroComputeLr } from './rule';
import {
  decide,
  ladderCost,
  levelsOf,
  LOCAL_SPACING,
  observationOf,
  type Answer,
  type Observation,
} from './ladder';

/**
 * The fewest optimizer steps a run of the search takes: a run of a dozen steps has barely left its
 * initialisation, and ranks learning rates by how fast they start (the range test itself takes 100).
 */
const MIN_RUN_STEPS = 50;

/** How many decades below the top of the range test's stable span the screen starts. */
const SPAN_DECADES = 3;

/** The range test's rules and the optimizer's default, with their sources (nulls dropped). */
function anchorsOf(rt: LrRangeTest, optimizer: Optimizer): Anchor[] {
  const s = rt.suggestion;
  const named: [string, number | null | undefined][] = [
    [`suggestion (${s.method})`, s.lr],
    ['default', DEFAULT_LR[optimizer]],
    ['min_over_10', s.candidates.min_over_10],
    ['valley', s.candidates.valley],
    ['steepest', s.candidates.steepest],
    ['minimum', s.candidates.minimum],
  ];
  return named
    .filter(
      (e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0 && Number.isFinite(e[1]),
    )
    .map(([source, lr]) => ({ lr, sources: [source] }));
}

/** The top of the screen: the range test's max_stable_lr, else its last lr with a finite loss. */
function spanTop(rt: LrRangeTest): number | null {
  const last = [...rt.curve].reverse().find((p) => p.smoothed_loss !== null)?.lr ?? null;
  const hi = rt.suggestion.max_stable_lr ?? last;
  return hi !== null && hi > 0 && Number.isFinite(hi) ? hi : null;
}

/** The budget asked for, in full runs (DEFAULT_BUDGET_RUNS when the request names none). */
export function budgetOf(req: { budget?: { runs: number } }): number {
  return req.budget?.runs ?? DEFAULT_BUDGET_RUNS;
}

/** What the range test cost, in full runs: its steps over the horizon's steps (0 when unknown). */
export function rangeTestRuns(rt: LrRangeTest, horizonSteps: number | null): number {
  if (horizonSteps === null || !(horizonSteps > 0)) return 0;
  return rt.steps_run / horizonSteps;
}

/**
 * The ladder's config for a range test and a horizon: the screen from SPAN_DECADES below the
 * span's top to it, the rules and the default as anchors, the budget less the range test's share.
 * Null when the range test gives no span.
 */
export function ladderConfig(
  rt: LrRangeTest,
  optimizer: Optimizer,
  o: {
    unit: Unit;
    horizon: number;
    budget: number;
    rtRuns: number;
    seed: number;
    /** Optimizer steps per epoch of the horizon, when known (null: runs as short as one epoch). */
    stepsPerEpoch: number | null;
  },
): LadderConfig | null {
  const hi = spanTop(rt);
  if (hi === null) return null;
  const centre = zeroComputeLr(rt.suggestion, optimizer)?.lr ?? rt.suggestion.lr;
  const minSteps =
    o.unit === 'steps'
      ? MIN_RUN_STEPS
      : o.stepsPerEpoch
        ? Math.ceil(MIN_RUN_STEPS / o.stepsPerEpoch)
        : 1;
  return {
    unit: o.unit,
    horizon: o.horizon,
    budget: Math.max(0, o.budget - o.rtRuns),
    // A decade below the optimizer's default too: small data under Adam trains best far below the sweep's region.
    lo: Math.min(hi / 10 ** SPAN_DECADES, DEFAULT_LR[optimizer] / 10),
    hi,
    anchors: anchorsOf(rt, optimizer),
    seed: o.seed,
    minLength: Math.min(o.horizon, minSteps),
    ...(centre !== null ? { centre } : {}),
  };
}

/** The study's space for a ladder: any positive lr, lengths up to the horizon, any seed. */
export function ladderSpace(cfg: LadderConfig): Record<string, unknown> {
  return {
    lr: { type: 'float', low: 1e-12, high: 1e4, log: true },
    [cfg.unit]: { type: 'int', low: 1, high: Math.min(cfg.horizon, cfg.maxLength ?? cfg.horizon) },
    seed: { type: 'int', low: 0, high: 2 ** 31 - 1 },
  };
}

/** The first level's runs, as the start answer shows them. */
export function firstLevel(cfg: LadderConfig): { lr: number; length: number; sources: string[] }[] {
  const d = decide(cfg, []);
  return d.kind === 'train'
    ? d.runs.map((r) => ({ lr: r.lr, length: r.length, sources: r.sources }))
    : [];
}

/** The reasoning line of the plan: the levels the budget buys and what they cost. */
export function planReason(cfg: LadderConfig, budget: number, rtRuns: number): string {
  const levels = levelsOf(cfg);
  const cost = ladderCost(levels, cfg.horizon);
  const rt =
    rtRuns > 0
      ? `the range test took ${rtRuns.toFixed(2)} of it`
      : "the range test's share is not known (send steps_per_epoch)";
  if (levels[0]?.local)
    return (
      `budget ${budget} full runs (${rt}) buys no screen of the span: ${levels[0].points} lrs ${LOCAL_SPACING} decades apart around the zero-compute answer ${cfg.centre!.toPrecision(3)}, at ${levels[0].length} ${cfg.unit}` +
      ` with the schedule compressed into it (${cost.toFixed(2)} runs)`
    );
  return (
    `budget ${budget} full runs (${rt}): ${levels.map((l) => `${l.points} lrs at ${l.length} ${cfg.unit}`).join(', then ')}` +
    ` with the schedule compressed into each length (${cost.toFixed(2)} runs); each level is centred on the best of the level before`
  );
}

/** What `runs` full runs at the horizon add up to, in its unit (and in epochs when they can be known). */
export function computeOf(
  unit: Unit,
  horizon: number,
  runs: number,
  stepsPerEpoch: number | null,
): { runs: number; epochs: number | null; steps?: number | null } {
  const units = runs * horizon;
  if (unit === 'epochs') return { runs: round(runs), epochs: round(units) };
  return {
    runs: round(runs),
    epochs: stepsPerEpoch ? round(units / stepsPerEpoch) : null,
    steps: Math.round(units),
  };
}

const round = (x: number) => Number(x.toFixed(3));

/** The trials of a ladder study as observations, and as the evidence an answer shows. */
function ladderEvidence(
  cfg: LadderConfig,
  trials: readonly TrialView[],
): { observed: Observation[]; candidates: (CandidateEvidence & { length: number })[] } {
  const observed: Observation[] = [];
  const candidates: (CandidateEvidence & { length: number })[] = [];
  const lengths = [
    ...new Set(
      trials.map((t) => t.params[cfg.unit]).filter((x): x is number => typeof x === 'number'),
    ),
  ].sort((a, b) => a - b);
  for (const t of trials) {
    const o = observationOf(cfg, t);
    if (!o) continue;
    observed.push(o);
    candidates.push({
      lr: o.lr,
      length: o.length,
      sources: [`level ${lengths.indexOf(o.length) + 1}`],
      state: o.state,
      value: o.value,
      epochs_run: o.curve.length,
      spread: null,
      tied: false,
      unstable: false,
      seeds: null,
      score: o.value,
      error: t.error,
    });
  }
  return { observed, candidates };
}

export interface LadderVerdict {
  status: 'running' | 'complete';
  answer: Answer | null;
  why: string[];
  observed: Observation[];
  candidates: (CandidateEvidence & { length: number })[];
}

/** Where a ladder study stands: running (a level trains) or complete, with the ladder's answer. */
export function ladderVerdict(
  cfg: LadderConfig,
  study: StudyView,
  trials: readonly TrialView[],
): LadderVerdict {
  const { observed, candidates } = ladderEvidence(cfg, trials);
  const d = decide(cfg, observed);
  if (d.kind !== 'done') {
    const ended = observed.filter(
      (o) => o.state === 'complete' || o.state === 'pruned' || o.state === 'failed',
    ).length;
    return {
      status: 'running',
      answer: null,
      why: [
        `level ${d.level + 1} of ${levelsOf(cfg).length} is training: ${ended} of ${observed.length} runs ended (study ${study.id})`,
      ],
      observed,
      candidates,
    };
  }
  // The judged levels mark the unstable runs of the evidence.
  for (const level of d.levels)
    for (const r of level.runs)
      for (const c of candidates)
        if (c.lr === r.lr && c.length === level.level.length && r.unstable) c.unstable = true;
  return { status: 'complete', answer: d.answer, why: d.why, observed, candidates };
}

/** A ladder that cannot start: no span to search. */
export function noSpan(rt: LrRangeTest, field: string): DomainError {
  return new DomainError(
    'invalid',
    `${field}: range test ${rt.id} gives no learning rate span to search`,
    {
      issues: [
        {
          path: field,
          message: `range test ${rt.id} found no stable range (${rt.suggestion.reasons.join('; ') || 'no finite loss'}): sweep over a wider range of learning rates`,
        },
      ],
    },
  );
}
