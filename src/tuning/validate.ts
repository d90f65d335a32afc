/**
 * Path-precise checks of a study's search space (API.md, "Search space") and
 * of the fixed params of an enqueued trial (`POST /v1/studies/{id}/trials`).
 *
 * Every problem is reported (not just the first), each with a dotted path from
 * the request root (`space.lr.low`, `space.opt.choices.2`,
 * `space.beta1.when.optimizer`, `params.lr`) and a message that says what is
 * expected. A space without issues comes back as a clean copy: only the known
 * keys, arrays and conditions copied, so later mutation of the input cannot
 * reach the study.
 *
 * Rules (as Optuna's distributions, plus what the API promises):
 * - `space` is an object of at most 64 named parameters; names are non-empty
 *   (and not `__proto__`).
 * - `type` is `float`, `int` or `categorical`; other keys are errors at their
 *   own path (`space.lr.lo`).
 * - float/int: finite `low` < `high`; `log` (boolean) needs `low > 0`; `step`
 *   > 0 must divide `high - low` (relative tolerance 1e-9 for floats, exactly
 *   for ints); a float cannot have both `log` and `step`, an int with `log`
 *   only `step: 1`; int bounds are integers and an int step an integer >= 1.
 * - categorical: `choices` a non-empty list of at most 1000 distinct strings,
 *   finite numbers or booleans.
 * - `when`: an object naming other, categorical parameters, each with a value
 *   (or a non-empty list of values) among that parameter's choices; the
 *   conditions have no cycles.
 */
import { editDistance } from '../lib/names';
import type { InputIssue } from '../contract/issues';
import { MAX_PARAM_NAME } from '../contract/limits';
import { paramOrder } from './space';
import type {
  Condition,
  FloatParam,
  IntParam,
  ParamSpec,
  ParamValue,
  Params,
  Space,
} from './types';
import { describeValue, isRecord } from '../lib/values';

export const MAX_PARAMS = 64;
const MAX_CHOICES = 1000;
/** Relative tolerance of "step divides the range" and "value is on the step grid" for floats. */
const STEP_TOLERANCE = 1e-9;

const TYPES = ['float', 'int', 'categorical'] as const;
const NUMERIC_KEYS = ['type', 'low', 'high', 'log', 'step', 'when'];
const CATEGORICAL_KEYS = ['type', 'choices', 'when'];

function isParamValue(v: unknown): v is ParamValue {
  return (
    typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
  );
}

function listValues(values: readonly unknown[], max = 10): string {
  const shown = values.slice(0, max).map(describeValue).join(', ');
  return values.length > max ? `${shown}, ... (${values.length} in all)` : shown;
}

const ALIASES: Record<string, string> = {
  min: 'low',
  max: 'high',
  values: 'choices',
  options: 'choices',
  if: 'when',
};

function unknownKeyMessage(key: string, type: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  let guess = ALIASES[lower] && known.includes(ALIASES[lower]) ? ALIASES[lower] : undefined;
  if (!guess) {
    const near = known.filter(
      (k) => k.startsWith(lower) || lower.startsWith(k) || editDistance(lower, k) <= 2,
    );
    if (near.length > 0) guess = near[0];
  }
  return `unknown key for a ${type} parameter${guess ? ` (did you mean '${guess}'?)` : ''}: expected ${known.join(', ')}`;
}

function stepDivides(range: number, step: number): boolean {
  const r = range / step;
  const n = Math.round(r);
  return n >= 1 && Math.abs(r - n) <= STEP_TOLERANCE * Math.max(1, r);
}

/** Whether `v` lies on low + k * step (floats within the relative tolerance, ints exactly). */
function onStep(spec: ParamSpec & { low: number; step?: number }, v: number): boolean {
  if (spec.step === undefined) return true;
  if (spec.type === 'int') return (v - spec.low) % spec.step === 0;
  const r = (v - spec.low) / spec.step;
  return Math.abs(r - Math.round(r)) <= STEP_TOLERANCE * Math.max(1, Math.abs(r));
}

