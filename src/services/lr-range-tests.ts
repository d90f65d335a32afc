/**
 * An LR range test request, end to end: cache lookup by content hash, the
 * work budget, the probe itself, and the write to D1.
 */
import { canonicalJson, sha256Hex } from '../api/canonical';
import { newId } from '../api/ids';
import { ProblemError } from '../api/problem';
import type { LrRangeTest, LrRangeTestRequest } from '../api/schemas';
import { findRangeTestById, findRangeTestByKey, insertRangeTest } from '../db/lr-range-tests';
import { ensureBackend } from '../probe/backend';
import { loadDataset, type Dataset } from '../probe/data';
import { ProbeInputError } from '../probe/errors';
import { rangeTestFlops, runRangeTest } from '../probe/lr-range-test';
import { parameterCount } from '../probe/mlp';

export interface Limits {
  maxGflop: number;
  maxCells: number;
}

export function limitsFrom(env: Env): Limits {
  const num = (v: string | undefined, d: number) => {
    const n = Number(v);
    return Number.isFinite(n) && n > 0 ? n : d;
  };
  return { maxGflop: num(env.PROBE_MAX_GFLOP, 60), maxCells: num(env.PROBE_MAX_CELLS, 2_000_000) };
}

/** Requests whose canonical form is larger than this are stored with a digest instead of the data. */
const MAX_STORED_REQUEST_CHARS = 64 * 1024;

export async function lrRangeTest(env: Env, projectId: string, request: LrRangeTestRequest): Promise<LrRangeTest> {
  const canonical = canonicalJson(request);
  // Cached per project: one project's requests never answer another's.
  const cacheKey = await sha256Hex(`${projectId}\n${canonical}`);
  const hit = await findRangeTestByKey(env.DB, cacheKey);
  if (hit) return { ...(hit.result as LrRangeTest), cached: true };

  const limits = limitsFrom(env);
  const ds = loadWithinLimits(request, limits);
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
      413,
    );
  }

  const backend = await ensureBackend();
  // Deployed, workerd's clock advances only across I/O, so this measures
  // the whole probe (data, training, suggestion) but not its inner steps.
  const started = performance.now();
  const outcome = runRangeTest(request.probe, request.range, ds);
  const durationMs = performance.now() - started;
  const createdAt = new Date();
  const result: LrRangeTest = {
    id: newId('lrt'),
    cached: false,
    ...outcome,
    backend,
    duration_ms: Math.round(durationMs),
    created_at: createdAt.toISOString(),
  };
  try {
    const inserted = await insertRangeTest(env.DB, {
      id: result.id,
      projectId,
      cacheKey,
      request: canonical.length <= MAX_STORED_REQUEST_CHARS ? request : summarise(request, cacheKey),
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
    // The caller still gets the answer; the next identical request retrains.
    console.error('storing LR range test failed', err);
  }
  return result;
}

export async function getLrRangeTest(env: Env, projectId: string, id: string): Promise<LrRangeTest> {
  const row = await findRangeTestById(env.DB, id);
  if (!row || row.projectId !== projectId) throw new ProblemError(404, 'not-found', `no LR range test with id '${id}'`);
  return { ...(row.result as LrRangeTest), cached: true };
}

function loadWithinLimits(request: LrRangeTestRequest, limits: Limits): Dataset {
  const data = request.probe.data;
  const cells =
    data.kind === 'synthetic' ? data.n * (data.features + 1) : data.kind === 'inline' ? data.x.length * ((data.x[0]?.length ?? 0) + 1) : 0;
  if (cells > limits.maxCells) {
    throw new ProbeInputError(
      { path: 'probe.data', message: `the dataset has ${cells} cells, over the edge limit of ${limits.maxCells}: send fewer rows or features` },
      413,
    );
  }
  const ds = loadDataset(data, request.probe.task);
  if (ds.n * (ds.features + 1) > limits.maxCells) {
    throw new ProbeInputError(
      { path: 'probe.data', message: `the dataset has ${ds.n * (ds.features + 1)} cells, over the edge limit of ${limits.maxCells}: send fewer rows or columns` },
      413,
    );
  }
  return ds;
}

/** A large request is stored with its data replaced by the digest of the whole request. */
function summarise(request: LrRangeTestRequest, cacheKey: string): unknown {
  return { ...request, probe: { ...request.probe, data: { kind: request.probe.data.kind, omitted: true, request_sha256: cacheKey } } };
}
