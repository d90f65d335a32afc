import { createApp } from './app';
import type { EdgeTrialMessage } from './coordinator/study-coordinator';
import { handleEdgeBatch } from './services/edge';

export { StudyCoordinator } from './coordinator/study-coordinator';
export { RateLimiter } from './coordinator/rate-limiter';

const app = createApp();

export default {
  fetch: app.fetch,
  // Edge trials (src/services/edge.ts), sent by the study's coordinator.
  queue: (batch: MessageBatch<EdgeTrialMessage>, env: Env) => handleEdgeBatch(batch, env),
} satisfies ExportedHandler<Env, EdgeTrialMessage>;
