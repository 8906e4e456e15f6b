import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { after, before, describe, it } from "node:test";
import { createNodeServer } from "../../shared/adapters/node-http.js";
import { useAzurite } from "../helpers/azurite.js";
import { basic, createAuthRegistry, type AuthRegistry } from "./support.js";
import { listenOnLoopback } from "../helpers/listening.js";

/**
 * Login attacks as an outsider makes them, over real sockets bound to many loopback source
 * addresses: parallel guessing must not outrun the throttle, and must not lock out the owner.
 */
describe("logins under parallel attack", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;
  let port: number;
  let close: () => Promise<void>;
  const MAX = 5; // the default STOWAGE_LOGIN_MAX_FAILURES

  before(async () => {
    // the registry's clock stands still, so no delay runs out during a wave: the bound is exact
    // (with time passing, each doubling delay that runs out lets one more attempt through)
    const now = Date.now();
    registry = await createAuthRegistry(azurite().connectionString, {}, () => now);
    for (const name of ["target", "flooded", "crowd"]) {
      await registry.auth.admin.addUser({ name, access: ["team/*:pull"] }, `${name}-password`);
    }
    const server = createNodeServer(registry.app.handle, registry.config.http);
    ({ port, close } = await listenOnLoopback(server));
  });
  after(() => close());

  /** GET /token with Basic credentials from a socket bound to `from`; resolves with the status. */
  const login = (user: string, password: string, from: string, agent: Agent | false = false) =>
    new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/token",
          localAddress: from,
          agent,
          headers: { authorization: basic(user, password) },
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            resolve({ status: res.statusCode as number, retryAfter: res.headers["retry-after"] as string }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  const address = (i: number) => `127.0.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`;
  const checked = (results: { status: number }[]) => results.filter((r) => r.status !== 429).length;

  it("100 parallel guesses for one user from 100 addresses check at most the allowed number of passwords", async () => {
    const first = await Promise.all(Array.from({ length: 56 }, (_, i) => login("target", `guess-${i}`, address(i))));
    assert.ok(checked(first) <= MAX, `${checked(first)} passwords checked`);
    assert.ok(first.every((r) => r.status === 401 || r.status === 429));
    // the right password, 57th, among the rest of the wave: refused unchecked like them
    const rest = await Promise.all(
      Array.from({ length: 44 }, (_, i) =>
        login("target", i === 0 ? "target-password" : `guess-${56 + i}`, address(56 + i)),
      ),
    );
    assert.equal(rest[0]?.status, 429, "the right password got no token");
    assert.equal(checked([...first, ...rest]), checked(first), "nothing more was checked");
  });

  it("300 parallel guesses from one address check at most its allowance (4 x max)", async () => {
    // over 100 keep-alive connections: one address may not open more than 256 at once
    const agent = new Agent({ keepAlive: true, maxSockets: 100 });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => login(`nobody${i % 7}`, "guess", "127.0.9.9", agent)),
    );
    agent.destroy();
    assert.ok(checked(results) <= 4 * MAX, `${checked(results)} passwords checked`);
    assert.ok(results.filter((r) => r.status === 429).every((r) => Number(r.retryAfter) >= 1));
  });

  it("while an attacker keeps failing from other addresses, the owner logs in from a familiar one", async () => {
    assert.equal((await login("crowd", "crowd-password", "127.0.8.8")).status, 200);
    for (let wave = 0; wave < 3; wave++) {
      const attack = Array.from({ length: 30 }, (_, i) => login("crowd", "guess", address(400 + wave * 30 + i)));
      const owner = login("crowd", "crowd-password", "127.0.8.8");
      await Promise.all(attack);
      assert.equal((await owner).status, 200, `wave ${wave + 1}`);
    }
  });

  it("a flood of unknown names is refused fast once the hashing queue is full, and the owner gets through", async () => {
    const flood = Array.from({ length: 600 }, (_, i) => login(`ghost${i}`, "guess", address(600 + i)));
    let owner = await login("flooded", "flooded-password", "127.0.7.7");
    for (let tries = 1; owner.status === 429 && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(owner.retryAfter ?? 1)));
      owner = await login("flooded", "flooded-password", "127.0.7.7");
    }
    const results = await Promise.all(flood);
    assert.equal(owner.status, 200, "the owner logged in during the flood (retrying after Retry-After)");
    const refused = results.filter((r) => r.status === 429);
    assert.ok(refused.length > 0, "the queue is bounded: some checks were refused at once");
    assert.ok(refused.every((r) => Number(r.retryAfter) >= 1));
    assert.ok(results.every((r) => r.status === 401 || r.status === 429));
  });
});
