import { request, type Agent } from "node:https";
import type { TLSSocket } from "node:tls";

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Whether the request went over a connection an earlier request used (keep-alive). */
  reusedSocket: boolean;
  /** SHA-256 fingerprint of the certificate the server presented. */
  peerFingerprint: string;
}

export interface HttpsOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Trusted roots (PEM); without it the system's roots, which do not know the test CA. */
  ca?: string;
  /** `false`: a connection of its own (the global agent keeps connections alive). */
  agent?: Agent | false;
  timeoutMs?: number;
}

/**
 * One HTTPS request with node:https (fetch cannot be given a CA per request without undici's
 * own Agent), collecting the answer and what the TLS layer saw.
 */
export function httpsRequest(url: string, options: HttpsOptions = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        // read now: a kept-alive socket goes back to the agent's pool once the body has ended
        const peerFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            reusedSocket: req.reusedSocket,
            peerFingerprint,
          });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on("error", reject);
    req.end(options.body);
  });
}
