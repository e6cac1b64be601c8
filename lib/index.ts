export * from "./spec/index.js";
export * from "./plan/index.js";
