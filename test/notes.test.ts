// Notes on studies and trials: written with PUT, read back with GET .../notes, bounded, only on
// a study the project has and a trial the study has reached, kept as written (markup included:
// the dashboard renders it as text).
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';

const put = (path: string, body: unknown) => api(path, { method: 'PUT', body });

async function studyWithTrials(n: number) {
  const study = await json(
    post('/v1/studies', { name: 'notes', space: { x: { type: 'float', low: 0, high: 1 } } }),
  );
  for (let i = 0; i < n; i++) await post(`/v1/studies/${study.id}/ask`);
  return study.id as string;
}

describe('notes', () => {
  it('writes the study note and a trial note, answers them, and a second write replaces the first', async () => {
    const id = await studyWithTrials(2);
    expect(await json(api(`/v1/studies/${id}/notes`))).toEqual({ study: null, trials: [] });
    const text = '# Why\n\n<img src=x onerror=alert(1)> **lr** too high; see [run](https://x.test)';
    const s = await put(`/v1/studies/${id}/note`, { note: text });
    expect(s.status).toBe(200);
    expect(await s.json()).toMatchObject({ study_id: id, trial: null, note: text });
    const t = await json(put(`/v1/studies/${id}/trials/1/note`, { note: 'diverged at step 3' }));
    expect(t).toMatchObject({ study_id: id, trial: 1, note: 'diverged at step 3' });
    await put(`/v1/studies/${id}/trials/1/note`, { note: 'diverged at step 4' });
    const all = await json(api(`/v1/studies/${id}/notes`));
    expect(all.study.note).toBe(text);
    expect(all.trials.map((n: any) => [n.trial, n.note])).toEqual([[1, 'diverged at step 4']]);
    expect(Date.parse(all.trials[0].updated_at)).toBeGreaterThan(0);
    const rows = await env.DB.prepare('SELECT trial, body FROM notes WHERE study_id = ?')
      .bind(id)
      .all();
    expect(rows.results).toEqual(
      expect.arrayContaining([
        { trial: -1, body: text },
        { trial: 1, body: 'diverged at step 4' },
      ]),
    );
  });

  it('refuses a note over the limit, a wrong field, an unknown study and a trial the study has not reached, writing nothing', async () => {
    const id = await studyWithTrials(1);
    const long = await put(`/v1/studies/${id}/note`, { note: 'x'.repeat(20_001) });
    expect(long.status).toBe(422);
    expect(((await long.json()) as any).errors[0].path).toBe('note');
    const typo = await put(`/v1/studies/${id}/note`, { notes: 'hi' });
    expect(typo.status).toBe(422);
    expect(JSON.stringify(await typo.json())).toMatch(/note/);
    const nobody = await put('/v1/studies/std_nope/note', { note: 'hi' });
    expect(nobody.status).toBe(404);
    const beyond = await put(`/v1/studies/${id}/trials/1/note`, { note: 'hi' });
    expect(beyond.status).toBe(404);
    expect(((await beyond.json()) as any).detail).toMatch(
      /has no trial 1 \(its trials are numbered 0 to 0\)/,
    );
    expect((await api('/v1/studies/std_nope/notes')).status).toBe(404);
    expect(await json(api(`/v1/studies/${id}/notes`))).toEqual({ study: null, trials: [] });
  });
});
