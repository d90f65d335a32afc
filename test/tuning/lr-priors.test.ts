import { describe, it, expect } from 'vitest';
import { batchScale, priorLr, suggestFromPriors } from '../../src/tuning/lr-priors';

describe('lr priors', () => {
  it('scales SGD linearly and adaptive optimizers by the square root of the batch size', () => {
    expect(batchScale('sgd', 256, 1024)).toBe(4);
    expect(batchScale('momentum', 512, 128)).toBe(0.25);
    expect(batchScale('adam', 256, 1024)).toBe(2);
    expect(batchScale('adamw', 1024, 256)).toBe(0.5);
    expect(priorLr({ optimizer: 'sgd', model_family: 'cnn' }).lr).toBe(0.1);
    expect(priorLr({ optimizer: 'sgd', batch_size: 128 }).lr).toBeCloseTo(0.025, 12);
  });

  it("interpolates GPT-3's table in log(parameters) for transformers", () => {
    expect(
      priorLr({ optimizer: 'adam', model_family: 'transformer', parameters: 125e6 }).lr,
    ).toBeCloseTo(6e-4, 12);
    expect(
      priorLr({ optimizer: 'adam', model_family: 'transformer', parameters: 175e9 }).lr,
    ).toBeCloseTo(6e-5, 12);
    const mid = priorLr({
      optimizer: 'adam',
      model_family: 'transformer',
      parameters: Math.sqrt(125e6 * 350e6),
    }).lr;
    expect(mid).toBeCloseTo(Math.sqrt(6e-4 * 3e-4), 12);
    // Small transformers keep the base rate; other families halve per decade above 1e8.
    expect(priorLr({ optimizer: 'adam', model_family: 'transformer', parameters: 1e7 }).lr).toBe(
      3e-4,
    );
    expect(priorLr({ optimizer: 'adam', model_family: 'cnn', parameters: 1e9 }).lr).toBeCloseTo(
      5e-4,
      12,
    );
  });

  it('blends history with the prior by count, rescaling each study to the batch size asked, and grades confidence by agreement', () => {
    const none = suggestFromPriors({ optimizer: 'adam' }, []);
    expect(none).toMatchObject({ lr: 1e-3, confidence: 'low', studies_used: 0 });
    const one = suggestFromPriors({ optimizer: 'adam' }, [{ study_id: 'a', lr: 1e-2 }]);
    expect(one.lr).toBeCloseTo(Math.exp((1 / 3) * Math.log(1e-2) + (2 / 3) * Math.log(1e-3)), 12);
    expect(one.confidence).toBe('medium');
    // Found at batch 64, asked at 256: x2 for Adam.
    const scaled = suggestFromPriors(
      { optimizer: 'adam', batch_size: 256 },
      [1, 2, 3].map((i) => ({ study_id: `s${i}`, lr: 2e-3, batch_size: 64 })),
    );
    expect(scaled.lr).toBeCloseTo(Math.exp(0.6 * Math.log(4e-3) + 0.4 * Math.log(1e-3)), 12);
    expect(scaled.confidence).toBe('high');
    const scattered = suggestFromPriors(
      { optimizer: 'adam' },
      [1e-5, 1e-3, 1e-1].map((lr, i) => ({ study_id: `x${i}`, lr })),
    );
    expect(scattered.confidence).toBe('medium');
    expect(scattered.range.max / scattered.range.min).toBeGreaterThan(10);
    // Another family's study is not evidence when the family is given.
    expect(
      suggestFromPriors({ optimizer: 'adam', model_family: 'cnn' }, [
        { study_id: 'a', lr: 1e-2, model_family: 'transformer' },
      ]).studies_used,
    ).toBe(0);
  });
});