/** What one parameter turned out to be, before conditions are checked. */
interface Parsed {
  /** The parameter's type, when `type` itself was valid. */
  type?: (typeof TYPES)[number];
  /** Its clean spec (without `when`), when everything but `when` was valid. */
  spec?: ParamSpec;
  /** Its valid choices (categorical), for checking the `when`s that name it. */
  choices?: ParamValue[];
}

function checkNumeric(
  p: string,
  raw: Record<string, unknown>,
  type: 'float' | 'int',
  issues: InputIssue[],
): ParamSpec | undefined {
  const before = issues.length;
  const bound = (key: 'low' | 'high'): number | undefined => {
    const v = raw[key];
    if (v === undefined) {
      issues.push({ path: `${p}.${key}`, message: `is required for a ${type} parameter` });
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push({
        path: `${p}.${key}`,
        message: `must be a finite number, got ${describeValue(v)}`,
      });
      return undefined;
    }
    if (type === 'int' && !Number.isSafeInteger(v)) {
      issues.push({
        path: `${p}.${key}`,
        message: `must be an integer for an int parameter, got ${v}`,
      });
      return undefined;
    }
    return v;
  };
  const low = bound('low');
  const high = bound('high');

  let log = false;
  if (raw.log !== undefined) {
    if (typeof raw.log !== 'boolean')
      issues.push({
        path: `${p}.log`,
        message: `must be true or false, got ${describeValue(raw.log)}`,
      });
    else log = raw.log;
  }

  let step: number | undefined;
  let stepOk = raw.step === undefined;
  if (raw.step !== undefined) {
    const s = raw.step;
    if (type === 'int') {
      if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) {
        issues.push({
          path: `${p}.step`,
          message: `must be an integer >= 1 for an int parameter, got ${describeValue(s)}`,
        });
      } else {
        step = s;
        stepOk = true;
      }
    } else if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      issues.push({ path: `${p}.step`, message: `must be a number > 0, got ${describeValue(s)}` });
    } else {
      step = s;
      stepOk = true;
    }
  }

  const ordered = low !== undefined && high !== undefined && low < high;
  if (low !== undefined && high !== undefined && !ordered) {
    issues.push({ path: `${p}.low`, message: `must be less than high (${high}), got ${low}` });
  }
  if (log && low !== undefined && low <= 0) {
    issues.push({ path: `${p}.low`, message: `must be > 0 when log is true, got ${low}` });
  }
  let stepAllowed = true;
  if (log && step !== undefined) {
    if (type === 'float') {
      issues.push({
        path: `${p}.step`,
        message:
          'cannot be combined with log for a float parameter (as in Optuna): drop one of them',
      });
      stepAllowed = false;
    } else if (step !== 1) {
      issues.push({
        path: `${p}.step`,
        message: `must be 1 (or absent) when log is true (as in Optuna), got ${step}`,
      });
      stepAllowed = false;
    }
  }
  if (ordered && step !== undefined && stepAllowed) {
    const range = high - low;
    const divides = type === 'int' ? range % step === 0 : stepDivides(range, step);
    if (!divides) {
      issues.push({
        path: `${p}.step`,
        message: `must divide high - low (${range}) into whole steps, got ${step}`,
      });
    }
  }

  if (issues.length > before || low === undefined || high === undefined || !stepOk)
    return undefined;
  const spec: FloatParam | IntParam = { type, low, high };
  if (raw.log !== undefined) spec.log = log;
  if (step !== undefined) spec.step = step;
  return spec;
}

