import { HTTP_API_ROUTE_QUOTA } from "../plan/gateway-paths.js";
import { httpApiRoutesOf } from "../plan/lookup.js";
import type { LandingZonePlan } from "../plan/types.js";

/**
 * What a reviewer should know before applying a plan: data that would not survive a deletion,
 * single points of failure, open doors and hourly costs. Each warning says what to change.
 */
export function planWarnings(plan: LandingZonePlan): string[] {
  const warnings: string[] = [];
  const prod = plan.environment === "prod";
  if (!plan.protection.retain) {
    warnings.push(
      prod
        ? "retainData is false in prod: databases, caches, queues and logs are deleted with their stacks. Fix: remove retainData: false"
        : "dev: stateful resources are deleted with their stacks and not deletion-protected (set retainData: true to keep them)",
    );
  }
  if (plan.cloud !== "kubernetes" && plan.network.natGateways < plan.network.availabilityZones.length) {
    warnings.push(
      `${plan.network.natGateways} NAT gateway(s) for ${plan.network.availabilityZones.length} zones: a zone outage cuts the others' outbound traffic${prod ? ". Fix: set network.natGateways to the number of zones" : " (fine for dev)"}`,
    );
  }
  if (plan.gateway.auth === "none" && plan.gateway.routes.length > 0) {
    warnings.push("gateway.auth is none: every route is open to anonymous callers. Fix: set gateway.auth: jwt or authorizer");
  }
  const apiRoutes = httpApiRoutesOf(plan).routeCount;
  if (plan.cloud === "aws" && apiRoutes > HTTP_API_ROUTE_QUOTA) {
    warnings.push(
      `the gateway's HTTP API needs ${apiRoutes} routes, above API Gateway's default quota of ${HTTP_API_ROUTE_QUOTA} routes per API. Fix: ask AWS to raise "Routes per API" in Service Quotas before deploying`,
    );
  }
  if (!plan.gateway.waf && prod) warnings.push("gateway.waf is false in prod: no web application firewall in front of the services. Fix: set gateway.waf: true");
  if (plan.sessions && !plan.sessions.multiAz && prod) warnings.push("the session store runs in one zone in prod: a zone outage logs every user out. Fix: use network.zones ≥ 2");
  if (plan.cluster && !plan.cluster.privateEndpoint) warnings.push("the Kubernetes API endpoint is public (dev default); prod makes it private");
  if (plan.logging && !plan.logging.buffer) warnings.push("logging.buffer is none: a burst of logs goes straight to Logstash and may be dropped. Fix: set logging.buffer: redis");
  if (plan.services.length === 0) warnings.push("no services: the landing zone has nothing to run yet. Fix: add services to the spec");
  const hourly = [
    plan.cluster && plan.cloud !== "kubernetes" ? "the Kubernetes control plane" : undefined,
    plan.cloud !== "kubernetes" && plan.network.natGateways > 0 ? `${plan.network.natGateways} NAT gateway(s)` : undefined,
    plan.logging && plan.cloud === "aws" ? "the OpenSearch domain" : undefined,
    plan.sessions && plan.cloud !== "kubernetes" ? "the session cache" : undefined,
  ].filter((part): part is string => part !== undefined);
  if (hourly.length > 0) warnings.push(`billed hourly even when idle: ${hourly.join(", ")}`);
  return warnings;
}
