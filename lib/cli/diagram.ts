import { extname } from "node:path";
import { PlanError, planLandingZone } from "../plan/index.js";
import { diagramModel, renderSvg, toDot, toMermaid, type DiagramModel } from "../report/index.js";
import { loadSpecFile, SpecError } from "../spec/index.js";
import type { ExitCode, Io } from "./commands.js";
import { OutputPathError, writeOutputFile } from "./output-path.js";

export type DiagramFormat = "svg" | "mermaid" | "dot";

const FORMAT_BY_EXTENSION: Readonly<Record<string, DiagramFormat>> = { ".svg": "svg", ".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot" };

/** The diagram format an output file's extension asks for, or undefined for an unknown one. */
export function diagramFormatFor(file: string): DiagramFormat | undefined {
  return FORMAT_BY_EXTENSION[extname(file).toLowerCase()];
}

async function render(model: DiagramModel, format: DiagramFormat): Promise<string> {
  switch (format) {
    case "svg":
      return renderSvg(model);
    case "mermaid":
      return toMermaid(model);
    case "dot":
      return toDot(model);
  }
}

export interface DiagramOptions {
  /** Output file; its extension picks the format (.svg, .mmd, .dot). Default: Mermaid on stdout. */
  readonly out?: string;
}

/**
 * `mlz diagram`: draws the landing zone a spec plans. The file is written only after the spec is
 * valid and the diagram rendered, so a failure never leaves a file behind.
 */
export async function diagramCommand(file: string, options: DiagramOptions, io: Io): Promise<ExitCode> {
  const format = options.out === undefined ? "mermaid" : diagramFormatFor(options.out);
  if (format === undefined) {
    io.err(`cannot tell the diagram format of ${options.out}. Fix: end the file name in ${Object.keys(FORMAT_BY_EXTENSION).join(", ")}\n`);
    return 1;
  }
  let model: DiagramModel;
  try {
    model = diagramModel(planLandingZone(loadSpecFile(file)));
  } catch (error) {
    if (error instanceof SpecError || error instanceof PlanError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const text = await render(model, format);
  if (options.out === undefined) {
    io.out(text);
    return 0;
  }
  try {
    writeOutputFile(options.out, text);
  } catch (error) {
    if (!(error instanceof OutputPathError)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  }
  io.out(`Wrote ${options.out} (${format}: ${model.nodes.length} nodes, ${model.edges.length} edges)\n`);
  return 0;
}
