/** A row of the report and the target on it: how it reads and whether it was met. */

export type Cell = number | string | undefined;

export interface Row {
  label: string;
  unit: string;
  stowage: Cell;
  azurite?: Cell;
  distribution?: Cell;
  digits?: number;
  /** Detail printed under the table (e.g. storage calls by kind). */
  stowageNote?: string;
  /** The target for this row: how it reads, and whether it was met (undefined: not measured). */
  target?: Target;
}

export interface Target {
  text: string;
  met: boolean | undefined;
}

export const num = (cell: Cell): number | undefined =>
  typeof cell === "number" && Number.isFinite(cell) ? cell : undefined;

/** At least `factor` times the reference (higher is better). */
export function atLeast(factor: number, of: string, value: Cell, reference: Cell): Target {
  const v = num(value);
  const r = num(reference);
  return { text: `>= ${factor}x ${of}`, met: v === undefined || r === undefined ? undefined : v >= factor * r };
}

/** At most `factor` times the reference (lower is better, e.g. seconds). */
export function atMost(factor: number, of: string, value: Cell, reference: Cell): Target {
  const v = num(value);
  const r = num(reference);
  return { text: `<= ${factor}x ${of}`, met: v === undefined || r === undefined ? undefined : v <= factor * r };
}

export function absolute(text: string, value: Cell, ok: (v: number) => boolean): Target {
  const v = num(value);
  return { text, met: v === undefined ? undefined : ok(v) };
}
