import type { CloudSupport } from "../types.js";

/**
 * What the Pulumi engine implements on gcp, per capability. Extend when a component lands with its
 * tests. Not built: tokens, the auth service and tracing on VMs and App Engine (the HTTPS load balancer validates no
 * JWT and there is no mesh; App Engine has no collector sidecar). Logging outside GKE runs on a logging cluster of
 * its own: VMs ship into its buffer, App Engine's entries come through a Cloud Logging sink into Pub/Sub.
 */
export const PULUMI_GCP_SUPPORT: CloudSupport = {
  network: ["iaas", "caas", "paas"],
  compute: ["iaas", "caas", "paas"],
  registry: ["iaas", "caas", "paas"],
  gateway: ["iaas", "caas", "paas"],
  bff: ["iaas", "caas", "paas"],
  discovery: ["iaas", "caas", "paas"],
  config: ["iaas", "caas", "paas"],
  sessions: ["iaas", "caas", "paas"],
  tokens: ["caas"],
  authService: ["caas"],
  mesh: ["caas"],
  monitoring: ["iaas", "caas", "paas"],
  tracing: ["caas"],
  logging: ["iaas", "caas", "paas"],
  broker: ["iaas", "caas", "paas"],
  database: ["iaas", "caas", "paas"],
  saga: ["iaas", "caas", "paas"],
  readModel: ["iaas", "caas", "paas"],
  eventStore: ["iaas", "caas", "paas"],
  frontends: ["iaas", "caas", "paas"],
};
