/**
 * An LR range test request, end to end: cache lookup by content hash, then
 * either the probe (the work budget, the sweep trained on the edge) or a
 * posted curve (analysed as a probe's sweep is: probe/curve.ts), and the
 * write to D1.
 */
import { canonicalJson, sha256Hex } from '../lib/hash';
import { newId } from '../lib/ids';
import { readConfig } from '../lib/config';
import { DomainError } from '../contract/errors';
import type { z } from 'zod';
import type {
  LrRangeTest,
  LrRangeTestRequest,
  RangeTestSuggestionSchema,
  RangeTestSummarySchema,
} from '../contract/schemas';
import { listLrSuggestionsOf, type LrSuggestionRow } from '../db/studies';
import {
  findRangeTestById,
  findRangeTestByKey,
  insertRangeTest,
  listRangeTests,
} from '../db/lr-range-tests';
import { ensureBackend } from '../probe/backend';
import { analyseSweep, type SweepAnalysis } from '../probe/curve';
import { loadWithinLimits } from '../probe/data';
import { DEFAULT_PAGE_SIZE } from '../contract/limits';
import { EXECUTOR_KINDS } from '../contract/names';
import { ProbeInputError } from '../probe/errors';
import { rangeTestFlops, runRangeTestYielding } from '../probe/lr-range-test';
import { parameterCount } from '../probe/mlp';

type ProbeRequest = Extract<LrRangeTestRequest, { probe: unknown }>;
type CurveRequest = Extract<LrRangeTestRequest, { curve: unknown }>;

/** Requests whose canonical form is larger than this are stored with a digest instead of the data. */
const MAX_STORED_REQUEST_CHARS = 64 * 1024;

/** A sweep, analysed, and where it ran. */
interface Outcome {
  analysis: SweepAnalysis;
  backend: LrRangeTest['backend'];
  durationMs: number;
  context?: LrRangeTest['context'];
}

export async function lrRangeTest(
  env: Env,
  projectId: string,
  request: LrRangeTestRequest,
): Promise<LrRangeTest> {
  const canonical = canonicalJson(request);
  // Cached per project: one project's requests never answer another's.
  const cacheKey = await sha256Hex(`${projectId}\n${canonical}`);
  const hit = await findRangeTestByKey(env.DB, cacheKey);
  if (hit) return { ...(hit.result as LrRangeTest), cached: true };

  const { analysis, backend, durationMs, context } =
    'curve' in request ? analyseCurve(request) : await runProbe(env, request);
  const createdAt = new Date();
  const result: LrRangeTest = {
    id: newId('lrt'),
    cached: false,
    ...analysis,
    backend,
    duration_ms: Math.round(durationMs),
    created_at: createdAt.toISOString(),
    ...(context ? { context } : {}),
  };
  try {
    const inserted = await insertRangeTest(env.DB, {
      id: result.id,
      projectId,
      cacheKey,
      request:
        canonical.length <= MAX_STORED_REQUEST_CHARS ? request : summarise(request, cacheKey),
      result,
      backend,
      suggestedLr: result.suggestion.lr,
      confidence: result.suggestion.confidence,
      durationMs: result.duration_ms,
      createdAt,
    });
    if (!inserted) {
      // An identical request finished first: answer with the stored result,
      // so every caller sees one id that GET /v1/lr-range-tests/{id} knows.
      const winner = await findRangeTestByKey(env.DB, cacheKey);
      if (winner) return { ...(winner.result as LrRangeTest), cached: true };
    }
  } catch (err) {
    // The caller still gets the answer; the next identical request runs again.
    console.error('storing LR range test failed', err);
  }
  return result;
}

/** The probe trained on the edge, within the work budget. */
async function runProbe(env: Env, request: ProbeRequest): Promise<Outcome> {
  const limits = readConfig(env).probe;
  const ds = loadWithinLimits(request.probe.data, request.probe.task, limits.maxCells);
  const flops = rangeTestFlops(ds.features, ds.outputs, request.probe, request.range);
  const gflop = flops / 1e9;
  if (gflop > limits.maxGflop) {
    throw new ProbeInputError(
      {
        path: 'probe',
        message:
          `this probe needs about ${gflop.toFixed(1)} GFLOP (6 x ${parameterCount({ inputs: ds.features, hidden: request.probe.model.hidden, outputs: ds.outputs })} parameters x batch ${request.probe.batch_size} x ${request.range.steps} steps), ` +
          `over the edge budget of ${limits.maxGflop} GFLOP: reduce range.steps, probe.batch_size or probe.model.hidden, ` +
          `or run it as a heavy trial on a GPU runner (a study with "executor": {"kind": "runner"})`,
      },
      'over_budget',
    );
  }
  const backend = await ensureBackend();
  // Deployed, workerd's clock advances only across I/O, so this measures
  // the whole probe (data, training, suggestion) but not its inner steps.
  const started = performance.now();
  const analysis = await runRangeTestYielding(request.probe, request.range, ds);
  return { analysis, backend, durationMs: performance.now() - started };
}

