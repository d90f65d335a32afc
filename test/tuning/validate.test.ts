import { describe, expect, it } from 'vitest';
import type { Space } from '../../src/tuning/types';
import { validateDistribution, validateParams, validateSpace } from '../../src/tuning/validate';

const paths = (raw: unknown) => validateSpace(raw).issues.map((i) => i.path);

/** The single issue a space has (fails if it has none or several). */
function only(raw: unknown) {
  const { space, issues } = validateSpace(raw);
  expect(space).toBeNull();
  expect(issues).toHaveLength(1);
  return issues[0];
}

const lr = { type: 'float', low: 1e-5, high: 1, log: true };
const opt = { type: 'categorical', choices: ['sgd', 'adam', 'adamw'] };

describe('validateSpace: valid spaces', () => {
  it('accepts the examples of API.md and a conditional space, returning a clean copy', () => {
    const raw = {
      lr,
      momentum: { type: 'float', low: 0.0, high: 0.99, step: 0.01, when: { optimizer: 'sgd' } },
      width: { type: 'int', low: 16, high: 512, log: true },
      optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'adamw'] },
      beta1: { type: 'float', low: 0.8, high: 0.999, when: { optimizer: ['adam', 'adamw'] } },
      amsgrad: { type: 'categorical', choices: [true, false], when: { optimizer: 'adam' } },
      eps_scale: { type: 'int', low: 0, high: 10, step: 2, when: { amsgrad: true } },
    };
    const { space, issues } = validateSpace(raw);
    expect(issues).toEqual([]);
    expect(space).toEqual(raw);
    expect(space).not.toBe(raw);
    expect(space!.beta1.when!.optimizer).not.toBe(raw.beta1.when.optimizer);
    raw.optimizer.choices.push('rmsprop');
    expect((space!.optimizer as { choices: unknown[] }).choices).toHaveLength(3);
  });

  it('accepts steps that divide the range up to float rounding', () => {
    for (const [low, high, step] of [
      [0, 0.99, 0.01],
      [0.1, 1, 0.1],
      [0, 1, 0.1],
      [0.3, 0.9, 0.2],
      [-1, 1, 0.05],
      [0, 1, 1],
    ]) {
      expect(validateSpace({ x: { type: 'float', low, high, step } }).issues).toEqual([]);
    }
  });

  it('accepts mixed-type choices (1 and "1" are different), an int log with step 1 and an empty space (define-by-run)', () => {
    expect(
      validateSpace({ c: { type: 'categorical', choices: ['1', 1, true, 'true', 0.5] } }).issues,
    ).toEqual([]);
    expect(validateSpace({})).toEqual({ space: {}, issues: [] });
    expect(
      validateSpace({ n: { type: 'int', low: 1, high: 1024, log: true, step: 1 } }).issues,
    ).toEqual([]);
  });

  it('refuses a parameter name over 256 characters; a define-by-run distribution takes no when', () => {
    const long = 'x'.repeat(257);
    const issues = validateSpace({ [long]: { type: 'float', low: 0, high: 1 } }).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toMatch(/at most 256 characters, got 257/);
    expect(validateSpace({ ['x'.repeat(256)]: { type: 'float', low: 0, high: 1 } }).issues).toEqual(
      [],
    );
    const when = validateDistribution({ type: 'float', low: 0, high: 1, when: { a: 'b' } });
    expect(when.spec).toBeNull();
    expect(when.issues.map((i) => i.path)).toEqual(['distribution.when']);
    expect(validateDistribution({ type: 'int', low: 1, high: 8 }, 'd')).toEqual({
      spec: { type: 'int', low: 1, high: 8 },
      issues: [],
    });
  });

  it('accepts 64 parameters and names that shadow Object.prototype', () => {
    const many = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [`p${i}`, { type: 'int', low: 0, high: 1 }]),
    );
    expect(validateSpace(many).issues).toEqual([]);
    const odd = {
      constructor: { type: 'categorical', choices: ['a', 'b'] },
      toString: { type: 'int', low: 0, high: 3, when: { constructor: 'a' } },
    };
    expect(validateSpace(odd).issues).toEqual([]);
  });
});

