import type { App } from "../app/build-app.js";

/**
 * The app's modules, apart from the function entry points: in the Functions bundle
 * (dist/functions.mjs) they are a chunk of their own, so the host indexes the functions
 * without parsing them. Asked for as soon as an entry point is loaded, so the file is read
 * and compiled while the host finishes starting, before the first invocation awaits it.
 */
const startup = import("./functions-startup.js");
startup.catch(() => undefined); // a failure surfaces on the first invocation, not as an unhandled rejection

/**
 * The application every function of the Functions app shares (they run in one worker):
 * built once per cold start, on first use. A failed start (storage unreachable) is not
 * kept, so the next invocation tries again.
 */
let pending: Promise<App> | undefined;

export function functionsApp(): Promise<App> {
  pending ??= startup
    .then(({ startFunctionsApp }) => startFunctionsApp())
    .catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
  return pending;
}
