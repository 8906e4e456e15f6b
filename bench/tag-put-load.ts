import { call, expectStatus, keepAliveAgent } from "./http.js";
import { MANIFEST_ACCEPT } from "./small-image.js";
import { TAGS_WRITTEN } from "./table-ceiling.js";
import type { Target } from "./target.js";

export interface TagPutRate {
  clients: number;
  puts: number;
  seconds: number;
  perSecond: number;
  /** PUTs that failed or timed out (not counted in `puts`), and the first failure. */
  errors: number;
  firstError?: string;
  /** Slowest successful PUT. */
  maxMs: number;
  /** Tags the repository held before this measurement. */
  tagsBefore: number;
}

export interface TagPuts {
  serial: TagPutRate;
  parallel: TagPutRate;
  /** The same parallel rate once the repository holds `fillTo` tags. */
  grown?: TagPutRate;
}

const TIMEOUT = 30_000;
/**
 * The unmeasured fill stops here even short of `fillTo` (the rate row then says how many tags
 * the repository held): it keeps the whole `npm run bench` under 8 minutes on 2 shared cores,
 * where a PUT costing tens of storage calls fills 3,000 tags at under 10 PUT/s.
 */
const FILL_SECONDS = 150;
/** A measurement stops early after this many failed PUTs. */
const MAX_ERRORS = 20;

/**
 * Manifest PUT by tag, as a CI pushing tags makes it: the same (already pushed) manifest
 * under a tag, 1 client then `clients` at once for `seconds` each; then the repository is
 * filled to `fillTo` tags (unmeasured, a new tag each) and the parallel rate taken again, to
 * see whether a PUT gets slower as the repository grows. The timed PUTs cycle through
 * TAGS_WRITTEN tags, as the Azurite table ceiling's writes do, so a repository keeps its size
 * while it is measured (new tags made a repository "small" only for the first second: at 400
 * PUT/s it held 3,000 tags before the grown rate was due).
 */
export async function measureTagPuts(
  target: Target,
  repository: string,
  digest: string,
  options: { clients: number; seconds: number; fillTo: number },
): Promise<TagPuts> {
  const manifestUrl = (ref: string) => `${target.url}/v2/${repository}/manifests/${ref}`;
  const got = expectStatus(
    await call(manifestUrl(digest), { method: "GET", headers: { Accept: MANIFEST_ACCEPT }, timeoutMs: TIMEOUT }),
    200,
    "GET manifest",
  );
  const contentType = String(got.headers["content-type"]);
  const tagged = new Set<string>(); // tags this run made (the image's own tag is one more)
  let counter = 0;
  const agent = keepAliveAgent(options.clients);
  let errors = 0;
  let firstError: string | undefined;
  let maxMs = 0;
  /** One PUT under `tag`; a failure is counted, not thrown, so one slow answer does not lose the run. */
  const putOne = async (tag: string): Promise<boolean> => {
    const started = performance.now();
    try {
      const put = await call(manifestUrl(tag), {
        method: "PUT",
        headers: { "Content-Type": contentType },
        body: got.body,
        agent,
        timeoutMs: TIMEOUT,
      });
      expectStatus(put, 201, `PUT manifest ${tag}`);
      tagged.add(tag);
      maxMs = Math.max(maxMs, performance.now() - started);
      return true;
    } catch (error) {
      errors++;
      firstError ??= `${(error as Error).message} after ${Math.round(performance.now() - started)} ms`;
      return false;
    }
  };
  const tags = () => tagged.size + 1;
  const rate = async (clients: number, seconds: number): Promise<TagPutRate> => {
    const tagsBefore = tags();
    errors = 0;
    firstError = undefined;
    maxMs = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let puts = 0;
    const worker = async () => {
      while (performance.now() < deadline && errors < MAX_ERRORS) {
        if (await putOne(`cycled-${counter++ % TAGS_WRITTEN}`)) puts++;
      }
    };
    await Promise.all(Array.from({ length: clients }, worker));
    const elapsed = (performance.now() - started) / 1000;
    const rate: TagPutRate = { clients, puts, seconds: elapsed, perSecond: puts / elapsed, errors, maxMs, tagsBefore };
    if (firstError) rate.firstError = firstError;
    return rate;
  };
  try {
    const result: TagPuts = {
      serial: await rate(1, options.seconds),
      parallel: await rate(options.clients, options.seconds),
    };
    if (options.fillTo > tags()) {
      const fillDeadline = performance.now() + FILL_SECONDS * 1000;
      const filler = async () => {
        while (tags() < options.fillTo && performance.now() < fillDeadline && errors < MAX_ERRORS) {
          await putOne(`t${String(counter++).padStart(6, "0")}`);
        }
      };
      errors = 0;
      await Promise.all(Array.from({ length: options.clients }, filler));
      result.grown = await rate(options.clients, options.seconds);
    }
    return result;
  } finally {
    agent.destroy();
  }
}
