export * from "./commands.js";
export * from "./diagram.js";
export * from "./init.js";
export * from "./workflows.js";
export * from "./diff.js";
export * from "./output-path.js";