function checkChoices(p: string, raw: unknown, issues: InputIssue[]): ParamValue[] | undefined {
  const path = `${p}.choices`;
  if (raw === undefined) {
    issues.push({
      path,
      message: 'is required for a categorical parameter: a non-empty list of values',
    });
    return undefined;
  }
  if (!Array.isArray(raw)) {
    issues.push({
      path,
      message: `must be a list of strings, numbers or booleans, got ${describeValue(raw)}`,
    });
    return undefined;
  }
  if (raw.length === 0) {
    issues.push({ path, message: 'must not be empty' });
    return undefined;
  }
  if (raw.length > MAX_CHOICES) {
    issues.push({ path, message: `must have at most ${MAX_CHOICES} choices, got ${raw.length}` });
  }
  const valid: ParamValue[] = [];
  const first = new Map<ParamValue, number>();
  let ok = raw.length <= MAX_CHOICES;
  raw.forEach((c: unknown, i: number) => {
    if (!isParamValue(c)) {
      issues.push({
        path: `${path}.${i}`,
        message: `must be a string, a finite number or a boolean, got ${describeValue(c)}`,
      });
      ok = false;
      return;
    }
    const j = first.get(c);
    if (j !== undefined) {
      issues.push({
        path: `${path}.${i}`,
        message: `duplicates choice ${j} (${describeValue(c)})`,
      });
      ok = false;
      return;
    }
    first.set(c, i);
    valid.push(c);
  });
  // Valid choices are returned even when the list has other problems, so that
  // the `when`s naming this parameter are still checked against them.
  return ok ? valid : valid.length > 0 ? valid : undefined;
}

/** One parameter's spec at path `p`; `allowWhen`: a declared space's (a define-by-run distribution has no condition). */
function checkParam(p: string, raw: unknown, issues: InputIssue[], allowWhen = true): Parsed {
  if (!isRecord(raw)) {
    issues.push({
      path: p,
      message: `must be an object like {"type": "float", "low": 0, "high": 1}, got ${describeValue(raw)}`,
    });
    return {};
  }
  const type = raw.type;
  if (type === undefined) {
    issues.push({ path: `${p}.type`, message: `is required: one of ${TYPES.join(', ')}` });
    return {};
  }
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    issues.push({
      path: `${p}.type`,
      message: `must be one of ${TYPES.join(', ')}, got ${describeValue(type)}`,
    });
    return {};
  }
  const t = type as (typeof TYPES)[number];
  const known = (t === 'categorical' ? CATEGORICAL_KEYS : NUMERIC_KEYS).filter(
    (k) => allowWhen || k !== 'when',
  );
  let unknownKeys = false;
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    issues.push({ path: `${p}.${key}`, message: unknownKeyMessage(key, t, known) });
    unknownKeys = true;
  }
  if (t === 'categorical') {
    const before = issues.length;
    const choices = checkChoices(p, raw.choices, issues);
    const clean = issues.length === before && choices !== undefined && !unknownKeys;
    return {
      type: t,
      choices,
      spec: clean ? { type: 'categorical', choices: [...choices] } : undefined,
    };
  }
  const spec = checkNumeric(p, raw, t, issues);
  return { type: t, spec: unknownKeys ? undefined : spec };
}

