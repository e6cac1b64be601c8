import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { parseCidr } from "../plan/cidr.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { labelsFor, selectorFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/**
 * What lets a cloud load balancer outside the cluster send traffic and health checks straight to a
 * service's pods (container-native load balancing: GKE NEGs, AKS Application Gateway): a
 * NetworkPolicy admitting the balancer's source ranges on the container port only and, with a mesh,
 * a PeerAuthentication keeping the plan's mTLS mode everywhere but that port, where the balancer
 * cannot present a mesh certificate (PERMISSIVE). Other pods still need mTLS to reach the service.
 */
export function loadBalancerAccess(plan: LandingZonePlan, service: ServicePlan, sourceRanges: readonly string[]): ManifestObject[] {
  assertExposed("loadBalancerAccess", service);
  if (sourceRanges.length === 0) throw new Error(`loadBalancerAccess sourceRanges: empty. Fix: pass the load balancer's source ranges, e.g. 35.191.0.0/16 and 130.211.0.0/22 on GCP`);
  for (const range of sourceRanges) parseCidr(range);
  return [
    validatedManifest(
      new NetworkPolicy({
        metadata: { name: accessName(service), namespace: workloadNamespace(plan), labels: labelsFor(plan, service.name) },
        spec: {
          podSelector: { matchLabels: selectorFor(plan, service.name) },
          policyTypes: ["Ingress"],
          ingress: [{ from: sourceRanges.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: service.port }] }],
        },
      }),
    ),
    ...loadBalancerPeerAuthentication(plan, service),
  ];
}

/**
 * With a mesh, the PeerAuthentication keeping the plan's mTLS mode on a service's pods everywhere but
 * its container port, where a load balancer outside the mesh sends plaintext (PERMISSIVE); nothing
 * without a mesh. Which sources reach that port is the NetworkPolicies' business.
 */
export function loadBalancerPeerAuthentication(plan: LandingZonePlan, service: ServicePlan): ManifestObject[] {
  assertExposed("loadBalancerPeerAuthentication", service);
  if (!plan.mesh) return [];
  const selector = selectorFor(plan, service.name);
  return [
    validatedManifest(
      new PeerAuthentication({
        metadata: { name: accessName(service), namespace: workloadNamespace(plan), labels: labelsFor(plan, service.name) },
        spec: { selector: { matchLabels: selector }, mtls: { mode: plan.mesh.mtls }, portLevelMtls: { [String(service.port)]: { mode: "PERMISSIVE" } } },
      }),
    ),
  ];
}

const accessName = (service: ServicePlan) => `${service.name}-from-load-balancer`;

function assertExposed(caller: string, service: ServicePlan): void {
  if (!service.expose) {
    throw new Error(`${caller} services[${service.name}].expose: false, so no load balancer routes to it. Fix: set expose: true, or do not open it to the load balancer`);
  }
}
