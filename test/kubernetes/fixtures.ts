import { DestinationRule, VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1";
import { AuthorizationPolicy, PeerAuthentication, RequestAuthentication } from "@kubernetes-models/istio/security.istio.io/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import type { ManifestObject } from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

export const shopSpec = {
  name: "shop",
  environment: "prod",
  bffs: ["web"],
  services: [
    { name: "orders", publishes: ["order-placed"], secrets: ["DB_PASSWORD"], config: { FEATURE_X: "on" } },
    { name: "payments" },
  ],
} satisfies LandingZoneInput;

export const prodPlan = planLandingZone(shopSpec);
export const devPlan = planLandingZone({ ...shopSpec, environment: "dev" });
export const noMeshPlan = planLandingZone({ ...shopSpec, mesh: { kind: "none" } });

type Validatable = { validate(): void };
const MODELS: Record<string, new (data: never) => Validatable> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "networking.istio.io/v1/DestinationRule": DestinationRule,
  "networking.istio.io/v1/VirtualService": VirtualService,
  "security.istio.io/v1/PeerAuthentication": PeerAuthentication,
  "security.istio.io/v1/RequestAuthentication": RequestAuthentication,
  "security.istio.io/v1/AuthorizationPolicy": AuthorizationPolicy,
};

/** Validates a returned plain object again against the schema of its apiVersion/kind, independently of the builder. */
export function revalidate(object: ManifestObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no model registered for ${object.apiVersion}/${object.kind}`);
  const { apiVersion: _apiVersion, kind: _kind, ...data } = object;
  new Model(data as never).validate();
}

export function byKind(objects: readonly ManifestObject[], kind: string): ManifestObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function single(objects: readonly ManifestObject[], kind: string): Record<string, any> {
  const found = byKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as Record<string, any>;
}
