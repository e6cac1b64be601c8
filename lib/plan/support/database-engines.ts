import type { DatabaseEngine } from "../../spec/types.js";
import type { Engine } from "../types.js";

/**
 * Database engines an engine builds on a cloud, where it builds only some of them (`<engine>-<cloud>`);
 * a target missing here builds every engine its `database` support covers.
 */
export const DATABASE_ENGINES_BUILT: Readonly<Partial<Record<`${Engine}-${string}`, readonly DatabaseEngine[]>>> = {
  "pulumi-kubernetes": ["postgres", "mysql", "key-value", "document"],
};
