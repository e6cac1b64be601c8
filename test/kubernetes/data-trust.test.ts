import { describe, expect, it } from "vitest";
import {
  CERT_MANAGER_CHART,
  clusterCertManagerAddOn,
  clusterDataCaConfigMap,
  clusterDatabaseEnv,
  clusterDatabaseServices,
  clusterDataTrustAddOn,
  DATA_CA_FILE,
  dataTrustAddOn,
  documentAddOn,
  keyValueAddOn,
  serviceWorkload,
  TRUST_API,
  TRUST_BUNDLE_SCHEMA,
  TRUST_MANAGER_CHART,
  validatedCustomResource,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { VERSIONS } from "../../lib/plan/sizing.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { checkAddOn, one } from "./addon-helpers.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none" },
  services: [
    { name: "orders", database: { engine: "postgres" } },
    { name: "catalog", database: { engine: "mysql" } },
    { name: "cart", database: { engine: "key-value" } },
    { name: "notes", database: { engine: "document" } },
    { name: "search" },
  ],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec, { engine: "pulumi" });
const addOn = dataTrustAddOn(plan)!;
const reusing = (kubernetes: LandingZoneInput["kubernetes"], services: LandingZoneInput["services"] = spec.services) => planLandingZone({ ...spec, services, kubernetes }, { engine: "pulumi" });
type Pod = { containers: { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[]; volumes: { name: string; configMap?: unknown }[] };
const podOf = (service: string, dataCaConfigMap?: string): Pod =>
  one(serviceWorkload(plan, plan.services.find((s) => s.name === service)!, dataCaConfigMap ? { dataCaConfigMap } : {}), "Deployment").spec.template.spec;

describe("dataTrustAddOn (each data store's CA handed to its owner by trust-manager)", () => {
  it("is undefined without a data store on the cluster", () => {
    expect(dataTrustAddOn(planLandingZone({ ...spec, services: [{ name: "search" }] }, { engine: "pulumi" }))).toBeUndefined();
  });

  it("installs pinned trust-manager reading only the data namespace, without public roots or Secret targets", () => {
    checkAddOn(addOn);
    expect(TRUST_MANAGER_CHART.version).toBe(VERSIONS.trustManager);
    expect(addOn.helmReleases).toEqual([
      expect.objectContaining({ name: "trust-manager", chart: "trust-manager", repository: "https://charts.jetstack.io", version: VERSIONS.trustManager, namespace: "cert-manager", createNamespace: true }),
    ]);
    expect(addOn.helmReleases[0]!.values).toMatchObject({
      crds: { enabled: true, keep: true },
      app: { trust: { namespace: "shop-data" } },
      defaultPackage: { enabled: false },
      secretTargets: { enabled: false },
    });
  });

  it("publishes per owner only the ca.crt of the CA signing its own store, into the workloads namespace only", () => {
    expect(addOn.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(["Bundle/shop-orders-data-ca", "Bundle/shop-catalog-data-ca", "Bundle/shop-cart-data-ca", "Bundle/shop-notes-data-ca"]);
    const sources = Object.fromEntries(addOn.manifests.map((m) => [m.metadata.name, (m as Record<string, any>).spec.sources]));
    expect(sources).toEqual({
      // CloudNativePG's CA, mariadb-operator's CA bundle, the landing zone's cert-manager CA: a public key each, never ca.key or tls.key.
      "shop-orders-data-ca": [{ secret: { name: "orders-db-ca", key: "ca.crt" } }],
      "shop-catalog-data-ca": [{ secret: { name: "catalog-db-ca-bundle", key: "ca.crt" } }],
      "shop-cart-data-ca": [{ secret: { name: "data-ca", key: "ca.crt" } }],
      "shop-notes-data-ca": [{ secret: { name: "data-ca", key: "ca.crt" } }],
    });
    for (const bundle of addOn.manifests) {
      expect(bundle.apiVersion).toBe(TRUST_API);
      expect(bundle.metadata.namespace).toBeUndefined();
      expect((bundle as Record<string, any>).spec.target).toEqual({ configMap: { key: "ca.crt" }, namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } } });
    }
  });

  it("rejects a Bundle that would copy a private key, add public roots or target every namespace", () => {
    const bundle = addOn.manifests[0]! as { spec: { sources: unknown[]; target: Record<string, unknown> } } & (typeof addOn.manifests)[0];
    const withSpec = (spec: unknown) => () => validatedCustomResource(TRUST_BUNDLE_SCHEMA, { ...bundle, spec } as never);
    expect(withSpec({ ...bundle.spec, sources: [{ secret: { name: "data-ca", key: "tls.key" } }] })).toThrow(/sources\.0\.secret\.key/);
    expect(withSpec({ ...bundle.spec, sources: [...bundle.spec.sources, { useDefaultCAs: true }] })).toThrow(/sources\.1/);
    expect(withSpec({ ...bundle.spec, target: { ...bundle.spec.target, namespaceSelector: { matchLabels: {} } } })).toThrow(/must select by at least one label/);
  });

  it("waits for cert-manager (its webhook certificate) and every database add-on, whose CA Secrets are its sources", () => {
    expect(clusterDataTrustAddOn(plan)!.dependsOn).toEqual(["cert-manager", "databases", "mysql", "key-value", "document"]);
  });

  it("keeps the Bundles but installs no trust-manager when the cluster's own is reused", () => {
    const reused = dataTrustAddOn(reusing({ trustManager: { install: false } }))!;
    expect(reused.helmReleases).toEqual([]);
    expect(reused.manifests.map((m) => m.metadata.name)).toEqual(addOn.manifests.map((m) => m.metadata.name));
  });
});

