import { describe, it, expect } from 'vitest';
import { makeSchedule, validateSchedule, type ScheduleSpec } from '../../src/probe/schedules';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Relative closeness, for values spanning many orders of magnitude. */
function expectRel(actual: number, expected: number, rel = 1e-12) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);
}

describe('constant', () => {
  it('is the base lr at every step, with no momentum; default spec is constant', () => {
    for (const s of [makeSchedule(0.03, 50, { kind: 'constant' }), makeSchedule(0.03, 50)]) {
      expect(s.totalSteps).toBe(50);
      for (const t of range(50)) expect(s.at(t)).toEqual({ lr: 0.03, momentum: null });
    }
  });
});

describe('step (StepLR)', () => {
  it('multiplies by gamma every step_size steps (PyTorch chainable form, computed iteratively)', () => {
    const s = makeSchedule(0.1, 100, { kind: 'step', step_size: 30, gamma: 0.5 });
    let lr = 0.1;
    for (const t of range(100)) {
      if (t > 0 && t % 30 === 0) lr *= 0.5;
      expectRel(s.at(t).lr, lr);
      expect(s.at(t).momentum).toBeNull();
    }
    // Boundaries: last step of the first interval, first of the next.
    expect(s.at(29).lr).toBeCloseTo(0.1, 15);
    expect(s.at(30).lr).toBeCloseTo(0.05, 15);
    expect(s.at(99).lr).toBeCloseTo(0.0125, 15);
  });

  it('defaults gamma to 0.1', () => {
    const s = makeSchedule(1, 25, { kind: 'step', step_size: 10 });
    expect(s.at(0).lr).toBe(1);
    expect(s.at(9).lr).toBe(1);
    expect(s.at(10).lr).toBeCloseTo(0.1, 15);
    expect(s.at(24).lr).toBeCloseTo(0.01, 15);
  });
});

describe('exponential (ExponentialLR)', () => {
  it('is lr * gamma^t', () => {
    const s = makeSchedule(0.2, 200, { kind: 'exponential', gamma: 0.97 });
    let lr = 0.2;
    for (const t of range(200)) {
      expectRel(s.at(t).lr, lr, 1e-11);
      lr *= 0.97;
    }
    expect(s.at(0).lr).toBe(0.2);
    expect(s.at(199).momentum).toBeNull();
  });
});

describe('cosine (CosineAnnealingLR)', () => {
  const cos = (lr: number, etaMin: number, tMax: number, t: number) =>
    t >= tMax ? etaMin : etaMin + 0.5 * (lr - etaMin) * (1 + Math.cos((t / tMax) * Math.PI));

  it('follows the closed form with t_max defaulting to total steps', () => {
    const s = makeSchedule(0.1, 100, { kind: 'cosine' });
    for (const t of range(100)) expect(s.at(t).lr).toBeCloseTo(cos(0.1, 0, 100, t), 14);
    expect(s.at(0).lr).toBeCloseTo(0.1, 15);
    expect(s.at(50).lr).toBeCloseTo(0.05, 15);
    // Last step is one short of T_max, as in PyTorch: not quite eta_min.
    expect(s.at(99).lr).toBeCloseTo(0.05 * (1 + Math.cos((99 * Math.PI) / 100)), 15);
    expect(s.at(99).lr).toBeGreaterThan(0);
  });

  it('honours eta_min and clamps at eta_min after t_max (PyTorch would climb back)', () => {
    const s = makeSchedule(0.1, 100, { kind: 'cosine', t_max: 40, eta_min: 0.001 });
    for (const t of range(100)) expect(s.at(t).lr).toBeCloseTo(cos(0.1, 0.001, 40, t), 14);
    expect(s.at(20).lr).toBeCloseTo(0.0505, 14);
    expect(s.at(40).lr).toBeCloseTo(0.001, 15);
    expect(s.at(41).lr).toBe(0.001);
    expect(s.at(99).lr).toBe(0.001);
  });
});

