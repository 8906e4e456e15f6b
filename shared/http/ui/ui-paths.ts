/** Where the web UI lives: its page at `/` and its bundled assets under `/ui/`. */
export const UI_ASSET_PREFIX = "/ui/";

/** Whether a path belongs to the web UI (kept tiny: the router imports it at cold start). */
export function isUiPath(path: string): boolean {
  return path === "/" || path.startsWith(UI_ASSET_PREFIX);
}