describe("the owners' connection settings", () => {
  const env = (service: string) => clusterDatabaseEnv(plan, clusterDatabaseServices(plan).find((s) => s.name === service)!);

  it("require verification against the mounted CA: verify-full for postgres, the CA file for every engine", () => {
    expect(DATA_CA_FILE).toBe("/etc/msa/data-ca/ca.crt");
    expect(env("orders")).toMatchObject({ PGSSLMODE: "verify-full", PGSSLROOTCERT: DATA_CA_FILE, DATABASE_CA_FILE: DATA_CA_FILE });
    for (const service of ["catalog", "cart", "notes"]) {
      expect(env(service)).toMatchObject({ DATABASE_CA_FILE: DATA_CA_FILE });
      expect(env(service)).not.toHaveProperty("PGSSLMODE");
    }
  });

  it("mounts only the CA ConfigMap's ca.crt, read-only, into an owner's pods", () => {
    expect(clusterDataCaConfigMap(plan, { name: "orders" })).toBe("shop-orders-data-ca");
    const pod = podOf("orders", clusterDataCaConfigMap(plan, { name: "orders" }));
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: "data-ca", mountPath: "/etc/msa/data-ca", readOnly: true });
    expect(pod.volumes).toContainEqual({ name: "data-ca", configMap: { name: "shop-orders-data-ca", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 } });
  });

  it("gives a workload without a data store nothing", () => {
    expect(clusterDataCaConfigMap(plan, { name: "search" })).toBeUndefined();
    const pod = podOf("search");
    expect(pod.volumes.map((v) => v.name)).toEqual(["tmp"]);
    expect(pod.containers[0]!.volumeMounts.map((m) => m.name)).toEqual(["tmp"]);
  });
});

describe("reusing the cluster's cert-manager", () => {
  it("installs no cert-manager release but keeps the data CA and the stores' certificates", () => {
    expect(clusterCertManagerAddOn(plan)!.helmReleases.map((r) => r.chart)).toEqual([CERT_MANAGER_CHART.chart]);
    const reused = reusing({ certManager: { install: false } });
    expect(clusterCertManagerAddOn(reused)).toBeUndefined();
    const keyValue = keyValueAddOn(reused)!;
    expect(keyValue.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(expect.arrayContaining(["Issuer/data-ca-root", "Certificate/data-ca", "Issuer/data-ca", "Certificate/cart-kv-tls"]));
    const documentOnly = reusing({ certManager: { install: false } }, [{ name: "notes", database: { engine: "document" } }]);
    expect(documentAddOn(documentOnly)!.helmReleases.map((r) => r.chart)).toEqual(["cloudnative-pg"]);
    expect(documentAddOn(documentOnly)!.manifests.map((m) => m.kind)).toContain("Issuer");
    // trust-manager stays the landing zone's unless reused too.
    expect(dataTrustAddOn(reused)!.helmReleases.map((r) => r.chart)).toEqual(["trust-manager"]);
  });
});
