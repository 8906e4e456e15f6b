/**
 * `Authorization: Basic base64(user:password)`; the password may contain colons, the user
 * name may not. Undefined when the header is not usable Basic credentials.
 */
export function basicCredentials(header: string): { username: string; password: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  const decoded = match ? Buffer.from(match[1] as string, "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
