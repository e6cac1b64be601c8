export * from "./assembly-summary.js";
export * from "./plan-report.js";
export * from "./table.js";
export * from "./diagram.js";
export * from "./plan-warnings.js";
export * from "./compliance-report.js";
export * from "./component-summary.js";
