import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { loadConfig, settingNames } from "../../shared/app/config.js";
import { requireBinaries } from "../e2e/processes.js";

/**
 * deploy/azure/install-stowage.sh as the VM's Custom Script extension runs it, under a
 * temporary root with docker, systemctl and curl replaced by recorders: the settings the
 * template computes become an env file Stowage accepts, the image is loaded from the
 * downloaded tarball, and the service is (re)started.
 */
const SCRIPT = resolve("deploy/azure/install-stowage.sh");
const template = JSON.parse(readFileSync("deploy/azure/azuredeploy.json", "utf8")) as {
  parameters: { settings: { defaultValue: Record<string, string> } };
  variables: { derivedSettings: Record<string, string> };
};

/** What the template's expressions evaluate to in a Stack Hub deployment. */
const EVALUATED: Record<string, string> = {
  STOWAGE_STORAGE_CONNECTION_STRING:
    "DefaultEndpointsProtocol=https;AccountName=stowage01;AccountKey=a2V5;EndpointSuffix=local.azurestack.external",
  STOWAGE_STORAGE_ACCOUNT: "",
  STOWAGE_STORAGE_ENDPOINT_SUFFIX: "local.azurestack.external",
  STOWAGE_STORAGE_API_VERSION: "2019-07-07",
  STOWAGE_PUBLIC_URL: "https://registry.contoso.local",
  STOWAGE_KEY_VAULT_URL: "https://stowage01kv.vault.local.azurestack.external",
  STOWAGE_KEY_VAULT_API_VERSION: "7.1",
  STOWAGE_KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: "true",
  STOWAGE_TLS_SECRET_NAME: "stowage-tls",
  AZURE_TENANT_ID: "adfs",
  AZURE_CLIENT_ID: "0000-app",
  AZURE_CLIENT_SECRET: "principal-secret",
  AZURE_AUTHORITY_HOST: "https://adfs.local.azurestack.external/adfs",
};

function appSettings(extra: Record<string, string> = {}): Record<string, string> {
  const derived = Object.fromEntries(
    Object.entries(template.variables.derivedSettings).map(([k, v]) => [
      k,
      v.startsWith("[") ? (EVALUATED[k] ?? "?") : v,
    ]),
  );
  return { ...template.parameters.settings.defaultValue, ...derived, ...extra };
}

function run(settings: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), "stw-install-"));
  const bin = join(root, "stub-bin");
  mkdirSync(bin);
  const log = join(root, "calls.log");
  const recorder = (body = "") => `#!/bin/bash\necho "$(basename "$0") $*" >>"${log}"\n${body}\n`;
  writeFileSync(join(bin, "docker"), recorder());
  writeFileSync(join(bin, "systemctl"), recorder());
  // curl -fsSL --retry 5 -o FILE URL: writes a fake tarball
  writeFileSync(join(bin, "curl"), recorder('while [ $# -gt 0 ]; do [ "$1" = -o ] && echo tar >"$2"; shift; done'));
  for (const name of ["docker", "systemctl", "curl"]) chmodSync(join(bin, name), 0o755);
  const result = spawnSync("bash", [SCRIPT], {
    encoding: "utf8",
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      TMPDIR: root,
      STOWAGE_INSTALL_ROOT: root,
      STOWAGE_SETTINGS_B64: Buffer.from(JSON.stringify(settings)).toString("base64"),
      STOWAGE_IMAGE_URL: Buffer.from(
        "https://stowage01.blob.local.azurestack.external/deploy/stowage-image.tar?sv=x",
      ).toString("base64"),
    },
  });
  const read = (path: string) => {
    try {
      return readFileSync(join(root, path), "utf8");
    } catch {
      return undefined;
    }
  };
  return {
    result,
    root,
    calls: read("calls.log") ?? "",
    env: read("etc/stowage/stowage.env"),
    unit: read("etc/systemd/system/stowage.service"),
  };
}

describe("deploy/azure/install-stowage.sh", () => {
  it("turns the template's settings into a root-only env file Stowage accepts, loads the image, restarts the service", (t) => {
    if (!requireBinaries(t, "python3")) return;
    const webhooks = JSON.stringify([{ name: "ci", url: "https://ci.example/hook", headers: { "X-Team": "a b" } }]);
    const { result, root, calls, env, unit } = run(appSettings({ STOWAGE_WEBHOOKS: webhooks }));
    assert.equal(result.status, 0, result.stderr);
    assert.ok(env, "env file written");
    const lines = env.trimEnd().split("\n");
    const values = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    assert.equal(values.STOWAGE_WEBHOOKS, webhooks, "values are taken literally, quotes and spaces kept");
    assert.equal(values.PORT, "8443");
    assert.ok(!("STOWAGE_ANONYMOUS_PULL" in values), "empty settings are left unset");
    assert.equal(statSync(join(root, "etc/stowage/stowage.env")).mode & 0o777, 0o600);
    const stowage = Object.fromEntries(Object.entries(values).filter(([k]) => settingNames.includes(k)));
    const config = loadConfig(stowage);
    assert.equal(config.storageApiVersion, "2019-07-07");
    assert.equal(config.auth.keyVault?.serviceVersion, "7.1");
    assert.equal(config.port, 8443);
    assert.match(calls, /^curl .* -o \S+ https:\/\/stowage01\.blob\./m);
    assert.match(calls, /^docker load -i \S+stowage-image\./m);
    assert.match(calls, /^systemctl restart stowage$/m);
    assert.match(unit ?? "", /docker run --rm --name stowage --env-file \S+stowage\.env -p 443:8443 --read-only/);
  });

  it("refuses a setting with a line break (an env file cannot hold it) and writes no env file", (t) => {
    if (!requireBinaries(t, "python3")) return;
    const { result, env } = run(appSettings({ STOWAGE_TOKEN_ISSUER: "two\nlines" }));
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /STOWAGE_TOKEN_ISSUER contains a line break/);
    assert.equal(env, undefined);
  });
});