describe('validateSpace: the shape of the space', () => {
  it.each([[null], [[]], ['lr'], [3], [undefined]])(
    'rejects a space that is not an object (%j)',
    (raw) => {
      expect(only(raw).path).toBe('space');
    },
  );

  it('rejects more than 64 parameters', () => {
    const many = Object.fromEntries(
      Array.from({ length: 65 }, (_, i) => [`p${i}`, { type: 'int', low: 0, high: 1 }]),
    );
    expect(only(many)).toEqual({
      path: 'space',
      message: 'must have at most 64 parameters, got 65',
    });
  });

  it('rejects an empty name and __proto__', () => {
    expect(only({ '': { type: 'int', low: 0, high: 1 } }).path).toBe('space');
    expect(only(JSON.parse('{"__proto__": {"type": "int", "low": 0, "high": 1}}')).path).toBe(
      'space.__proto__',
    );
  });

  it('rejects a parameter that is not an object', () => {
    expect(only({ lr: 0.1 }).path).toBe('space.lr');
    expect(only({ lr: [1, 2] }).path).toBe('space.lr');
  });

  it('rejects a missing or unknown type', () => {
    expect(only({ lr: { low: 0, high: 1 } }).path).toBe('space.lr.type');
    const issue = only({ lr: { type: 'double', low: 0, high: 1 } });
    expect(issue).toEqual({
      path: 'space.lr.type',
      message: "must be one of float, int, categorical, got 'double'",
    });
  });

  it('rejects unknown keys at their own path, with a suggestion', () => {
    const issue = only({ lr: { type: 'float', low: 0, high: 1, lo: 3 } });
    expect(issue.path).toBe('space.lr.lo');
    expect(issue.message).toContain("did you mean 'low'?");
    expect(only({ opt: { ...opt, low: 0 } }).path).toBe('space.opt.low');
    expect(only({ n: { type: 'int', low: 0, high: 3, choices: [1] } }).path).toBe(
      'space.n.choices',
    );
    expect(only({ lr: { ...lr, logarithmic: true } }).path).toBe('space.lr.logarithmic');
  });

  it('reports every issue, not just the first', () => {
    const { space, issues } = validateSpace({
      a: { type: 'float', low: 1, high: 0 },
      b: { type: 'int', low: 0.5, high: 2 },
      c: { type: 'categorical', choices: [] },
      d: { type: 'float', low: 0, high: 1, when: { nope: 'x' } },
      e: { type: 'float', low: -1, high: 1, log: true, step: 0.5 },
    });
    expect(space).toBeNull();
    expect(issues.map((i) => i.path)).toEqual([
      'space.a.low',
      'space.b.low',
      'space.c.choices',
      'space.e.low',
      'space.e.step',
      'space.d.when.nope',
    ]);
  });
});

describe('validateSpace: float and int parameters', () => {
  it('requires finite numeric low and high', () => {
    expect(only({ x: { type: 'float', high: 1 } }).path).toBe('space.x.low');
    expect(only({ x: { type: 'float', low: 0 } }).path).toBe('space.x.high');
    expect(only({ x: { type: 'float', low: '0', high: 1 } }).path).toBe('space.x.low');
    expect(only({ x: { type: 'float', low: 0, high: Infinity } }).path).toBe('space.x.high');
    expect(only({ x: { type: 'float', low: NaN, high: 1 } }).path).toBe('space.x.low');
  });

  it('rejects low >= high at low', () => {
    expect(only({ x: { type: 'float', low: 1, high: 1 } })).toEqual({
      path: 'space.x.low',
      message: 'must be less than high (1), got 1',
    });
    expect(only({ x: { type: 'int', low: 5, high: 2 } }).path).toBe('space.x.low');
  });

  it('rejects log with low <= 0 at low', () => {
    expect(only({ lr: { type: 'float', low: 0, high: 1, log: true } })).toEqual({
      path: 'space.lr.low',
      message: 'must be > 0 when log is true, got 0',
    });
    expect(only({ lr: { type: 'float', low: -1, high: 1, log: true } }).path).toBe('space.lr.low');
    expect(only({ n: { type: 'int', low: 0, high: 10, log: true } }).path).toBe('space.n.low');
    expect(validateSpace({ lr: { type: 'float', low: -1, high: 1, log: false } }).issues).toEqual(
      [],
    );
  });

  it('rejects a log that is not a boolean', () => {
    expect(only({ lr: { type: 'float', low: 1e-3, high: 1, log: 'yes' } }).path).toBe(
      'space.lr.log',
    );
  });

  it('rejects a step that is not positive or does not divide the range', () => {
    expect(only({ x: { type: 'float', low: 0, high: 1, step: 0 } }).path).toBe('space.x.step');
    expect(only({ x: { type: 'float', low: 0, high: 1, step: -0.1 } }).path).toBe('space.x.step');
    expect(only({ x: { type: 'float', low: 0, high: 1, step: '0.1' } }).path).toBe('space.x.step');
    expect(only({ x: { type: 'float', low: 0, high: 1, step: 0.3 } })).toEqual({
      path: 'space.x.step',
      message: 'must divide high - low (1) into whole steps, got 0.3',
    });
    expect(only({ x: { type: 'float', low: 0, high: 1, step: 2 } }).path).toBe('space.x.step');
    expect(only({ x: { type: 'float', low: 0, high: 1, step: 0.1 + 1e-7 } }).path).toBe(
      'space.x.step',
    );
    expect(only({ n: { type: 'int', low: 0, high: 10, step: 3 } }).path).toBe('space.n.step');
  });

  it('rejects log together with step for floats, and an int log with a step other than 1 (as Optuna)', () => {
    const issue = only({ lr: { type: 'float', low: 0.1, high: 1, log: true, step: 0.1 } });
    expect(issue.path).toBe('space.lr.step');
    expect(issue.message).toContain('log');
    expect(only({ n: { type: 'int', low: 1, high: 9, log: true, step: 2 } }).path).toBe(
      'space.n.step',
    );
  });

  it('requires integer bounds and an integer step >= 1 for ints', () => {
    expect(only({ n: { type: 'int', low: 1.5, high: 10 } }).path).toBe('space.n.low');
    expect(only({ n: { type: 'int', low: 1, high: 10.5 } }).path).toBe('space.n.high');
    expect(only({ n: { type: 'int', low: 0, high: 10, step: 2.5 } }).path).toBe('space.n.step');
    expect(only({ n: { type: 'int', low: 0, high: 10, step: 0 } }).path).toBe('space.n.step');
  });
});

