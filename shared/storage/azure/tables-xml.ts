/**
 * What the bundles give @azure/data-tables in place of @azure/core-xml (tools/bundle.mjs): the
 * table SDK imports the XML parser and builder for table access policies, which Stowage never
 * uses, and loading them cost every cold start about 12 ms. An XML answer (a proxy's error page)
 * still parses: the real parser is loaded the first time one arrives.
 */
import type { XmlOptions } from "@azure/core-xml";

export async function parseXML(text: string, options?: XmlOptions): Promise<unknown> {
  const xml = await import("@azure/core-xml");
  return xml.parseXML(text, options);
}

export function stringifyXML(): string {
  throw new Error("XML request bodies (table access policies) are not part of Stowage's table client");
}