function checkCondition(
  name: string,
  raw: unknown,
  rawSpace: Record<string, unknown>,
  parsed: Map<string, Parsed>,
  issues: InputIssue[],
): { condition?: Condition; parents: string[] } {
  const p = `space.${name}.when`;
  const parents: string[] = [];
  if (!isRecord(raw)) {
    issues.push({
      path: p,
      message: `must be an object like {"optimizer": "adam"}, got ${describeValue(raw)}`,
    });
    return { parents };
  }
  const before = issues.length;
  const condition: Condition = {};
  for (const [parent, allowed] of Object.entries(raw)) {
    const path = `${p}.${parent}`;
    if (parent === name) {
      issues.push({ path, message: 'a parameter cannot be conditioned on itself' });
      continue;
    }
    if (!Object.hasOwn(rawSpace, parent)) {
      issues.push({ path, message: `names an unknown parameter '${parent}'` });
      continue;
    }
    const info = parsed.get(parent) ?? {};
    if (info.type === undefined) continue; // the parent itself is invalid: already reported
    if (info.type !== 'categorical') {
      issues.push({
        path,
        message: `must name a categorical parameter; '${parent}' is ${info.type}`,
      });
      continue;
    }
    parents.push(parent);
    const check = (v: unknown, at: string): boolean => {
      if (!isParamValue(v)) {
        issues.push({
          path: at,
          message: `must be a string, a finite number or a boolean (or a list of them), got ${describeValue(v)}`,
        });
        return false;
      }
      if (info.choices && !info.choices.includes(v)) {
        issues.push({
          path: at,
          message: `${describeValue(v)} is not one of the choices of '${parent}' (${listValues(info.choices)})`,
        });
        return false;
      }
      return true;
    };
    if (Array.isArray(allowed)) {
      if (allowed.length === 0) {
        issues.push({ path, message: 'must not be an empty list' });
        continue;
      }
      const seen = new Set<unknown>();
      allowed.forEach((v: unknown, i: number) => {
        if (!check(v, `${path}.${i}`)) return;
        if (seen.has(v))
          issues.push({ path: `${path}.${i}`, message: `repeats ${describeValue(v)}` });
        seen.add(v);
      });
      condition[parent] = [...allowed] as ParamValue[];
    } else if (check(allowed, path)) {
      condition[parent] = allowed as ParamValue;
    }
  }
  return { condition: issues.length === before ? condition : undefined, parents };
}

/** Issues for every cycle among the conditions, at the edge that closes it. */
function checkCycles(edges: Map<string, string[]>, issues: InputIssue[]): void {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'open');
    stack.push(name);
    for (const parent of [...(edges.get(name) ?? [])].sort()) {
      const s = state.get(parent);
      if (s === 'open') {
        const cycle = [...stack.slice(stack.indexOf(parent)), parent];
        issues.push({
          path: `space.${name}.when.${parent}`,
          message: `conditions form a cycle: ${cycle.join(' -> ')} (each parameter exists only when the next one has a given value)`,
        });
      } else if (s === undefined) {
        visit(parent);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...edges.keys()].sort()) if (!state.has(name)) visit(name);
}

/**
 * Check a study's `space`; `space` is the clean, typed copy when there are no
 * issues, null otherwise.
 */
export function validateSpace(raw: unknown): { space: Space | null; issues: InputIssue[] } {
  const issues: InputIssue[] = [];
  if (!isRecord(raw)) {
    issues.push({
      path: 'space',
      message: `must be an object mapping parameter names to {"type": ...} specs, got ${describeValue(raw)}`,
    });
    return { space: null, issues };
  }
  // Empty is allowed: a define-by-run study's parameters join its space at first use.
  const names = Object.keys(raw);
  if (names.length > MAX_PARAMS) {
    issues.push({
      path: 'space',
      message: `must have at most ${MAX_PARAMS} parameters, got ${names.length}`,
    });
  }

  const parsed = new Map<string, Parsed>();
  for (const name of names) {
    if (name === '') {
      issues.push({ path: 'space', message: 'parameter names must not be empty' });
    } else if (name === '__proto__') {
      issues.push({
        path: `space.${name}`,
        message: "'__proto__' is reserved: choose another parameter name",
      });
    }
    if (name.length > MAX_PARAM_NAME)
      issues.push({
        path: `space.${name.slice(0, 32)}...`,
        message: `parameter names have at most ${MAX_PARAM_NAME} characters, got ${name.length}`,
      });
    parsed.set(name, checkParam(`space.${name}`, raw[name], issues));
  }

  const conditions = new Map<string, Condition>();
  const edges = new Map<string, string[]>();
  for (const name of names) {
    const spec = raw[name];
    if (!isRecord(spec) || spec.when === undefined || parsed.get(name)?.type === undefined)
      continue;
    const { condition, parents } = checkCondition(name, spec.when, raw, parsed, issues);
    if (condition) conditions.set(name, condition);
    edges.set(name, parents);
  }
  checkCycles(edges, issues);

  if (issues.length > 0) return { space: null, issues };
  const entries = names.map((name): [string, ParamSpec] => {
    const spec = { ...(parsed.get(name)!.spec as ParamSpec) };
    const condition = conditions.get(name);
    if (condition) spec.when = condition;
    return [name, spec];
  });
  return { space: Object.fromEntries(entries) as Space, issues };
}

