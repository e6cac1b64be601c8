export * from "./catalog.js";
export * from "./cidr.js";
export * from "./naming.js";
export * from "./planner.js";
export * from "./sizing.js";
export * from "./types.js";
export * from "./hosts.js";
export * from "./stateful.js";
