import { describe, it, expect } from 'vitest';
import {
  batchScale,
  priorLr,
  suggestFromPriors,
  type LrEvidence,
} from '../../src/tuning/lr/priors';

describe('lr priors', () => {
  it('scales SGD linearly and adaptive optimizers by the square root of the batch size', () => {
    expect(batchScale('sgd', 256, 1024)).toBe(4);
    expect(batchScale('momentum', 512, 128)).toBe(0.25);
    expect(batchScale('adam', 256, 1024)).toBe(2);
    expect(batchScale('adamw', 1024, 256)).toBe(0.5);
    expect(priorLr({ optimizer: 'sgd', model_family: 'cnn' }).lr).toBe(0.1);
    expect(priorLr({ optimizer: 'sgd', batch_size: 1024 }).lr).toBeCloseTo(0.2, 12);
    // Below the reference batch the base rate stands, and the reasoning says why.
    for (const optimizer of ['sgd', 'adam'] as const) {
      const small = priorLr({ optimizer, batch_size: 16 });
      expect(small.lr).toBe(priorLr({ optimizer, batch_size: 256 }).lr);
      expect(small.reasoning.join(' ')).toMatch(/batch 16: not scaled down/);
    }
    // Every Adam-family optimizer by the square root of the batch ratio, the SGD family linearly.
    for (const optimizer of ['adam', 'adamw', 'rmsprop', 'adagrad'] as const) {
      const at = (batch_size: number) => priorLr({ optimizer, batch_size }).lr;
      expect(at(1024) / at(256)).toBeCloseTo(2, 12);
      expect(priorLr({ optimizer, batch_size: 1024 }).reasoning.join(' ')).toMatch(
        /square-root scaling/,
      );
    }
    for (const optimizer of ['sgd', 'momentum', 'nesterov'] as const) {
      const at = (batch_size: number) => priorLr({ optimizer, batch_size }).lr;
      expect(at(1024) / at(256)).toBeCloseTo(4, 12);
    }
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
    // Other families halve per decade above 1e8 (stride's heuristic, said as such).
    const cnn = priorLr({ optimizer: 'adam', model_family: 'cnn', parameters: 1e9 });
    expect(cnn.lr).toBeCloseTo(5e-4, 12);
    expect(cnn.reasoning.join(' ')).toMatch(/stride's heuristic/);
  });

  it("below GPT-3's smallest model, Kaplan et al.'s fit: smaller Adam transformers take larger rates", () => {
    const at = (parameters: number, optimizer: 'adam' | 'adamw' = 'adam') =>
      priorLr({ optimizer, model_family: 'transformer', parameters });
    // 0.003239 - 0.0001395 ln N.
    expect(at(1e7).lr).toBeCloseTo(0.003239 - 0.0001395 * Math.log(1e7), 12);
    expect(at(1e7, 'adamw').lr).toBe(at(1e7).lr);
    expect(at(1e7).reasoning.join(' ')).toMatch(/Kaplan et al\. 2020/);
    // Below the fit's smallest model (768 non-embedding parameters) it stays at its value there.
    expect(at(100).lr).toBe(at(768).lr);
    // Monotone in size, and the two published rules meet at 125M within 10%.
    const sizes = [1e3, 1e5, 1e6, 1e7, 5e7, 1e8, 1.2e8, 125e6, 1e9, 1e10, 1e11];
    const lrs = sizes.map((n) => at(n).lr);
    for (let i = 1; i < lrs.length; i++) expect(lrs[i]).toBeLessThanOrEqual(lrs[i - 1]);
    expect(at(124.9e6).lr / at(125e6).lr).toBeLessThan(1.1);
    // Batch size does not rescale them: both are at their papers' batches.
    expect(
      priorLr({ optimizer: 'adam', model_family: 'transformer', parameters: 1e7, batch_size: 32 })
        .lr,
    ).toBe(at(1e7).lr);
  });

  it('blends history with the prior by count, rescaling each study to the batch size asked, and grades confidence by agreement', () => {
    const none = suggestFromPriors({ optimizer: 'adam' }, []);
    expect(none).toMatchObject({ lr: 1e-3, confidence: 'low', studies_used: 0, source: 'prior' });
    expect(none.reasoning[0]).toMatch(/^from published rules alone/);
    const one = suggestFromPriors({ optimizer: 'adam' }, [{ study_id: 'a', lr: 1e-2 }]);
    expect(one.lr).toBeCloseTo(Math.exp((1 / 3) * Math.log(1e-2) + (2 / 3) * Math.log(1e-3)), 12);
    expect(one.confidence).toBe('medium');
    expect(one.source).toBe('studies');
    expect(one.reasoning[0]).toMatch(/^from published rules refined by this project's studies/);
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

  it("the project's validated lr/suggest answers come first: their geometric mean, the published rules only said", () => {
    const validated = (lr: number, extra: Partial<LrEvidence> = {}): LrEvidence => ({
      study_id: `v${lr}`,
      lr,
      kind: 'lr-suggest',
      model_family: 'mlp',
      ...extra,
    });
    const studies: LrEvidence[] = [1, 2, 3].map((i) => ({ study_id: `s${i}`, lr: 1e-1 }));
    const r = suggestFromPriors({ optimizer: 'adam', model_family: 'mlp' }, [
      ...studies,
      validated(2e-3),
      validated(8e-3),
    ]);
    expect(r.source).toBe('validated');
    expect(r.lr).toBeCloseTo(4e-3, 12); // sqrt(2e-3 * 8e-3): the studies and the prior left out
    expect(r.studies_used).toBe(2);
    expect(r.confidence).toBe('medium');
    expect(r.reasoning[0]).toMatch(
      /^from this project's own evidence first: 2 validated lr\/suggest answers with adam \(mlp\)/,
    );
    expect(r.reasoning.join('\n')).toMatch(/published rule: adam: base lr 1e-3/);
    expect(r.reasoning.at(-1)).toMatch(
      /the published rules give 1\.00e-3, 0\.6 decades .*not used/,
    );
    // Rescaled to the batch asked (square root for Adam), high with 3 that agree.
    const three = suggestFromPriors(
      { optimizer: 'adam', batch_size: 256 },
      [1, 2, 3].map((i) => validated(1e-3 * i, { batch_size: 64 })),
    );
    expect(three.lr).toBeCloseTo(2 * Math.cbrt(1e-3 * 2e-3 * 3e-3), 12);
    expect(three.confidence).toBe('high');
    // Another family's validated answer is not this family's evidence; nor one of no known family.
    const cnn = suggestFromPriors({ optimizer: 'adam', model_family: 'cnn' }, [
      validated(2e-3),
      validated(3e-3, { model_family: undefined }),
    ]);
    expect(cnn).toMatchObject({ source: 'prior', confidence: 'low', studies_used: 0 });
  });
});