describe('warmup', () => {
  // LinearLR factor from start_factor to 1 over `steps`, then the wrapped
  // schedule from its own step 0 (SequentialLR).
  const factor = (f0: number, w: number, t: number) => f0 + ((1 - f0) * t) / w;

  it('ramps linearly from 0 (default) in front of constant', () => {
    const s = makeSchedule(0.04, 30, { kind: 'constant' }, { steps: 10 });
    expect(s.at(0).lr).toBe(0);
    for (const t of range(10)) expect(s.at(t).lr).toBeCloseTo(0.04 * (t / 10), 15);
    expect(s.at(9).lr).toBeCloseTo(0.036, 15);
    for (const t of range(20)) expect(s.at(10 + t)).toEqual({ lr: 0.04, momentum: null });
  });

  it('honours start_factor and then starts a step schedule from its own step 0', () => {
    const s = makeSchedule(
      0.1,
      100,
      { kind: 'step', step_size: 20, gamma: 0.5 },
      { steps: 5, start_factor: 0.2 },
    );
    for (const t of range(5)) expect(s.at(t).lr).toBeCloseTo(0.1 * factor(0.2, 5, t), 15);
    expect(s.at(0).lr).toBeCloseTo(0.02, 15);
    expect(s.at(4).lr).toBeCloseTo(0.084, 15);
    for (const t of range(95))
      expect(s.at(5 + t).lr).toBeCloseTo(0.1 * 0.5 ** Math.floor(t / 20), 15);
    expect(s.at(24).lr).toBeCloseTo(0.1, 15); // inner step 19
    expect(s.at(25).lr).toBeCloseTo(0.05, 15); // inner step 20
  });

  it('runs cosine over the steps left after warmup by default', () => {
    const s = makeSchedule(0.1, 110, { kind: 'cosine' }, { steps: 10 });
    for (const t of range(10)) expect(s.at(t).lr).toBeCloseTo(0.01 * t, 15);
    for (const t of range(100)) {
      expect(s.at(10 + t).lr).toBeCloseTo(0.05 * (1 + Math.cos((Math.PI * t) / 100)), 14);
    }
    expect(s.at(10).lr).toBeCloseTo(0.1, 15);
    expect(s.at(60).lr).toBeCloseTo(0.05, 15);
  });

  it('uses an explicit cosine t_max counted from the end of warmup', () => {
    const s = makeSchedule(
      0.1,
      100,
      { kind: 'cosine', t_max: 50, eta_min: 0.01 },
      { steps: 20, start_factor: 0.5 },
    );
    expect(s.at(0).lr).toBeCloseTo(0.05, 15);
    expect(s.at(19).lr).toBeCloseTo(0.1 * factor(0.5, 20, 19), 15);
    expect(s.at(20).lr).toBeCloseTo(0.1, 15);
    expect(s.at(45).lr).toBeCloseTo(0.055, 14);
    expect(s.at(70).lr).toBeCloseTo(0.01, 15);
    expect(s.at(99).lr).toBe(0.01);
  });

  it('precedes exponential decay', () => {
    const s = makeSchedule(
      0.3,
      60,
      { kind: 'exponential', gamma: 0.9 },
      { steps: 3, start_factor: 0.1 },
    );
    expect(s.at(0).lr).toBeCloseTo(0.03, 15);
    expect(s.at(1).lr).toBeCloseTo(0.3 * 0.4, 15);
    expect(s.at(2).lr).toBeCloseTo(0.3 * 0.7, 15);
    for (const t of range(57)) expectRel(s.at(3 + t).lr, 0.3 * 0.9 ** t, 1e-11);
    for (const t of range(60)) expect(s.at(t).momentum).toBeNull();
  });

  it('with 0 steps is no warmup', () => {
    const s = makeSchedule(0.1, 10, { kind: 'constant' }, { steps: 0 });
    expect(s.at(0).lr).toBe(0.1);
  });
});

