import * as z from "./schema.js";

/** A string holding JSON, parsed: the first step of a setting whose value is a JSON document. */
export function jsonText(message: string) {
  return z.pipe(
    z.string(),
    z.transform((text, ctx): unknown => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.issues.push({ code: "custom", message, input: text });
        return z.NEVER;
      }
    }),
  );
}
