import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../shared/app/config.js";

const DIR = "deploy/kubernetes";
const LABELS = { "app.kubernetes.io/name": "stowage" };
/** Read by @azure/identity (DefaultAzureCredential), not by Stowage's own configuration. */
const IDENTITY = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST"];
/** Node-server-only settings that the Functions sample does not carry. */
const NODE_SERVER = ["PORT", "HOST", "STOWAGE_ACCESS_LOG"];

type Manifest = { kind: string; metadata: { name: string }; spec?: any; stringData?: Record<string, string> }; // eslint-disable-line @typescript-eslint/no-explicit-any

function parse(text: string, where: string): Manifest[] {
  return parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors, [], `${where}: YAML errors`);
    return doc.toJS() as Manifest;
  });
}

const manifests = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
  .flatMap((f) => parse(readFileSync(`${DIR}/${f}`, "utf8"), f));
const one = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as Manifest;
};

/** Checks the parts of a Deployment people get wrong; shared by the manifest and the README's example. */
function checkDeployment(deployment: Manifest, where: string): void {
  const pod = deployment.spec.template.spec;
  assert.ok(deployment.spec.replicas >= 2, `${where}: several replicas`);
  assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels, where);
  // the classic mistake: imagePullSecrets under the container, or beside `template`
  assert.ok(
    Array.isArray(pod.imagePullSecrets) && pod.imagePullSecrets[0]?.name,
    `${where}: pod-level imagePullSecrets`,
  );
  for (const container of pod.containers) {
    assert.equal(container.imagePullSecrets, undefined, `${where}: imagePullSecrets is not a container field`);
    assert.equal(container.livenessProbe?.httpGet?.path, "/healthz", `${where}: liveness on /healthz`);
    assert.equal(container.readinessProbe?.httpGet?.path, "/readyz", `${where}: readiness on /readyz`);
    assert.ok(container.resources?.limits?.memory && container.resources?.requests?.cpu, `${where}: resources`);
  }
}

describe("Kubernetes manifests (deploy/kubernetes)", () => {
  it("lists every manifest in the kustomization", () => {
    const kustomization = parse(readFileSync(`${DIR}/kustomization.yaml`, "utf8"), "kustomization")[0] as unknown as {
      resources: string[];
    };
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    assert.deepEqual([...kustomization.resources].sort(), files.sort());
  });

  it("runs several non-root replicas on a read-only root, probed on /healthz and /readyz, within limits", () => {
    const deployment = one("Deployment");
    checkDeployment(deployment, "deployment.yaml");
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.livenessProbe.httpGet.scheme, "HTTPS", "the pod is its own TLS front door");
    const grace = Number(
      container.env.find((e: { name: string }) => e.name === "STOWAGE_SHUTDOWN_GRACE_SECONDS").value,
    );
    assert.ok(pod.terminationGracePeriodSeconds > grace + 5, "Kubernetes waits longer than the server's own grace");
  });

  it("mounts the TLS secret where the settings point, and reads settings from the Secret", () => {
    const pod = one("Deployment").spec.template.spec;
    const container = pod.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const tlsVolume = pod.volumes.find(
      (v: { secret?: { secretName: string } }) => v.secret?.secretName === "stowage-tls",
    );
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === tlsVolume.name);
    assert.equal(env.STOWAGE_TLS_CERT_FILE, `${mount.mountPath}/tls.crt`);
    assert.equal(env.STOWAGE_TLS_KEY_FILE, `${mount.mountPath}/tls.key`);
    assert.equal(container.envFrom[0].secretRef.name, one("Secret").metadata.name);
  });

  it("has settings Stowage knows, and that its configuration accepts", () => {
    const sample = JSON.parse(readFileSync("local.settings.sample.json", "utf8")) as { Values: Record<string, string> };
    const known = new Set([...Object.keys(sample.Values), ...IDENTITY, ...NODE_SERVER]);
    const settings = one("Secret").stringData ?? {};
    for (const name of Object.keys(settings)) assert.ok(known.has(name), `unknown setting ${name}`);
    const env = one("Deployment").spec.template.spec.containers[0].env as { name: string; value: string }[];
    assert.doesNotThrow(() => loadConfig({ ...settings, ...Object.fromEntries(env.map((e) => [e.name, e.value])) }));
  });

  it("selects the Deployment's pods from the Service and the PodDisruptionBudget", () => {
    assert.deepEqual(one("Service").spec.selector, LABELS);
    assert.deepEqual(one("PodDisruptionBudget").spec.selector.matchLabels, LABELS);
    assert.deepEqual(one("Deployment").spec.template.metadata.labels, LABELS);
    assert.ok(one("PodDisruptionBudget").spec.maxUnavailable < one("Deployment").spec.replicas);
  });

  it("the README's Deployment example parses and has imagePullSecrets at the right indentation", () => {
    const readme = readFileSync("README.md", "utf8");
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const deployments = blocks.flatMap((b) => parse(b, "README")).filter((m) => m?.kind === "Deployment");
    assert.ok(deployments.length > 0, "the README shows a Deployment");
    for (const deployment of deployments) checkDeployment(deployment, "README");
  });
});
