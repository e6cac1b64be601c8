import type { CloudSupport } from "../types.js";

/** What the Pulumi engine implements on AWS, per capability. Extend when a component lands with its tests. */
export const PULUMI_AWS_SUPPORT: CloudSupport = {
  network: ["caas"],
  compute: ["caas"],
  registry: ["caas"],
  gateway: ["caas"],
  bff: ["caas"],
  discovery: ["caas"],
  config: ["caas"],
  sessions: ["caas"],
  tokens: ["caas"],
  mesh: ["caas"],
  logging: ["caas"],
  broker: ["caas"],
  pipeline: ["caas"],
  frontends: ["caas"],
};
