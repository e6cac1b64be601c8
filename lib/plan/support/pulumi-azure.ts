import type { CloudSupport } from "../types.js";

/**
 * What the Pulumi engine implements on azure, per capability. Extend when a component lands with its tests.
 * Logging (ELK with a Redis buffer) runs on the services' cluster (CaaS) or on a logging cluster of its
 * own: scale sets ship into its buffer, App Service apps stream through diagnostic settings into an event
 * hub its Logstash reads (lib/pulumi/azure/app-service-log-export.ts). Tokens and
 * the auth service are checked by the services' Istio sidecars on AKS and by an Envoy edge proxy in front
 * of each exposed service (lib/plan/edge-proxy.ts), on its VMs or as its App Service app's main container
 * with the service as a sidecar (lib/plan/app-service-proxy.ts), since Application Gateway validates no JWT
 * and calls no authorizer, and App Service authentication needs an app registration azure-native cannot create.
 * Pipelines are Azure DevOps pipelines deploying through federated identities; on scale sets instances read
 * the released image from its record at boot and the pipeline reimages them one at a time (lib/plan/azure-release.ts).
 */
export const PULUMI_AZURE_SUPPORT: CloudSupport = {
  network: ["iaas", "caas", "paas"],
  compute: ["iaas", "caas", "paas"],
  registry: ["iaas", "caas", "paas"],
  gateway: ["iaas", "caas", "paas"],
  bff: ["iaas", "caas", "paas"],
  discovery: ["iaas", "caas", "paas"],
  config: ["iaas", "caas", "paas"],
  sessions: ["iaas", "caas", "paas"],
  broker: ["iaas", "caas", "paas"],
  mesh: ["caas"],
  tokens: ["iaas", "caas", "paas"],
  authService: ["iaas", "caas", "paas"],
  tracing: ["iaas", "caas", "paas"],
  monitoring: ["iaas", "caas", "paas"],
  logging: ["iaas", "caas", "paas"],
  database: ["iaas", "caas", "paas"],
  readModel: ["iaas", "caas", "paas"],
  eventStore: ["iaas", "caas", "paas"],
  saga: ["iaas", "caas", "paas"],
  frontends: ["iaas", "caas", "paas"],
  pipeline: ["iaas", "caas", "paas"],
};
