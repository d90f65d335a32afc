/**
 * The Worker's entry (wrangler.toml `main`): `fetch` is the Hono app (app.ts), `queue` takes both
 * queues' batches (a notifications queue's name starts with `stride-notifications`; every other
 * batch is edge trials), and the Durable Object classes are exported under the names wrangler.toml
 * binds.
 */
import { createApp } from './app';
import type { EdgeTrialMessage } from './coordinator/study-coordinator';
import type { NotificationMessage } from './contract/study';
import { handleEdgeBatch } from './services/edge';
import { handleNotificationBatch } from './services/notifications';

export { StudyCoordinator } from './coordinator/study-coordinator';
export { RateLimiter } from './coordinator/rate-limiter';

const app = createApp();

export default {
  fetch: app.fetch,
  // Two queues: edge trials (src/services/edge.ts) and notifications (src/services/notifications.ts).
  async queue(batch: MessageBatch<EdgeTrialMessage | NotificationMessage>, env: Env) {
    if (batch.queue.startsWith('stride-notifications'))
      return handleNotificationBatch(batch as MessageBatch<NotificationMessage>, env);
    return handleEdgeBatch(batch as MessageBatch<EdgeTrialMessage>, env);
  },
} satisfies ExportedHandler<Env, EdgeTrialMessage | NotificationMessage>;
