import { after, before } from "node:test";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";

/**
 * One in-memory Azurite per test file, started before its tests and stopped (by PID) after.
 * Returns a getter because the instance exists only once `before` has run.
 */
export function useAzurite(): () => AzuriteInstance {
  let instance: AzuriteInstance | undefined;
  before(async () => {
    instance = await startAzurite();
  });
  after(async () => {
    await instance?.stop();
  });
  return () => {
    if (!instance) throw new Error("Azurite not started yet (call inside a test)");
    return instance;
  };
}
