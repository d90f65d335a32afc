/**
 * Routes the dashboard reads and writes beside a study's own: its summary (trials without
 * every report) and the Markdown notes on studies and trials. Thin: validate, call the service, answer.
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import * as notes from '../services/notes';
import { studySummary } from '../services/summary';
import {
  NotePutSchema,
  NoteSchema,
  NotesSchema,
  StudySummarySchema,
  SummaryQuerySchema,
} from '../contract/schemas';
import { body, decimalParam, json, projectOf, route, secured } from './openapi';

const NOT_FOUND = 'Unknown study or trial (or another project’s)';
const base = secured('Studies');
const StudyParam = z.object({ id: z.string().min(1).max(64) });
const TrialParam = StudyParam.extend({
  number: decimalParam(0, 1_000_000).openapi({
    param: { name: 'number', in: 'path', required: true },
  }),
});

const list = route(
  {
    ...base,
    operationId: 'getNotes',
    method: 'get',
    path: '/v1/studies/{id}/notes',
    summary: "A study's note and its trials' notes",
    request: { params: StudyParam },
    responses: { 200: { description: 'The notes', ...json(NotesSchema) } },
  },
  { 404: NOT_FOUND },
);
const putStudy = route(
  {
    ...base,
    operationId: 'putStudyNote',
    method: 'put',
    path: '/v1/studies/{id}/note',
    summary: "Write the study's note (Markdown)",
    request: { params: StudyParam, ...body(NotePutSchema) },
    responses: { 200: { description: 'The note', ...json(NoteSchema) } },
  },
  { 404: NOT_FOUND },
);
const putTrial = route(
  {
    ...base,
    operationId: 'putTrialNote',
    method: 'put',
    path: '/v1/studies/{id}/trials/{number}/note',
    summary: "Write a trial's note (Markdown)",
    request: { params: TrialParam, ...body(NotePutSchema) },
    responses: { 200: { description: 'The note', ...json(NoteSchema) } },
  },
  { 404: NOT_FOUND },
);

const summary = route(
  {
    ...base,
    operationId: 'getStudySummary',
    method: 'get',
    path: '/v1/studies/{id}/summary',
    summary:
      "A study's trials without their reports (a count and the last one each), the median curve, and a few trials' full curves",
    request: { params: StudyParam, query: SummaryQuerySchema },
    responses: { 200: { description: 'The summary', ...json(StudySummarySchema) } },
  },
  { 404: 'Unknown study (or another project’s)' },
);

export function dashboardRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(list, async (c) =>
    c.json(await notes.getNotes(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
  app.openapi(putStudy, async (c) =>
    c.json(
      await notes.setNote(
        c.env,
        projectOf(c),
        c.req.valid('param').id,
        null,
        c.req.valid('json').note,
      ),
      200,
    ),
  );
  app.openapi(putTrial, async (c) => {
    const { id, number } = c.req.valid('param');
    return c.json(
      await notes.setNote(c.env, projectOf(c), id, number, c.req.valid('json').note),
      200,
    );
  });
  app.openapi(summary, async (c) =>
    c.json(
      await studySummary(c.env, projectOf(c), c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  );
}