describe('validateSpace: categorical parameters', () => {
  it('requires a non-empty list of choices', () => {
    expect(only({ opt: { type: 'categorical' } }).path).toBe('space.opt.choices');
    expect(only({ opt: { type: 'categorical', choices: 'sgd' } }).path).toBe('space.opt.choices');
    expect(only({ opt: { type: 'categorical', choices: [] } })).toEqual({
      path: 'space.opt.choices',
      message: 'must not be empty',
    });
  });

  it('allows at most 1000 choices', () => {
    expect(
      validateSpace({
        c: { type: 'categorical', choices: Array.from({ length: 1000 }, (_, i) => i) },
      }).issues,
    ).toEqual([]);
    expect(
      only({ c: { type: 'categorical', choices: Array.from({ length: 1001 }, (_, i) => i) } }).path,
    ).toBe('space.c.choices');
  });

  it('requires strings, finite numbers or booleans, at the offending index', () => {
    for (const bad of [null, {}, [1], NaN, Infinity, undefined]) {
      expect(only({ opt: { type: 'categorical', choices: ['a', bad] } }).path).toBe(
        'space.opt.choices.1',
      );
    }
  });

  it('rejects duplicate choices at the duplicate', () => {
    expect(only({ opt: { type: 'categorical', choices: ['sgd', 'adam', 'sgd'] } })).toEqual({
      path: 'space.opt.choices.2',
      message: "duplicates choice 0 ('sgd')",
    });
    expect(only({ c: { type: 'categorical', choices: [1, 2, 1.0] } }).path).toBe(
      'space.c.choices.2',
    );
  });
});

describe('validateSpace: conditions', () => {
  const base = { optimizer: opt, lr };

  it('requires when to be an object', () => {
    expect(
      only({ ...base, beta1: { type: 'float', low: 0.8, high: 0.99, when: 'adam' } }).path,
    ).toBe('space.beta1.when');
    expect(
      only({ ...base, beta1: { type: 'float', low: 0.8, high: 0.99, when: ['optimizer'] } }).path,
    ).toBe('space.beta1.when');
  });

  it('rejects a condition on an unknown parameter', () => {
    const space = {
      opt,
      beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'adam' } },
    };
    expect(only(space)).toEqual({
      path: 'space.beta1.when.optimizer',
      message: "names an unknown parameter 'optimizer'",
    });
    expect(only({ lr: { ...lr, when: { toString: 'x' } } }).path).toBe('space.lr.when.toString');
  });

  it('rejects a condition on a non-categorical parameter, or on itself', () => {
    expect(
      only({ ...base, beta1: { type: 'float', low: 0.8, high: 0.99, when: { lr: 0.1 } } }),
    ).toEqual({
      path: 'space.beta1.when.lr',
      message: "must name a categorical parameter; 'lr' is float",
    });
    expect(only({ optimizer: { ...opt, when: { optimizer: 'adam' } } }).path).toBe(
      'space.optimizer.when.optimizer',
    );
  });

  it('requires condition values among the parent choices', () => {
    const issue = only({
      ...base,
      beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'adamax' } },
    });
    expect(issue.path).toBe('space.beta1.when.optimizer');
    expect(issue.message).toContain("'adamax' is not one of the choices of 'optimizer'");
    expect(
      only({
        ...base,
        beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: ['adam', 'adamax'] } },
      }).path,
    ).toBe('space.beta1.when.optimizer.1');
    expect(
      only({ ...base, beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: [] } } })
        .path,
    ).toBe('space.beta1.when.optimizer');
    expect(
      only({ ...base, beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: null } } })
        .path,
    ).toBe('space.beta1.when.optimizer');
    // A number is not its string.
    const nums = {
      bs: { type: 'categorical', choices: [32, 64] },
      x: { type: 'int', low: 0, high: 1, when: { bs: '32' } },
    };
    expect(only(nums).path).toBe('space.x.when.bs');
  });

  it('rejects cycles, once per cycle, at the edge that closes it', () => {
    const two = {
      a: { type: 'categorical', choices: ['x', 'y'], when: { b: 'x' } },
      b: { type: 'categorical', choices: ['x', 'y'], when: { a: 'x' } },
    };
    const issue = only(two);
    expect(issue.path).toBe('space.b.when.a');
    expect(issue.message).toContain('a -> b -> a');
    const three = {
      a: { type: 'categorical', choices: [1, 2], when: { c: 1 } },
      b: { type: 'categorical', choices: [1, 2], when: { a: 1 } },
      c: { type: 'categorical', choices: [1, 2], when: { b: [1, 2] } },
      d: { type: 'int', low: 0, high: 3, when: { c: 2 } },
    };
    expect(paths(three)).toEqual(['space.b.when.a']);
    expect(validateSpace(three).issues[0].message).toContain('a -> c -> b -> a');
  });
});

