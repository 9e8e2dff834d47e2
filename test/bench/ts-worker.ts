/**
 * A worker thread running a TypeScript module of this project. Worker threads do not inherit tsx's
 * module hooks from the thread that starts them, so the worker registers them before importing the
 * module. The worker gets a copy of this thread's environment as it is now.
 */
import { Worker } from 'node:worker_threads';

export const startTsWorker = (module: URL): Worker => {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const script = JSON.stringify(module.href);
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${script}); });`, {
    eval: true,
  });
};
