import type { CloudSupport } from "../types.js";

/**
 * What the Pulumi engine implements on gcp, per capability. Extend when a component lands with its
 * tests. Tokens and the auth service are checked by Istio on GKE and by an Envoy edge proxy in front of each exposed
 * service on VMs (lib/plan/edge-proxy.ts); on App Engine tokens are checked by the Extensible Service Proxy App Engine
 * flexible runs beside each exposed service (lib/plan/endpoints-proxy.ts). Logging outside GKE runs on a logging cluster
 * of its own: VMs ship into its buffer, App Engine's entries come through a Cloud Logging sink into Pub/Sub. App Engine
 * traces go to one central collector on that cluster behind an internal load balancer (lib/plan/trace-collector.ts), so
 * tracing there needs logging.stack: elk. Not built on App Engine: the auth service (ESP does no ext_authz, and no proxy
 * of ours can stand between the load balancer's serverless NEG and the app). Pipelines are Cloud Build triggers
 * (lib/plan/cloud-build.ts) rolling a GKE Deployment, replacing the VMs of a managed instance group (which read the
 * released image from a secret at boot), or deploying and promoting an App Engine version. GitHub Actions pipelines
 * (lib/plan/gcp-github-delivery.ts) deploy to GKE, VMs and App Engine (on VMs and App Engine the same release script as Cloud Build).
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
  tokens: ["iaas", "caas", "paas"],
  authService: ["iaas", "caas"],
  mesh: ["caas"],
  monitoring: ["iaas", "caas", "paas"],
  tracing: ["iaas", "caas", "paas"],
  logging: ["iaas", "caas", "paas"],
  broker: ["iaas", "caas", "paas"],
  database: ["iaas", "caas", "paas"],
  saga: ["iaas", "caas", "paas"],
  readModel: ["iaas", "caas", "paas"],
  eventStore: ["iaas", "caas", "paas"],
  frontends: ["iaas", "caas", "paas"],
  pipeline: ["iaas", "caas", "paas"],
};
