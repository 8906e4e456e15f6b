import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import {
  assertBlob,
  assertBlobCreated,
  assertError,
  bodyBytes,
  bytes,
  nextLocation,
  patchChunk,
  patchStreamed,
  pushBlob,
  startUpload,
  streamBody,
  withQuery,
} from "./support.js";

describe("OCI Distribution: upload integrity (large, concurrent, sha512)", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  /** Stages 1 MiB blocks, so a few MiB span several blocks (and several block commits). */
  let smallBlocks: TestRegistry;

  before(async () => {
    [registry, smallBlocks] = await Promise.all([
      createTestRegistry(azurite().connectionString),
      createTestRegistry(azurite().connectionString, { STOWAGE_BLOCK_SIZE_MIB: "1" }),
    ]);
  });

  describe("Blobs larger than the storage block size", () => {
    const big = randomBlob(3.5 * 1024 * 1024);

    /** After a first request took `big` up to `split`: one PATCH with the rest and the closing PUT, to `smallBlocks`. */
    const sendTheRest = async (first: Response, split: number, repository: string) => {
      assert.equal(first.status, 202);
      const rest = await patchChunk(smallBlocks, nextLocation(first), big.data.subarray(split), split);
      assert.equal(rest.status, 202);
      assertBlobCreated(
        await smallBlocks.fetch(withQuery(nextLocation(rest), `digest=${big.digest}`), { method: "PUT" }),
        repository,
        big.digest,
      );
      await assertBlob(smallBlocks, repository, big.digest, big.data);
    };

    it("arrive intact through several PATCH chunks", async () => {
      let location = await startUpload(smallBlocks, "big/chunks");
      const chunk = 1_300_000;
      for (let start = 0; start < big.data.byteLength; start += chunk) {
        const response = await patchChunk(smallBlocks, location, big.data.subarray(start, start + chunk), start);
        assert.equal(response.status, 202);
        location = nextLocation(response);
      }
      assertBlobCreated(
        await smallBlocks.fetch(withQuery(location, `digest=${big.digest}`), { method: "PUT" }),
        "big/chunks",
        big.digest,
      );
      await assertBlob(smallBlocks, "big/chunks", big.digest, big.data);
    });

    it("arrive intact through one streamed PATCH", async () => {
      const patch = await patchStreamed(smallBlocks, await startUpload(smallBlocks, "big/stream"), big.data);
      assert.equal(patch.status, 202);
      assert.equal(patch.headers.get("range"), `0-${big.data.byteLength - 1}`);
      assertBlobCreated(
        await smallBlocks.fetch(withQuery(nextLocation(patch), `digest=${big.digest}`), { method: "PUT" }),
        "big/stream",
        big.digest,
      );
      await assertBlob(smallBlocks, "big/stream", big.digest, big.data);
    });

    it("arrive intact through a streamed PATCH followed by a chunk (re-hash of several blocks)", async () => {
      const split = 2_500_000;
      const first = await patchStreamed(
        smallBlocks,
        await startUpload(smallBlocks, "big/mixed"),
        big.data.subarray(0, split),
      );
      await sendTheRest(first, split, "big/mixed");
    });

    it("arrive intact monolithically, and ranges across block boundaries are exact", async () => {
      const response = await smallBlocks.fetch(`/v2/big/mono/blobs/uploads/?digest=${big.digest}`, {
        method: "POST",
        body: streamBody(big.data),
        duplex: "half",
      });
      assertBlobCreated(response, "big/mono", big.digest);
      const range = await smallBlocks.fetch(`/v2/big/mono/blobs/${big.digest}`, {
        headers: { Range: "bytes=1048000-2097500" },
      });
      assert.equal(range.status, 206);
      assert.ok((await bodyBytes(range)).equals(big.data.subarray(1048000, 2097501)));
    });

    it("continue on an instance with smaller blocks than the one that took the first chunk", async () => {
      // a rolling change of STOWAGE_BLOCK_SIZE_MIB: a 2 MiB instance wrote the first chunk whole
      // (one Put Blob), a 1 MiB one over the same storage takes the rest
      const env = {
        STOWAGE_CONTAINER: smallBlocks.config.container,
        STOWAGE_TABLE_PREFIX: smallBlocks.config.tablePrefix,
        STOWAGE_EVENT_QUEUE: smallBlocks.config.events.queue,
      };
      const largerBlocks = await createTestRegistry(azurite().connectionString, {
        ...env,
        STOWAGE_BLOCK_SIZE_MIB: "2",
      });
      const split = 1_500_000;
      const first = await patchChunk(
        largerBlocks,
        await startUpload(largerBlocks, "big/rolling"),
        big.data.subarray(0, split),
        0,
      );
      await sendTheRest(first, split, "big/rolling");
    });
  });

  describe("Concurrent clients", () => {
    it("the same blob pushed by several clients at once is stored once and served intact everywhere", async () => {
      const blob = randomBlob(50_000);
      const pushes = ["race/a", "race/b", "race/a", "race/c"].map(async (repository) => {
        const location = await startUpload(registry, repository);
        const put = await registry.fetch(withQuery(location, `digest=${blob.digest}`), {
          method: "PUT",
          body: bytes(blob.data),
        });
        assertBlobCreated(put, repository, blob.digest);
      });
      pushes.push(pushBlob(registry, "race/d", blob.data).then(() => undefined));
      await Promise.all(pushes);
      for (const repository of ["race/a", "race/b", "race/c", "race/d"])
        await assertBlob(registry, repository, blob.digest, blob.data);
    });

    it("of two chunks racing for the same offset, exactly one is accepted and the other is 416", async () => {
      const one = randomBlob(100);
      const two = randomBlob(100);
      const location = await startUpload(registry, "race/chunks");
      const responses = await Promise.all([
        patchChunk(registry, location, one.data, 0),
        patchChunk(registry, location, two.data, 0),
      ]);
      const statuses = responses.map((r) => r.status).sort();
      assert.deepEqual(statuses, [202, 416]);
      const won = responses[0]?.status === 202 ? 0 : 1;
      const winner = won === 0 ? one : two;
      const next = nextLocation(responses[won] as Response);
      await Promise.all(responses.map((r) => r.body?.cancel()));
      assert.equal((await registry.fetch(next)).headers.get("range"), "0-99");
      // the URL both raced with can no longer finish the upload: its state is behind the blob
      const stale = await registry.fetch(withQuery(location, `digest=${winner.digest}`), { method: "PUT" });
      await assertError(stale, 416, "BLOB_UPLOAD_INVALID");
      assertBlobCreated(
        await registry.fetch(withQuery(next, `digest=${winner.digest}`), { method: "PUT" }),
        "race/chunks",
        winner.digest,
      );
      await assertBlob(registry, "race/chunks", winner.digest, winner.data);
    });
  });

  describe("sha512 digests", () => {
    const sha512 = (data: Uint8Array) => `sha512:${createHash("sha512").update(data).digest("hex")}`;

    it("a monolithic upload by sha512 digest is stored and served under that digest", async () => {
      const blob = randomBlob(777);
      const digest = sha512(blob.data);
      const response = await registry.fetch(`/v2/sha512/mono/blobs/uploads/?digest=${digest}`, {
        method: "POST",
        body: bytes(blob.data),
      });
      assertBlobCreated(response, "sha512/mono", digest);
      await assertBlob(registry, "sha512/mono", digest, blob.data);
    });

    it("a chunked upload completed with a sha512 digest is verified and stored", async () => {
      const blob = randomBlob(2000);
      const digest = sha512(blob.data);
      let location = await startUpload(registry, "sha512/chunks");
      location = nextLocation(await patchChunk(registry, location, blob.data.subarray(0, 1000), 0));
      location = nextLocation(await patchChunk(registry, location, blob.data.subarray(1000), 1000));
      assertBlobCreated(
        await registry.fetch(withQuery(location, `digest=${digest}`), { method: "PUT" }),
        "sha512/chunks",
        digest,
      );
      await assertBlob(registry, "sha512/chunks", digest, blob.data);
    });

    it("a sha512 mismatch is 400 DIGEST_INVALID", async () => {
      const blob = randomBlob(100);
      const location = await startUpload(registry, "sha512/mismatch");
      const wrong = sha512(bytes("other"));
      await assertError(
        await registry.fetch(withQuery(location, `digest=${wrong}`), { method: "PUT", body: bytes(blob.data) }),
        400,
        "DIGEST_INVALID",
      );
    });
  });
});
