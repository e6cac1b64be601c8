import type { CloudSupport } from "../types.js";

/**
 * What the Pulumi engine builds on an existing Kubernetes cluster (lib/pulumi/kubernetes), each with
 * its tests. Not here, so rejected by the planner: tokens, authService, database, saga, readModel,
 * eventStore, pipeline, frontends.
 */
export const PULUMI_KUBERNETES_SUPPORT: CloudSupport = {
  caas: ["network", "compute", "registry", "gateway", "bff", "discovery", "config", "sessions", "logging", "broker", "mesh", "tracing", "monitoring"],
};