describe('one_cycle (OneCycleLR)', () => {
  /**
   * Independent closed form of PyTorch's two-phase OneCycleLR: phase 1 ends at
   * step pct*T - 1, phase 2 at T - 1; cos annealing.
   */
  function twoPhase(
    maxLr: number,
    T: number,
    pct = 0.3,
    div = 25,
    fdiv = 1e4,
    mLo = 0.85,
    mHi = 0.95,
  ) {
    const init = maxLr / div;
    const min = init / fdiv;
    const e1 = pct * T - 1;
    const cosAnneal = (a: number, b: number, p: number) =>
      b + ((a - b) * (1 + Math.cos(Math.PI * p))) / 2;
    return (t: number) => {
      if (t <= e1) {
        const p = t / e1;
        return { lr: cosAnneal(init, maxLr, p), momentum: cosAnneal(mHi, mLo, p) };
      }
      const p = (t - e1) / (T - 1 - e1);
      return { lr: cosAnneal(maxLr, min, p), momentum: cosAnneal(mLo, mHi, p) };
    };
  }

  it('matches the closed form at every step, defaults', () => {
    const s = makeSchedule(0.1, 100, { kind: 'one_cycle' });
    const ref = twoPhase(0.1, 100);
    for (const t of range(100)) {
      expectRel(s.at(t).lr, ref(t).lr, 1e-12);
      expect(s.at(t).momentum!).toBeCloseTo(ref(t).momentum, 14);
    }
  });

  it('matches reference values of the PyTorch formula (max_lr 0.1, total_steps 100)', () => {
    // torch is not installed on the machine these were made on; the values come
    // from a Python transcription of torch.optim.lr_scheduler.OneCycleLR.get_lr
    // (phase table + _annealing_cos) run with CPython's math module:
    //   initial_lr = 0.1/25 = 0.004, min_lr = 0.004/1e4 = 4e-7,
    //   phase 1 ends at float(0.3*100)-1 = 29, phase 2 at 99.
    const ref: [number, number, number][] = [
      // step, lr, momentum
      [0, 0.0040000000000000036, 0.95],
      [1, 0.004281378056590748, 0.9497068978577179],
      [10, 0.029516394846410082, 0.9234204220349895],
      [15, 0.05459866761210004, 0.897293054570729],
      [29, 0.1, 0.85], // peak at step pct_start*T - 1
      [30, 0.09994965352845243, 0.8500503466729342],
      [50, 0.0793893450575732, 0.8706107373853763],
      [64, 0.0500002, 0.8999999999999999], // midpoint of phase 2: (0.1 + 4e-7)/2
      [98, 5.07464715475788e-5, 0.9499496533270657],
      [99, 4e-7, 0.95], // last step: min_lr
    ];
    const s = makeSchedule(0.1, 100, { kind: 'one_cycle' });
    for (const [t, lr, m] of ref) {
      expectRel(s.at(t).lr, lr, 1e-12);
      expect(s.at(t).momentum!).toBeCloseTo(m, 14);
    }
  });

  it('three_phase: back to initial_lr at 2*pct*T - 2, then anneals to min_lr; momentum stays at max', () => {
    // Same Python transcription of PyTorch, three_phase=True, max_lr 0.1, T 100.
    const ref: [number, number, number][] = [
      [0, 0.0040000000000000036, 0.95],
      [29, 0.1, 0.85],
      [30, 0.09971862194340926, 0.850293102142282],
      [45, 0.044234464165467294, 0.9080890998276382],
      [58, 0.004, 0.95],
      [59, 0.003994132189207244, 0.95],
      [80, 0.0017708560858882788, 0.95],
      [99, 4e-7, 0.95],
    ];
    const s = makeSchedule(0.1, 100, { kind: 'one_cycle', three_phase: true });
    for (const [t, lr, m] of ref) {
      expectRel(s.at(t).lr, lr, 1e-12);
      expect(s.at(t).momentum!).toBeCloseTo(m, 14);
    }
    // Phase 2 is the mirror image of phase 1.
    for (const t of range(29)) expect(s.at(58 - t).lr).toBeCloseTo(s.at(t).lr, 14);
    for (const t of range(41)) expect(s.at(59 + t).momentum).toBeCloseTo(0.95, 15);
  });

  it('linear anneal with a fractional phase boundary (pct_start*T - 1 = 11.5)', () => {
    // Python transcription of PyTorch: max_lr 0.01, T 50, pct_start 0.25,
    // anneal_strategy 'linear', div_factor 10, final_div_factor 100.
    const ref: [number, number, number][] = [
      [0, 0.001, 0.95],
      [5, 0.00491304347826087, 0.9065217391304348],
      [11, 0.009608695652173916, 0.8543478260869565],
      [12, 0.0098668, 0.8513333333333333], // phase 2 counts from step 11.5
      [13, 0.0096004, 0.854],
      [30, 0.0050716, 0.8993333333333333],
      [49, 1e-5, 0.95],
    ];
    const s = makeSchedule(0.01, 50, {
      kind: 'one_cycle',
      pct_start: 0.25,
      anneal: 'linear',
      div_factor: 10,
      final_div_factor: 100,
    });
    for (const [t, lr, m] of ref) {
      expectRel(s.at(t).lr, lr, 1e-11);
      expect(s.at(t).momentum!).toBeCloseTo(m, 14);
    }
    // Linear in each phase: constant differences.
    for (const t of range(10)) {
      expect(s.at(t + 2).lr - s.at(t + 1).lr).toBeCloseTo(s.at(t + 1).lr - s.at(t).lr, 15);
    }
  });

  it('moves momentum inversely to lr, within [base, max]', () => {
    const s = makeSchedule(0.5, 200, {
      kind: 'one_cycle',
      pct_start: 0.4,
      base_momentum: 0.8,
      max_momentum: 0.9,
    });
    const peak = 0.4 * 200 - 1; // 79
    expect(s.at(0).momentum).toBeCloseTo(0.9, 15);
    expect(s.at(peak).lr).toBeCloseTo(0.5, 15);
    expect(s.at(peak).momentum).toBeCloseTo(0.8, 15);
    expect(s.at(199).momentum).toBeCloseTo(0.9, 15);
    for (const t of range(199)) {
      const dLr = s.at(t + 1).lr - s.at(t).lr;
      const dM = s.at(t + 1).momentum! - s.at(t).momentum!;
      expect(Math.sign(dLr)).toBe(-Math.sign(dM));
      expect(s.at(t).momentum!).toBeGreaterThanOrEqual(0.8 - 1e-15);
      expect(s.at(t).momentum!).toBeLessThanOrEqual(0.9 + 1e-15);
    }
    // cos anneal: lr and momentum are the same affine image of one curve.
    for (const t of range(200)) {
      const u = (s.at(t).momentum! - 0.8) / 0.1; // 1 at max momentum
      if (t <= peak) expect(s.at(t).lr).toBeCloseTo(0.5 - u * (0.5 - 0.02), 12);
    }
  });

  it('reports null momentum without cycle_momentum', () => {
    const s = makeSchedule(0.1, 100, { kind: 'one_cycle', cycle_momentum: false });
    for (const t of range(100)) expect(s.at(t).momentum).toBeNull();
    expect(s.at(29).lr).toBeCloseTo(0.1, 15);
  });
});

