export * from "./errors.js";
export * from "./normalize.js";
export * from "./parse.js";
export * from "./schema.js";
export * from "./types.js";
export * from "./validate.js";
export * from "./json-schema.js";
