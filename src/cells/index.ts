import { CellName } from "../types";
import { Cell } from "./cell";
import { elmanCell } from "./elman";
import { lstmCell } from "./lstm";
import { gruCell } from "./gru";

export type { Cell, KerasWeight, CellKernel, CellForward, CellBackwardOptions, CellFieldReader, ParamShape, Params, WindowRunner } from "./cell";

/** Every cell the package has, by the name the layer's `cell` setting uses. */
const CELLS: readonly Cell[] = [elmanCell, lstmCell, gruCell];

export const CELL_NAMES: readonly CellName[] = CELLS.map((c) => c.name);
export const DEFAULT_CELL: CellName = elmanCell.name;

export function getCell(name: string = DEFAULT_CELL): Cell {
  const cell = CELLS.find((c) => c.name === name);
  if (!cell) throw new Error(`unknown cell "${String(name)}" (expected ${CELL_NAMES.map((n) => `"${n}"`).join(", ")})`);
  return cell;
}

/** The cell whose layers the model file marks with `type`, or null. */
export function cellOfFileType(type: unknown): Cell | null {
  return CELLS.find((c) => c.fileType === type) ?? null;
}

export const CELL_FILE_TYPES: readonly string[] = CELLS.map((c) => c.fileType);
