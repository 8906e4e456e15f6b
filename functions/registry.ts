import functions, { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { lazyHandler, toFetchRequest, toHttpResponse } from "../shared/adapters/functions-http.js";
import { loadConfig } from "../shared/config.js";
import { createRegistry } from "../shared/create-registry.js";
import { accessLogger } from "../shared/adapters/access-log.js";

const { app } = functions;
app.setup({ enableHttpStream: true });

// the Functions host keeps its own request log; ours adds only server errors with their cause
const registry = lazyHandler(() => createRegistry(loadConfig(), accessLogger(false)));

/** Every OCI Distribution / Docker Registry v2 request under /v2/. */
export async function registryHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const handle = await registry();
  return toHttpResponse(await handle(toFetchRequest(request)), request.method);
}

app.http("registry", {
  route: "v2/{*path}",
  methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  authLevel: "anonymous",
  handler: registryHandler,
});
