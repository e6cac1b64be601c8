import type { CloudSupport } from "../types.js";

/** What the Pulumi engine implements on AWS, per capability. Extend when a component lands with its tests. */
export const PULUMI_AWS_SUPPORT: CloudSupport = {
  network: ["iaas", "caas", "paas"],
  compute: ["iaas", "caas", "paas"],
  registry: ["iaas", "caas", "paas"],
  gateway: ["iaas", "caas", "paas"],
  bff: ["iaas", "caas", "paas"],
  discovery: ["iaas", "caas", "paas"],
  config: ["iaas", "caas", "paas"],
  sessions: ["iaas", "caas", "paas"],
  tokens: ["iaas", "caas", "paas"],
  authService: ["iaas", "caas", "paas"],
  mesh: ["caas"],
  monitoring: ["iaas", "caas", "paas"],
  tracing: ["iaas", "caas", "paas"],
  logging: ["iaas", "caas", "paas"],
  broker: ["iaas", "caas", "paas"],
  database: ["iaas", "caas", "paas"],
  saga: ["iaas", "caas", "paas"],
  readModel: ["iaas", "caas", "paas"],
  eventStore: ["iaas", "caas", "paas"],
  pipeline: ["iaas", "caas", "paas"],
  frontends: ["iaas", "caas", "paas"],
};
