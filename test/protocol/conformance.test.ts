import type { Server } from "node:http";
import { after, before, describe } from "node:test";
import { createNodeServer } from "../../shared/adapters/node-http.js";
import { useAzurite } from "../helpers/azurite.js";
import { createTestRegistry } from "../helpers/registry.js";
import { discoveryWorkflow } from "./conformance-discovery.js";
import { managementWorkflow } from "./conformance-management.js";
import { pullWorkflow } from "./conformance-pull.js";
import { pushWorkflow } from "./conformance-push.js";
import { listen, SuiteClient, SuiteRun, type RunOptions } from "./conformance-support.js";

/**
 * The OCI distribution-spec conformance suite (v1.1 era: conformance/01_pull, 02_push,
 * 03_discovery, 04_management), spec by spec and in its order, against the registry served by
 * the Node adapter on 127.0.0.1. Spec names are the suite's; statuses accepted are the suite's.
 *
 * The suite is one process whose specs share state: all four workflows in one namespace is
 * its usual run. Each workflow is also run alone (one OCI_TEST_* flag), in a fresh namespace.
 */
describe("OCI distribution-spec conformance suite (v1.1 workflows), over HTTP", () => {
  const azurite = useAzurite();

  /** One run: its own registry (container and tables) behind its own server. */
  function suiteRun(options: RunOptions, env: Record<string, string> = {}): SuiteRun {
    const run = new SuiteRun(options);
    let server: Server | undefined;
    let client: SuiteClient | undefined;
    before(async () => {
      const registry = await createTestRegistry(azurite().connectionString, env);
      server = createNodeServer(registry.handle, registry.config.http);
      client = new SuiteClient(await listen(server));
      run.connect(client);
    });
    after(() => {
      client?.close();
      server?.closeAllConnections();
      server?.close();
    });
    return run;
  }

  describe("all workflows in one namespace (OCI_TEST_PULL, _PUSH, _CONTENT_DISCOVERY, _CONTENT_MANAGEMENT = 1; OCI_AUTOMATIC_CROSSMOUNT=0)", () => {
    const run = suiteRun({ namespace: "conformance/all", automaticCrossmount: false });
    pullWorkflow(run);
    pushWorkflow(run);
    discoveryWorkflow(run);
    managementWorkflow(run);
  });

  describe("all workflows in one namespace, against STOWAGE_BLOB_REDIRECT=true (blob GETs are 307s to storage, followed)", () => {
    const run = suiteRun({ namespace: "conformance/redirected" }, { STOWAGE_BLOB_REDIRECT: "true" });
    pullWorkflow(run);
    pushWorkflow(run);
    discoveryWorkflow(run);
    managementWorkflow(run);
  });

  describe("each workflow alone, with OCI_DELETE_MANIFEST_BEFORE_BLOBS=0", () => {
    describe("OCI_TEST_PULL=1 only", () => {
      pullWorkflow(suiteRun({ namespace: "conformance/pull", deleteManifestBeforeBlobs: false }));
    });

    describe("OCI_TEST_PUSH=1 only, OCI_AUTOMATIC_CROSSMOUNT=1 against STOWAGE_AUTO_MOUNT=true", () => {
      const options = { namespace: "conformance/push", deleteManifestBeforeBlobs: false, automaticCrossmount: true };
      pushWorkflow(suiteRun(options, { STOWAGE_AUTO_MOUNT: "true" }));
    });

    describe("OCI_TEST_CONTENT_DISCOVERY=1 only", () => {
      discoveryWorkflow(suiteRun({ namespace: "conformance/discovery", deleteManifestBeforeBlobs: false }));
    });

    describe("OCI_TEST_CONTENT_MANAGEMENT=1 only", () => {
      managementWorkflow(suiteRun({ namespace: "conformance/management", deleteManifestBeforeBlobs: false }));
    });
  });
});