describe('Schedule.at', () => {
  it('rejects steps outside [0, totalSteps) and non-integers', () => {
    const s = makeSchedule(0.1, 10, { kind: 'cosine' });
    expect(() => s.at(-1)).toThrow(RangeError);
    expect(() => s.at(10)).toThrow(RangeError);
    expect(() => s.at(1.5)).toThrow(RangeError);
    expect(() => s.at(Number.NaN)).toThrow(RangeError);
    expect(() => s.at(9)).not.toThrow();
  });

  it('makeSchedule rejects invalid specs, totals and lrs', () => {
    expect(() => makeSchedule(0.1, 10, { kind: 'step', step_size: 0 })).toThrow(/step_size/);
    expect(() => makeSchedule(0.1, 10, { kind: 'constant' }, { steps: 10 })).toThrow(
      /warmup\.steps/,
    );
    expect(() => makeSchedule(0.1, 100, { kind: 'one_cycle' }, { steps: 5 })).toThrow(/warmup/);
    expect(() => makeSchedule(0.1, 0)).toThrow(RangeError);
    expect(() => makeSchedule(Number.NaN, 10)).toThrow(RangeError);
  });
});

describe('validateSchedule', () => {
  const v = (spec: unknown, total = 100) => validateSchedule(spec, total);
  const paths = (spec: unknown, total = 100) => v(spec, total).map((i) => i.path);

  it('accepts valid specs and no spec', () => {
    const ok: unknown[] = [
      undefined,
      { kind: 'constant' },
      { kind: 'step', step_size: 10 },
      { kind: 'step', step_size: 1, gamma: 1 },
      { kind: 'exponential', gamma: 1.01 },
      { kind: 'cosine' },
      { kind: 'cosine', t_max: 500, eta_min: 0 },
      { kind: 'one_cycle' },
      {
        kind: 'one_cycle',
        pct_start: 0.25,
        three_phase: true,
        anneal: 'linear',
        div_factor: 1,
        final_div_factor: 1,
      },
      { kind: 'cosine', warmup: { steps: 99, start_factor: 0 } },
      { kind: 'step', step_size: 5, warmup: { steps: 0, start_factor: 1 } },
    ];
    for (const spec of ok) expect(v(spec)).toEqual([]);
  });

  it('checks the object and kind', () => {
    expect(v(null)).toEqual([{ path: '', message: 'must be an object' }]);
    expect(v([1])).toEqual([{ path: '', message: 'must be an object' }]);
    expect(paths({ kind: 'linear' })).toEqual(['kind']);
    expect(v({ kind: 'linear' })[0].message).toMatch(
      /constant, step, exponential, cosine, one_cycle/,
    );
    expect(paths({})).toEqual(['kind']);
  });

  it('step: step_size integer >= 1, gamma in (0, 1]', () => {
    expect(v({ kind: 'step' })).toEqual([{ path: 'step_size', message: 'is required for step' }]);
    expect(v({ kind: 'step', step_size: 0 })).toEqual([
      { path: 'step_size', message: 'must be an integer >= 1' },
    ]);
    expect(paths({ kind: 'step', step_size: 2.5 })).toEqual(['step_size']);
    expect(v({ kind: 'step', step_size: 3, gamma: 0 })).toEqual([
      { path: 'gamma', message: 'must be in (0, 1]' },
    ]);
    expect(paths({ kind: 'step', step_size: 3, gamma: 1.5 })).toEqual(['gamma']);
    expect(v({ kind: 'step', step_size: Infinity, gamma: Number.NaN })).toEqual([
      { path: 'step_size', message: 'must be a finite number' },
      { path: 'gamma', message: 'must be a finite number' },
    ]);
    expect(v({ kind: 'step', step_size: '10' })).toEqual([
      { path: 'step_size', message: 'must be a finite number' },
    ]);
  });

  it('exponential: gamma required and > 0', () => {
    expect(v({ kind: 'exponential' })).toEqual([
      { path: 'gamma', message: 'is required for exponential' },
    ]);
    expect(v({ kind: 'exponential', gamma: 0 })).toEqual([
      { path: 'gamma', message: 'must be > 0' },
    ]);
    expect(v({ kind: 'exponential', gamma: -0.5 })).toEqual([
      { path: 'gamma', message: 'must be > 0' },
    ]);
  });

  it('cosine: t_max integer >= 1, eta_min >= 0 and finite', () => {
    expect(v({ kind: 'cosine', t_max: 0 })).toEqual([
      { path: 't_max', message: 'must be an integer >= 1' },
    ]);
    expect(v({ kind: 'cosine', eta_min: -1e-3 })).toEqual([
      { path: 'eta_min', message: 'must be >= 0' },
    ]);
    expect(v({ kind: 'cosine', eta_min: Infinity })).toEqual([
      { path: 'eta_min', message: 'must be a finite number' },
    ]);
  });

  it('one_cycle: pct_start in (0,1), div factors >= 1, momenta in [0,1), enums and booleans', () => {
    expect(v({ kind: 'one_cycle', pct_start: 0 })).toEqual([
      { path: 'pct_start', message: 'must be in (0, 1)' },
    ]);
    expect(paths({ kind: 'one_cycle', pct_start: 1 })).toEqual(['pct_start']);
    expect(v({ kind: 'one_cycle', div_factor: 0.5, final_div_factor: 0 })).toEqual([
      { path: 'div_factor', message: 'must be >= 1' },
      { path: 'final_div_factor', message: 'must be >= 1' },
    ]);
    expect(paths({ kind: 'one_cycle', base_momentum: -0.1, max_momentum: 1 })).toEqual([
      'base_momentum',
      'max_momentum',
    ]);
    expect(
      paths({ kind: 'one_cycle', anneal: 'cosine', three_phase: 'yes', cycle_momentum: 1 }),
    ).toEqual(['anneal', 'three_phase', 'cycle_momentum']);
  });

  it('one_cycle: phase lengths must be positive', () => {
    // pct_start*T - 1 = 0 would divide by zero in PyTorch (phase 1 of length 0).
    expect(paths({ kind: 'one_cycle', pct_start: 0.1 }, 10)).toEqual(['pct_start']);
    expect(v({ kind: 'one_cycle', pct_start: 0.1 }, 10)[0].message).toMatch(/must be > 1/);
    expect(paths({ kind: 'one_cycle' }, 3)).toEqual(['pct_start']); // default 0.3 * 3 = 0.9
    expect(v({ kind: 'one_cycle', pct_start: 0.2 }, 10)).toEqual([]);
    // three_phase: phase 2 (ending at 2*pct*T - 2) must end before the last step.
    expect(paths({ kind: 'one_cycle', three_phase: true, pct_start: 0.6 })).toEqual(['pct_start']);
    expect(v({ kind: 'one_cycle', three_phase: true, pct_start: 0.45 })).toEqual([]);
    expect(v({ kind: 'one_cycle', three_phase: false, pct_start: 0.6 })).toEqual([]);
  });

  it('warmup: steps integer in [0, totalSteps), start_factor in [0,1], not with one_cycle', () => {
    expect(v({ kind: 'constant', warmup: { steps: 100 } })).toEqual([
      { path: 'warmup.steps', message: 'must be < total steps (100)' },
    ]);
    expect(v({ kind: 'constant', warmup: { steps: -1 } })).toEqual([
      { path: 'warmup.steps', message: 'must be an integer >= 0' },
    ]);
    expect(v({ kind: 'constant', warmup: {} })).toEqual([
      { path: 'warmup.steps', message: 'is required' },
    ]);
    expect(v({ kind: 'cosine', warmup: { steps: 10, start_factor: 1.5 } })).toEqual([
      { path: 'warmup.start_factor', message: 'must be in [0, 1]' },
    ]);
    expect(v({ kind: 'cosine', warmup: { steps: Number.NaN } })).toEqual([
      { path: 'warmup.steps', message: 'must be a finite number' },
    ]);
    expect(paths({ kind: 'cosine', warmup: 5 })).toEqual(['warmup']);
    expect(v({ kind: 'one_cycle', warmup: { steps: 5 } })).toEqual([
      { path: 'warmup', message: 'one_cycle has its own warm-up (pct_start); remove warmup' },
    ]);
  });

  it('reports several issues at once', () => {
    const spec: unknown = {
      kind: 'cosine',
      t_max: -3,
      eta_min: -1,
      warmup: { steps: 200, start_factor: -1 },
    };
    expect(paths(spec)).toEqual(['t_max', 'eta_min', 'warmup.steps', 'warmup.start_factor']);
  });
});

// Type-level: ScheduleSpec is a discriminated union on `kind`.
const _specs: ScheduleSpec[] = [
  { kind: 'constant' },
  { kind: 'step', step_size: 3 },
  { kind: 'one_cycle', anneal: 'linear' },
];
void _specs;
