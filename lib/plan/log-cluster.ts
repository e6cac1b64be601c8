import type { Cloud, Environment, Tier } from "../spec/types.js";
import { appEngineServiceName } from "./gcp.js";
import { physicalName } from "./naming.js";
import { SIZING, VERSIONS } from "./sizing.js";
import type { ClusterPlan, LandingZonePlan } from "./types.js";

/**
 * The private cluster that runs Elasticsearch, Kibana, Logstash and the Redis buffer where the
 * services have no cluster of their own (GCP and Azure VMs and app platforms, which have no managed
 * Elasticsearch), or undefined where the services' cluster runs them (caas) or AWS hosts Logstash
 * beside OpenSearch. One node per Elasticsearch node, room to double for Logstash and Kibana; the
 * API server stays private in prod, as the services' cluster's would.
 */
export function planLogCluster(input: { readonly cloud: Cloud; readonly tier: Tier; readonly name: string; readonly environment: Environment }): ClusterPlan | undefined {
  const { cloud, tier, name, environment } = input;
  if (tier === "caas" || (cloud !== "gcp" && cloud !== "azure")) return undefined;
  const sizing = SIZING[cloud][environment];
  const nodes = Math.max(1, sizing.search.count);
  return {
    name: physicalName("cluster", `${name}-logs`, environment),
    kubernetesVersion: VERSIONS.kubernetes,
    nodeInstanceType: sizing.clusterNode.type,
    minNodes: nodes,
    desiredNodes: nodes,
    maxNodes: nodes * 2,
    nodeDiskGiB: sizing.clusterNode.diskGiB,
    namespace: "logging",
    privateEndpoint: environment === "prod",
  };
}

/**
 * The Cloud Logging filter of the App Engine services of a plan (each under its App Engine name, the
 * first one `default`), so a project shared by several zones exports only this zone's entries.
 */
export function appEngineLogFilter(plan: LandingZonePlan): string {
  const modules = plan.services.map((s) => `"${appEngineServiceName(plan, s.name)}"`);
  return `resource.type="gae_app" AND resource.labels.module_id=(${modules.join(" OR ")})`;
}
