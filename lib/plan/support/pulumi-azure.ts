import type { CloudSupport } from "../types.js";

/** What the Pulumi engine implements on azure, per capability. Extend when a component lands with its tests. */
export const PULUMI_AZURE_SUPPORT: CloudSupport = {
  network: ["caas"],
  compute: ["caas"],
  registry: ["caas"],
  gateway: ["caas"],
  bff: ["caas"],
  discovery: ["caas"],
  sessions: ["caas"],
  broker: ["caas"],
  mesh: ["caas"],
  logging: ["caas"],
};
