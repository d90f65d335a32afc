// The Node end-to-end tests (test/e2e) talk to a real local Worker over HTTP,
// as the agent and other clients do: one is started here for the whole run.
import type { TestProject } from 'vitest/node';
import { startStride } from '../../scripts/local-worker.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    strideUrl: string;
    devKey: string;
    runnerKey: string;
  }
}

export default async function setup(project: TestProject) {
  const stride = await startStride({ devKey: 'e2e-key', runnerKey: 'e2e-runner-key' });
  project.provide('strideUrl', stride.url);
  project.provide('devKey', stride.devKey);
  project.provide('runnerKey', stride.runnerKey);
  return async () => {
    await stride.dispose();
  };
}