describe('validateParams', () => {
  const { space } = validateSpace({
    lr: { type: 'float', low: 1e-5, high: 1, log: true },
    momentum: { type: 'float', low: 0, high: 0.99, step: 0.01, when: { optimizer: 'sgd' } },
    optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
    nesterov: { type: 'categorical', choices: [true, false], when: { optimizer: 'sgd' } },
    dampening: { type: 'int', low: 0, high: 10, step: 2, when: { nesterov: false } },
    width: { type: 'int', low: 16, high: 512, log: true },
  }) as { space: Space };
  const ok = {
    lr: 0.01,
    optimizer: 'sgd',
    momentum: 0.57,
    nesterov: false,
    dampening: 4,
    width: 100,
  };
  const params = (over: Record<string, unknown>, drop: string[] = []) => {
    const p: Record<string, unknown> = { ...ok, ...over };
    for (const d of drop) delete p[d];
    return p;
  };
  const pathsOf = (p: unknown) => validateParams(space, p).map((i) => i.path);

  it('accepts valid params, with or without conditional ones', () => {
    expect(validateParams(space, ok)).toEqual([]);
    expect(validateParams(space, { lr: 1, optimizer: 'adam', width: 16 })).toEqual([]);
    expect(validateParams(space, params({ nesterov: true }, ['dampening']))).toEqual([]);
    expect(validateParams(space, params({ momentum: 0.3, lr: 1e-5, width: 512 }))).toEqual([]);
  });

  it('requires every active parameter', () => {
    expect(validateParams(space, params({}, ['lr']))).toEqual([
      { path: 'params.lr', message: 'is required' },
    ]);
    expect(pathsOf(params({}, ['momentum']))).toEqual(['params.momentum']);
    expect(pathsOf(params({}, ['dampening']))).toEqual(['params.dampening']);
  });

  it('rejects inactive and unknown parameters', () => {
    expect(pathsOf({ lr: 0.1, optimizer: 'adam', width: 32, momentum: 0.5 })).toEqual([
      'params.momentum',
    ]);
    expect(pathsOf(params({ nesterov: true }))).toEqual(['params.dampening']);
    expect(validateParams(space, params({ beta9: 1 }))[0].path).toBe('params.beta9');
  });

  it('rejects values out of range, off step, non-integer, of the wrong type or not a choice', () => {
    expect(validateParams(space, params({ lr: 2 }))).toEqual([
      { path: 'params.lr', message: 'must be in [0.00001, 1], got 2' },
    ]);
    expect(pathsOf(params({ lr: 0 }))).toEqual(['params.lr']);
    expect(pathsOf(params({ lr: '0.1' }))).toEqual(['params.lr']);
    expect(pathsOf(params({ lr: null }))).toEqual(['params.lr']);
    expect(pathsOf(params({ momentum: 0.575 }))).toEqual(['params.momentum']);
    expect(pathsOf(params({ dampening: 3 }))).toEqual(['params.dampening']);
    expect(pathsOf(params({ width: 100.5 }))).toEqual(['params.width']);
    expect(pathsOf(params({ width: 1024 }))).toEqual(['params.width']);
    expect(pathsOf(params({ nesterov: 'false' }))).toEqual(['params.nesterov']);
  });

  it('does not judge children whose parent is missing or invalid', () => {
    expect(pathsOf(params({ optimizer: 'rmsprop' }))).toEqual(['params.optimizer']);
    expect(pathsOf(params({}, ['optimizer']))).toEqual(['params.optimizer']);
  });

  it('rejects params that are not an object', () => {
    expect(pathsOf(null)).toEqual(['params']);
    expect(pathsOf([1])).toEqual(['params']);
  });
});
