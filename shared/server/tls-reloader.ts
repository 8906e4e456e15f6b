import type { Server as TlsServer } from "node:tls";
import type { TlsConfig } from "../app/config.js";
import type { SecretStore } from "../storage/ports/secret-store.js";
import { loadTlsCredentials, type TlsCredentials } from "./tls-credentials.js";

/**
 * Serves a renewed certificate without a restart: every `reloadMs` the source is read again
 * (a few KiB of files, or one secret read) and, when its bytes changed and they make a valid
 * context, new handshakes use it (`setSecureContext`); connections already open keep theirs.
 * Polling rather than file watching: a Kubernetes secret volume swaps a symlink, cert-manager
 * or an operator may write the two files one after the other, and Key Vault has no events
 * here. A renewal that does not load (say the key file is not written yet) is retried at the
 * next tick while the current certificate stays in service. Returns the stop function.
 */
export function reloadTlsOnChange(
  server: TlsServer,
  config: TlsConfig,
  current: TlsCredentials,
  log: (line: string) => void,
  secrets?: SecretStore,
): () => void {
  let fingerprint = current.fingerprint;
  let lastError = "";
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    loadTlsCredentials(config, secrets)
      .then((next) => {
        lastError = "";
        if (next.fingerprint === fingerprint) return;
        server.setSecureContext(next.options);
        fingerprint = next.fingerprint;
        log(`TLS: certificate reloaded from ${next.description}`);
      })
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (message !== lastError) log(`TLS: keeping the current certificate: ${message}`);
        lastError = message;
      })
      .finally(() => (busy = false));
  }, config.reloadMs);
  timer.unref();
  return () => clearInterval(timer);
}
