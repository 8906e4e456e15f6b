import functions, { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { functionsApp } from "../shared/adapters/functions-app.js";
import { serveFunctionsRequest } from "../shared/adapters/functions-http.js";

const { app } = functions;
app.setup({ enableHttpStream: true });

/**
 * The web UI (its page at `/`, assets under `/ui/`) and the JSON API it reads (`/api/...`):
 * the same core as the Node server. The root route needs the app setting
 * `AzureWebJobsDisableHomepage=true`, or the Functions host answers `/` with its own page.
 */
export async function uiHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  return serveFunctionsRequest((await functionsApp()).handle, request);
}

app.http("ui", { route: "/", methods: ["GET", "HEAD"], authLevel: "anonymous", handler: uiHandler });
app.http("ui-assets", { route: "ui/{*path}", methods: ["GET", "HEAD"], authLevel: "anonymous", handler: uiHandler });
app.http("api", {
  route: "api/{*path}",
  methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  authLevel: "anonymous",
  handler: uiHandler,
});