/**
 * A define-by-run parameter's distribution (POST .../params): a space entry without `when`,
 * checked at `path` (`distribution.low`, ...); `spec` is its clean copy when there are no issues.
 */
export function validateDistribution(
  raw: unknown,
  path = 'distribution',
): { spec: ParamSpec | null; issues: InputIssue[] } {
  const issues: InputIssue[] = [];
  const parsed = checkParam(path, raw, issues, false);
  return { spec: issues.length === 0 && parsed.spec ? parsed.spec : null, issues };
}

function conditionText(when: Condition): string {
  return Object.entries(when)
    .map(([parent, v]) =>
      Array.isArray(v)
        ? `${parent} is one of ${listValues(v)}`
        : `${parent} is ${describeValue(v)}`,
    )
    .join(' and ');
}

/** Whether `spec`'s condition holds for `params` (own properties only). */
function holds(spec: ParamSpec, params: Params): boolean {
  for (const [parent, allowed] of Object.entries(spec.when ?? {})) {
    if (!Object.hasOwn(params, parent)) return false;
    const values = Array.isArray(allowed) ? allowed : [allowed];
    if (!values.includes(params[parent])) return false;
  }
  return true;
}

/** Why `v` is not a valid value of `spec`, or undefined when it is (also a define-by-run value an external sampler gives). */
export function valueProblem(spec: ParamSpec, v: unknown): string | undefined {
  if (spec.type === 'categorical') {
    return spec.choices.some((c) => c === v)
      ? undefined
      : `must be one of ${listValues(spec.choices)}, got ${describeValue(v)}`;
  }
  if (typeof v !== 'number' || !Number.isFinite(v))
    return `must be a finite number, got ${describeValue(v)}`;
  if (spec.type === 'int' && !Number.isInteger(v)) return `must be an integer, got ${v}`;
  if (v < spec.low || v > spec.high) return `must be in [${spec.low}, ${spec.high}], got ${v}`;
  if (!onStep(spec, v))
    return `must be ${spec.low} plus a whole number of steps of ${spec.step}, got ${v}`;
  return undefined;
}

/**
 * Check the fixed params of an enqueued trial against a (valid) space: every
 * active parameter present with a valid value, no inactive or unknown ones.
 * Paths are `params.<name>`. A parameter whose condition cannot be decided
 * (its parent is missing or invalid) is not checked: the parent's issue says it.
 */
export function validateParams(space: Space, params: unknown): InputIssue[] {
  if (!isRecord(params))
    return [
      {
        path: 'params',
        message: `must be an object of parameter values, got ${describeValue(params)}`,
      },
    ];
  const issues: InputIssue[] = [];
  const known = Object.keys(space);
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(space, key)) {
      issues.push({
        path: `params.${key}`,
        message: `is not a parameter of the study's space (${known.join(', ')})`,
      });
    }
  }
  const sofar: Params = {};
  const undecided = new Set<string>();
  for (const name of paramOrder(space)) {
    const spec = space[name];
    const path = `params.${name}`;
    if (Object.keys(spec.when ?? {}).some((parent) => undecided.has(parent))) {
      undecided.add(name);
      continue;
    }
    const present = Object.hasOwn(params, name);
    if (!holds(spec, sofar)) {
      if (present)
        issues.push({
          path,
          message: `must be absent here: it exists only when ${conditionText(spec.when!)}`,
        });
      continue;
    }
    if (!present) {
      issues.push({
        path,
        message: spec.when ? `is required when ${conditionText(spec.when)}` : 'is required',
      });
      undecided.add(name);
      continue;
    }
    const problem = valueProblem(spec, params[name]);
    if (problem) {
      issues.push({ path, message: problem });
      undecided.add(name);
      continue;
    }
    sofar[name] = params[name] as ParamValue;
  }
  return issues;
}
