import functions, { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { functionsApp } from "../shared/adapters/functions-app.js";
import { serveFunctionsRequest } from "../shared/adapters/functions-http.js";

const { app } = functions;
app.setup({ enableHttpStream: true });

/** Every OCI Distribution / Docker Registry v2 request under /v2/. */
export async function registryHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  return serveFunctionsRequest((await functionsApp()).handle, request);
}

app.http("registry", {
  route: "v2/{*path}",
  methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  authLevel: "anonymous",
  handler: registryHandler,
});
