import type { CloudSupport } from "../types.js";

/**
 * What the Pulumi engine builds on an existing Kubernetes cluster (lib/pulumi/kubernetes), per
 * capability, each with its tests.
 */
export const PULUMI_KUBERNETES_SUPPORT: CloudSupport = {
  network: ["caas"],
  compute: ["caas"],
  registry: ["caas"],
  gateway: ["caas"],
  bff: ["caas"],
  discovery: ["caas"],
  config: ["caas"],
  sessions: ["caas"],
  tokens: ["caas"],
  authService: ["caas"],
  logging: ["caas"],
  broker: ["caas"],
  mesh: ["caas"],
  tracing: ["caas"],
  monitoring: ["caas"],
  database: ["caas"],
  saga: ["caas"],
  readModel: ["caas"],
  eventStore: ["caas"],
  pipeline: ["caas"],
  frontends: ["caas"],
};
