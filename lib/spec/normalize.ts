import type { ParsedSpec } from "./schema.js";
import type { Cloud, LandingZoneSpec } from "./types.js";

const DEFAULT_REGION: Record<Cloud, string> = {
  aws: "us-east-1",
  gcp: "us-central1",
  azure: "eastus",
  kubernetes: "local",
};

/**
 * Clouds on which the landing zone cannot create the identity provider JWTs come from (an existing
 * cluster has none; Entra ID app registrations are outside azure-native), so JWT checks need auth.issuer.
 */
export const CLOUDS_WITHOUT_IDENTITY_PROVIDER: readonly Cloud[] = ["kubernetes", "azure"];

/** Zone names derived offline, so synthesis never performs a lookup that yields placeholders. */
export function defaultZoneNames(cloud: Cloud, region: string, count: number): string[] {
  const letters = "abcdef";
  return Array.from({ length: count }, (_, i) => {
    switch (cloud) {
      case "aws":
        return `${region}${letters[i]}`;
      case "gcp":
        return `${region}-${letters[i]}`;
      case "azure":
        return String(i + 1);
      case "kubernetes":
        return `zone-${letters[i]}`;
    }
  });
}

/** Applies the defaults that depend on other fields (environment, tier, cloud). */
export function normalizeSpec(parsed: ParsedSpec): LandingZoneSpec {
  const prod = parsed.environment === "prod";
  const region = parsed.region ?? DEFAULT_REGION[parsed.cloud];
  const zones = parsed.network.zones ?? parsed.network.availabilityZones?.length ?? (prod ? 3 : 2);
  const availabilityZones = parsed.network.availabilityZones ?? defaultZoneNames(parsed.cloud, region, zones);
  // Istio and Zipkin run in a cluster; without one, no mesh and the cloud's own tracer.
  const clustered = parsed.tier === "caas" || parsed.cloud === "kubernetes";
  const meshDefault = clustered ? "istio" : "none";

  return {
    name: parsed.name,
    cloud: parsed.cloud,
    region,
    tier: parsed.tier,
    environment: parsed.environment,
    network: {
      cidr: parsed.network.cidr,
      zones,
      availabilityZones,
      natGateways: parsed.network.natGateways ?? (prod ? zones : 1),
      flowLogs: parsed.network.flowLogs,
      podsCidr: parsed.network.podsCidr,
      servicesCidr: parsed.network.servicesCidr,
    },
    gateway: {
      ...parsed.gateway,
      auth: parsed.gateway.auth ?? (CLOUDS_WITHOUT_IDENTITY_PROVIDER.includes(parsed.cloud) && parsed.auth.issuer === undefined ? "none" : "jwt"),
      waf: parsed.gateway.waf ?? prod,
    },
    bffs: parsed.bffs.map((bff) => {
      const b = typeof bff === "string" ? { name: bff, port: 8080 } : bff;
      return {
        name: b.name,
        channel: ("channel" in b && b.channel) || b.name,
        routes: ("routes" in b && b.routes) || [`/${b.name}`],
        port: b.port,
        ...("image" in b && b.image ? { image: b.image } : {}),
        repository: ("repository" in b && b.repository) || b.name,
      };
    }),
    auth: parsed.auth,
    config: parsed.config,
    discovery: parsed.discovery,
    messaging: parsed.messaging,
    logging: parsed.logging,
    tracing: { ...parsed.tracing, backend: parsed.tracing.backend ?? (clustered ? "zipkin" : "cloud") },
    monitoring: parsed.monitoring,
    mesh: { ...parsed.mesh, kind: parsed.mesh.kind ?? meshDefault },
    // Pipelines build <owner>/<repository>, so without an owner there is nothing to build by default.
    pipelines: { ...parsed.pipelines, perService: parsed.pipelines.perService ?? parsed.pipelines.repositoryOwner !== undefined },
    ...(parsed.frontends ? { frontends: parsed.frontends } : {}),
    services: parsed.services.map(({ database, ...s }) => ({
      ...s,
      path: s.path ?? `/${s.name}`,
      repository: s.repository ?? s.name,
      replicas: s.replicas ?? (prod ? { min: 2, max: 6 } : { min: 1, max: 2 }),
      ...(database ? { database: { ...database, size: database.size ?? (prod ? "medium" : "small") } } : {}),
    })),
    sagas: parsed.sagas,
    ...(parsed.kubernetes ? { kubernetes: parsed.kubernetes } : {}),
    retainData: parsed.retainData ?? prod,
    tags: parsed.tags,
  };
}
