import * as path from "path";
import type { FactoryFunctionMap, MathJsFactory, MathJsInstance, Matrix } from "mathjs";

/**
 * The core's own mathjs instance, holding only the functions the core uses.
 *
 * Why the files are loaded by path instead of `import { create, … } from "mathjs"`: the package's
 * CommonJS entry builds every mathjs function (parser, units, …) the moment it is required, named
 * imports included, which costs about 75 MB of resident memory; its `create` and its generated
 * per-function dependency files can be loaded on their own for about a third of that. Only type
 * imports name "mathjs" directly, because they vanish at compile time. Other core files should take
 * mathjs from here rather than from the package, or the whole bundle is loaded after all.
 */

const FUNCTIONS = [
  "matrix",
  "zeros",
  "add",
  "subtract",
  "multiply",
  "dotMultiply",
  "dotDivide",
  "transpose",
  "map",
  "dot",
  "sum",
  "max",
] as const;

export type CoreFunctionName = (typeof FUNCTIONS)[number];
/** The instance's type: only what was created, so calling anything else fails to compile. */
export type CoreMath = Pick<MathJsInstance, CoreFunctionName | "isMatrix">;

const mathjsRoot = path.dirname(require.resolve("mathjs/package.json"));

function loadMathjsFile<T>(relative: string): T {
  const file = path.join(mathjsRoot, "lib", "cjs", relative);
  try {
    return require(file) as T;
  } catch (err) {
    // A layout change inside mathjs should say what moved, not fail somewhere deep in the core.
    const version = (require(path.join(mathjsRoot, "package.json")) as { version?: string }).version;
    throw new Error(`mathjs ${version ?? "?"}: cannot load lib/cjs/${relative} (${(err as Error).message})`);
  }
}

function dependenciesOf(name: CoreFunctionName): FactoryFunctionMap {
  const capitalised = name[0].toUpperCase() + name.slice(1);
  const exported = loadMathjsFile<Record<string, FactoryFunctionMap | undefined>>(
    `entry/dependenciesAny/dependencies${capitalised}.generated.js`,
  );
  const dependencies = exported[`${name}Dependencies`];
  if (!dependencies) throw new Error(`mathjs: no ${name}Dependencies in its dependency file`);
  return dependencies;
}

const { create } = loadMathjsFile<Pick<MathJsFactory, "create">>("core/create.js");

const factories: FactoryFunctionMap = {};
for (const name of FUNCTIONS) factories[`${name}Dependencies`] = dependenciesOf(name);

export const math: CoreMath = create(factories);

/**
 * A DenseMatrix with datatype 'number' from plain numbers: a list gives a vector (size [n]), a list
 * of equal-length rows gives a matrix. The data is copied, so the caller's arrays stay its own.
 */
export function toMatrix(nested: readonly number[] | readonly (readonly number[])[]): Matrix {
  if (!Array.isArray(nested)) throw new TypeError("toMatrix: expected an array of numbers or of rows");
  const data: number[] | number[][] = nested.every((v) => typeof v === "number")
    ? (nested as readonly number[]).slice()
    : (nested as readonly unknown[]).map((row, r) => copyRow(row, r));
  const width = (data[0] as number[] | undefined)?.length;
  (data as unknown[]).forEach((row, r) => {
    if (Array.isArray(row) && row.length !== width) {
      throw new TypeError(`toMatrix: row [${r}] has ${row.length} entries, row [0] has ${width}`);
    }
  });
  return math.matrix(data, "dense", "number");
}

function copyRow(row: unknown, r: number): number[] {
  if (!Array.isArray(row)) throw new TypeError(`toMatrix: entry [${r}] is neither a number nor a row`);
  return row.map((v, c) => {
    if (typeof v !== "number") throw new TypeError(`toMatrix: entry [${r}][${c}] is not a number`);
    return v;
  });
}

/** A rows×cols DenseMatrix of zeros with datatype 'number'. */
export function zerosMatrix(rows: number, cols: number): Matrix {
  return math.matrix(math.zeros(rows, cols) as Matrix, "dense", "number");
}

/** True for a mathjs Matrix from any mathjs instance (a user's own included). */
export function isMatrix(x: unknown): x is Matrix {
  return math.isMatrix(x);
}
