import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../src/probe/backend';

describe('probe backend', () => {
  it('initialises the SIMD WASM backend inside workerd, without falling back', async () => {
    expect(await ensureBackend()).toBe('wasm-simd');
    expect(tf.getBackend()).toBe('wasm');
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const b = tf.tensor2d([
      [5, 6],
      [7, 8],
    ]);
    expect(Array.from(tf.matMul(a, b).dataSync())).toEqual([19, 22, 43, 50]);
  });
});
