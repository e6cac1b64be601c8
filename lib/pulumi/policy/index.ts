export * from "./rules.js";
export * from "./aws.js";
export * from "./kubernetes.js";
export * from "./gcp.js";
export * from "./azure.js";
