import type { CloudSupport } from "../types.js";

/** What the Pulumi engine implements on gcp, per capability. Extend when a component lands with its tests. */
export const PULUMI_GCP_SUPPORT: CloudSupport = {
  network: ["iaas", "caas", "paas"],
  compute: ["iaas", "caas", "paas"],
  registry: ["iaas", "caas", "paas"],
  gateway: ["iaas", "caas", "paas"],
  bff: ["iaas", "caas", "paas"],
  discovery: ["caas"],
  config: ["iaas", "caas", "paas"],
  sessions: ["iaas", "caas", "paas"],
  mesh: ["caas"],
  logging: ["caas"],
  broker: ["iaas", "caas", "paas"],
};
