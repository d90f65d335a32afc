/** The dashboard's summary of a study: its trials without every report. Thin: validate, call the service, answer. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import { studySummary } from '../services/summary';
import { StudySummarySchema, SummaryQuerySchema } from '../contract/schemas';
import { json, projectOf, route, secured } from './openapi';

const summary = route(
  {
    ...secured('Studies'),
    operationId: 'getStudySummary',
    method: 'get',
    path: '/v1/studies/{id}/summary',
    summary:
      "A study's trials without their reports (a count and the last one each), the median curve, and a few trials' full curves",
    request: { params: z.object({ id: z.string().min(1).max(64) }), query: SummaryQuerySchema },
    responses: { 200: { description: 'The summary', ...json(StudySummarySchema) } },
  },
  { 404: 'Unknown study (or another project’s)' },
);

export function summaryRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(summary, async (c) =>
    c.json(
      await studySummary(c.env, projectOf(c), c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  );
}
