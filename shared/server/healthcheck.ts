import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { loadConfig } from "../app/config.js";

/**
 * The container's HEALTHCHECK: GET /healthz on this process's own port, with the same
 * settings as the server (HTTPS when a certificate is configured). Exit 0 on 200. The
 * certificate is not verified: the check asks whether the server answers, not who it is.
 */
function main(): void {
  const config = loadConfig();
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const options = { host, port: config.port, path: "/healthz", timeout: 4000 };
  const req = config.tls ? httpsRequest({ ...options, rejectUnauthorized: false }, done) : httpRequest(options, done);
  req.on("timeout", () => req.destroy(new Error("timed out")));
  req.on("error", (error) => {
    console.error(`healthcheck: ${error.message}`);
    process.exit(1);
  });
  req.end();
}

function done(res: import("node:http").IncomingMessage): void {
  res.resume();
  console.log(`healthcheck: GET /healthz ${res.statusCode}`);
  process.exit(res.statusCode === 200 ? 0 : 1);
}

main();
