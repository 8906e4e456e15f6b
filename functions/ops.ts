import functions, { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { functionsApp } from "../shared/adapters/functions-app.js";
import { serveFunctionsRequest } from "../shared/adapters/functions-http.js";

const { app } = functions;
app.setup({ enableHttpStream: true });

/**
 * The operator endpoints: `/healthz`, `/readyz` and `/metrics` (with `STOWAGE_METRICS=token`:
 * behind the Functions front end every client arrives through a proxy, so `loopback` refuses all).
 */
export async function opsHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  return serveFunctionsRequest((await functionsApp()).handle, request);
}

for (const route of ["healthz", "readyz", "metrics"]) {
  app.http(route, { route, methods: ["GET", "HEAD"], authLevel: "anonymous", handler: opsHandler });
}
