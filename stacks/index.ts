export * from "./plan-stack.js";
export * from "./shared-parameters.js";
export * from "./network-stack.js";
export * from "./platform-stack.js";
export * from "./observability-stack.js";
export * from "./messaging-stack.js";
export * from "./service-stack.js";
