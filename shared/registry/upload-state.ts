import type { BlobStat } from "../storage/ports/blob-store.js";
import type { UploadSession } from "../storage/ports/metadata-store.js";

/** Makes strings a client can carry but not forge (lib/hmac-sealer.ts, keys from auth/signing-keys.ts). */
export interface Sealer {
  seal(payload: string): Promise<string>;
  /** The payload, or undefined when `sealed` is not exactly something this registry sealed. */
  open(sealed: string): Promise<string | undefined>;
}

/** The fields as they travel (short names: the state rides in every upload URL). */
interface WireState {
  r: string;
  i: string;
  o: number;
  e: string | null;
  h?: string;
  d?: string;
  t: string;
}

/**
 * An upload's progress sealed into its URL, so a PATCH or PUT on any instance continues it
 * without reading the session row. The seal makes the hash state trustworthy: a client that
 * could write its own would get bytes indexed under a digest they do not have.
 */
export async function sealUploadState(sealer: Sealer, session: UploadSession): Promise<string> {
  const wire: WireState = {
    r: session.repository,
    i: session.id,
    o: session.offset,
    e: session.blobEtag,
    t: session.startedAt,
  };
  if (session.hashState !== undefined) wire.h = session.hashState;
  if (session.digestSoFar !== undefined) wire.d = session.digestSoFar;
  return sealer.seal(JSON.stringify(wire));
}

/** The session a sealed state describes, or undefined unless it is ours and names this upload. */
export async function openUploadState(
  sealer: Sealer,
  sealed: string,
  repository: string,
  id: string,
): Promise<UploadSession | undefined> {
  const payload = await sealer.open(sealed);
  if (payload === undefined) return undefined;
  const wire = JSON.parse(payload) as WireState;
  // sealed for another upload: never let one upload's state drive another's blob
  if (wire.r !== repository || wire.i !== id) return undefined;
  const session: UploadSession = { repository, id, offset: wire.o, blobEtag: wire.e, startedAt: wire.t };
  if (wire.h !== undefined) session.hashState = wire.h;
  if (wire.d !== undefined) session.digestSoFar = wire.d;
  return session;
}
/**
 * The upload as its blob says it stands, when the URL's state is behind it (a client that lost
 * an answer, or asks with an older Location). A frozen blob's etag is never handed out.
 */
export function caughtUp(session: UploadSession, stored: BlobStat | undefined): UploadSession {
  const note = stored?.note;
  if (!stored || !note || note.frozen || stored.etag === session.blobEtag) return session;
  const current: UploadSession = {
    ...session,
    offset: stored.size,
    blobEtag: stored.etag,
    digestSoFar: note.digest,
  };
  delete current.hashState;
  if (note.hashState !== undefined) current.hashState = note.hashState;
  return current;
}