/** A curve the client measured: the same analysis as a probe's sweep, with its losses' nulls (NaN in JSON's absence) as NaN; its validation losses, if sent, with nulls as not measured. */
function analyseCurve(request: CurveRequest): Outcome {
  const { curve, range } = request;
  const started = performance.now();
  const analysis = analyseSweep(
    curve.lr,
    curve.loss.map((v) => v ?? Number.NaN),
    {
      smoothing: range.smoothing,
      diverge_factor: range.diverge_factor,
      planned_steps: range.steps,
      optimizer: request.optimizer?.name,
    },
    curve.val_loss?.map((v) => v ?? Number.NaN),
  );
  const context = {
    model: request.model,
    optimizer: request.optimizer,
    batch_size: request.batch_size,
  };
  return { analysis, backend: 'client', durationMs: performance.now() - started, context };
}

export async function getLrRangeTest(
  env: Env,
  projectId: string,
  id: string,
): Promise<LrRangeTest> {
  const row = await findRangeTestById(env.DB, id);
  if (!row || row.projectId !== projectId)
    throw new DomainError('not_found', `no LR range test with id '${id}'`);
  return { ...(row.result as LrRangeTest), cached: true };
}

/** One line of the list: what ran, where, and what it suggests (the LrRangeTestSummary schema; the curve is at GET /v1/lr-range-tests/{id}). */
export type LrRangeTestSummary = z.output<typeof RangeTestSummarySchema>;

/** The project's range tests, newest first; `cursor` is the last id of the previous page. */
export async function listLrRangeTests(
  env: Env,
  projectId: string,
  cursor: string | undefined,
  limit = DEFAULT_PAGE_SIZE,
): Promise<{ range_tests: LrRangeTestSummary[]; next_cursor: string | null }> {
  const rows = await listRangeTests(env.DB, projectId, cursor, limit + 1);
  const page = rows.slice(0, limit);
  return {
    range_tests: page.map((r) => {
      const source = r.backend === 'client' ? 'curve' : 'probe';
      const probeLabel =
        [
          r.probeModel && r.probeHidden ? `${r.probeModel} ${r.probeHidden}` : r.probeModel,
          r.probeData,
        ]
          .filter(Boolean)
          .join(' · ') || null;
      return {
        id: r.id,
        source,
        backend: r.backend,
        label: source === 'curve' ? r.curveModel : probeLabel,
        optimizer: r.optimizer,
        suggested_lr: r.suggestedLr,
        method: r.method,
        confidence: r.confidence as LrRangeTestSummary['confidence'],
        steps_run: r.stepsRun,
        created_at: r.createdAt.toISOString(),
      };
    }),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}

/** One lr/suggest made from a range test (the LrRangeTestSuggestion schema). */
export type RangeTestSuggestion = z.output<typeof RangeTestSuggestionSchema>;

function suggestionOf(r: LrSuggestionRow): RangeTestSuggestion {
  const executor = EXECUTOR_KINDS.find((k) => k === r.executor) ?? null;
  const lr = r.best_lr === null ? NaN : Number(JSON.parse(r.best_lr));
  const unit = r.horizon_unit === 'epochs' || r.horizon_unit === 'steps' ? r.horizon_unit : null;
  return {
    id: r.id,
    name: r.name,
    executor,
    state: r.state === 'completed' ? 'completed' : 'running',
    // GET /v1/lr/suggest/{id} answers a budgeted search (any executor) and a client's or runners'.
    answered_at: r.ladder === 1 || executor !== 'edge' ? `/v1/lr/suggest/${r.id}` : null,
    budget_runs: typeof r.budget_runs === 'number' ? r.budget_runs : null,
    horizon:
      unit && typeof r.horizon_length === 'number' ? { unit, length: r.horizon_length } : null,
    n_trials: r.n_trials,
    best_run: Number.isFinite(lr) ? { lr, value: r.best_value } : null,
    created_at: new Date(r.created_at).toISOString(),
  };
}

/**
 * The suggestions made from range test `id` (POST /v1/lr/suggest with it, or with the probe that
 * ran it), newest first, as D1 lists their studies (written through within a second of a change);
 * 404 when the project has no such range test.
 */
export async function listRangeTestSuggestions(
  env: Env,
  projectId: string,
  id: string,
  cursor: string | undefined,
  limit = DEFAULT_PAGE_SIZE,
): Promise<{ suggestions: RangeTestSuggestion[]; next_cursor: string | null }> {
  await getLrRangeTest(env, projectId, id);
  const rows = await listLrSuggestionsOf(env.DB, projectId, id, cursor, limit + 1);
  const page = rows.slice(0, limit);
  return {
    suggestions: page.map(suggestionOf),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}

/** A large request is stored with its data (a probe's dataset, a curve's points) replaced by the digest of the whole request. */
function summarise(request: LrRangeTestRequest, cacheKey: string): unknown {
  if ('curve' in request)
    return {
      ...request,
      curve: { points: request.curve.lr.length, omitted: true, request_sha256: cacheKey },
    };
  return {
    ...request,
    probe: {
      ...request.probe,
      data: { kind: request.probe.data.kind, omitted: true, request_sha256: cacheKey },
    },
  };
}
