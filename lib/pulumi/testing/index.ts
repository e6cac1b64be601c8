export * from "./azure-mocks.js";
export * from "./mock-state.js";
export * from "./run-program.js";
