import functions, { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { functionsApp } from "../shared/adapters/functions-app.js";
import { serveFunctionsRequest } from "../shared/adapters/functions-http.js";

const { app } = functions;
app.setup({ enableHttpStream: true });

/**
 * The token server (Docker token auth): `/token` for GET logins and OAuth2 POST forms, and
 * `/token/jwks` for the public keys. The same core as the Node server's `/token`.
 */
export async function tokenHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  return serveFunctionsRequest((await functionsApp()).handle, request);
}

app.http("token", { route: "token", methods: ["GET", "POST"], authLevel: "anonymous", handler: tokenHandler });
app.http("revoke", { route: "token/revoke", methods: ["POST"], authLevel: "anonymous", handler: tokenHandler });
app.http("jwks", { route: "token/jwks", methods: ["GET"], authLevel: "anonymous", handler: tokenHandler });
