// Starts a TypeScript worker thread when the code runs from source (vitest, tsx): registers tsx's
// loader in this thread, then imports the worker module named by `workerData.entry`.
// Never used by the built bot (dist/ starts the compiled .js worker directly), so tsx, a
// devDependency, is only needed where .ts runs.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
