import { describe, it, expect } from 'vitest';
import {
  buildParams,
  fromInternal,
  internalBounds,
  isActive,
  paramOrder,
  toInternal,
} from '../../src/tuning/space';
import type { Space } from '../../src/tuning/types';

describe('space transforms', () => {
  it('maps log floats through their logarithm and back', () => {
    const spec = { type: 'float' as const, low: 1e-5, high: 1, log: true };
    expect(internalBounds(spec)).toEqual([Math.log(1e-5), 0]);
    expect(fromInternal(spec, toInternal(spec, 0.01))).toBeCloseTo(0.01, 12);
    expect(fromInternal(spec, 5)).toBe(1); // clamped
  });

  it('rounds to step and to integers', () => {
    expect(fromInternal({ type: 'float', low: 0, high: 0.99, step: 0.01 }, 0.4249)).toBe(0.42);
    expect(fromInternal({ type: 'float', low: 0.1, high: 1, step: 0.1 }, 0.4)).toBe(0.4);
    expect(fromInternal({ type: 'int', low: 16, high: 512, log: true }, Math.log(100.4))).toBe(100);
    expect(fromInternal({ type: 'int', low: 0, high: 10, step: 2 }, 4.9)).toBe(4);
    // An offset low keeps values on its own grid.
    expect(fromInternal({ type: 'float', low: 0.00001, high: 1.00001, step: 0.01 }, 0.0101)).toBe(
      0.01001,
    );
  });

  it('maps categoricals to indices', () => {
    const spec = { type: 'categorical' as const, choices: ['sgd', 'adam', 'adamw'] };
    expect(toInternal(spec, 'adam')).toBe(1);
    expect(fromInternal(spec, 1.6)).toBe('adamw');
    expect(internalBounds(spec)).toEqual([0, 2]);
  });

  it('orders conditional parameters after their parents and skips inactive ones', () => {
    const space: Space = {
      beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'adam' } },
      momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['sgd'] } },
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
    };
    const order = paramOrder(space);
    expect(order.indexOf('optimizer')).toBeLessThan(order.indexOf('beta1'));
    expect(order.indexOf('optimizer')).toBeLessThan(order.indexOf('momentum'));
    const params = buildParams(space, (name, spec) =>
      name === 'optimizer' ? 'adam' : spec.type === 'float' ? spec.low : 0,
    );
    expect(params).toEqual({ optimizer: 'adam', beta1: 0.8, lr: 1e-5 });
    expect(isActive(space.momentum, params)).toBe(false);
  });
});
