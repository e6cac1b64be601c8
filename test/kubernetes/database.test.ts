import { describe, expect, it } from "vitest";
import {
  CLOUDNATIVE_PG_CHART,
  CLOUDNATIVE_PG_NAMESPACE,
  databaseAddOn,
  databaseCredentialsSecretName,
  databaseHost,
  dataNamespaceManifests,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { check, checkAddOn, ofKind, one } from "./addon-helpers.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none" },
  services: [
    { name: "orders", database: { engine: "postgres", storageGiB: 50 }, publishes: ["order-placed"] },
    { name: "payments", subscribes: ["order-placed"] },
    { name: "order-history", readModel: { from: ["orders"] }, database: { engine: "postgres" } },
  ],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec);
const addOn = databaseAddOn(plan)!;

describe("databaseAddOn (CloudNativePG)", () => {
  it("is undefined without a postgres database", () => {
    expect(databaseAddOn(planLandingZone({ ...spec, services: [{ name: "a" }] }))).toBeUndefined();
  });

  it("installs the pinned operator, then a Cluster and an owner-only policy per database", () => {
    checkAddOn(addOn);
    expect(addOn.helmReleases).toEqual([expect.objectContaining({ chart: "cloudnative-pg", version: CLOUDNATIVE_PG_CHART.version, namespace: CLOUDNATIVE_PG_NAMESPACE, createNamespace: true })]);
    expect(addOn.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      "Cluster/orders-db",
      "NetworkPolicy/orders-db-owner-only",
      "Cluster/order-history-db",
      "NetworkPolicy/order-history-db-owner-only",
    ]);
    for (const m of addOn.manifests) expect(m.metadata.namespace).toBe("shop-data");
  });

  it("gives a read model that declares no database the same Cluster and policy as one that declares postgres", () => {
    const implicit = databaseAddOn(planLandingZone({ ...spec, services: [spec.services[0], spec.services[1], { name: "order-history", readModel: { from: ["orders"] } }] }))!;
    expect(implicit.manifests).toEqual(addOn.manifests);
  });

  it("sizes each Cluster from the plan, forces TLS, creates the owner from its Secret and offers no superuser", () => {
    const orders = one(addOn.manifests, "Cluster", "orders-db");
    expect(orders.spec).toMatchObject({
      instances: 3,
      imageName: "ghcr.io/cloudnative-pg/postgresql:16.10",
      storage: { size: "50Gi" },
      enableSuperuserAccess: false,
      bootstrap: { initdb: { database: "orders", owner: "orders", secret: { name: databaseCredentialsSecretName("orders") } } },
      postgresql: { pg_hba: ["hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject"] },
    });
    expect(one(planLandingZone({ ...spec, environment: "dev" }) && databaseAddOn(planLandingZone({ ...spec, environment: "dev" }))!.manifests, "Cluster", "orders-db").spec.instances).toBe(1);
    expect(databaseHost(plan, "orders")).toBe("orders-db-rw.shop-data.svc.cluster.local");
  });

  it("admits only the owner's pods from the workloads namespace, the instances and the operator", () => {
    const policy = one(addOn.manifests, "NetworkPolicy", "orders-db-owner-only");
    expect(policy.spec.podSelector).toEqual({ matchLabels: { "cnpg.io/cluster": "orders-db" } });
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "shop" } } }],
        ports: [{ protocol: "TCP", port: 5432 }],
      },
      { from: [{ podSelector: { matchLabels: { "cnpg.io/cluster": "orders-db" } } }], ports: [{ protocol: "TCP", port: 5432 }, { protocol: "TCP", port: 8000 }] },
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cnpg-system" } } }], ports: [{ protocol: "TCP", port: 5432 }, { protocol: "TCP", port: 8000 }] },
    ]);
    // No rule names another service.
    const owners = ofKind(addOn.manifests, "NetworkPolicy").map((p) => JSON.stringify(p.spec.ingress[0].from));
    expect(owners[0]).not.toContain("order-history");
    expect(owners[1]).toContain('"app.kubernetes.io/name":"order-history"');
  });

  it("keeps the databases in their own namespace, default-deny, restricted and without sidecars", () => {
    const [namespace, deny] = dataNamespaceManifests(plan);
    for (const m of [namespace!, deny!]) check(m);
    expect(namespace!.metadata).toMatchObject({ name: "shop-data", labels: { "pod-security.kubernetes.io/enforce": "restricted", "istio-injection": "disabled" } });
    expect(deny!.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
  });
});
