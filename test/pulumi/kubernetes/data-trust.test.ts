import { describe, expect, it } from "vitest";
import { LandingZone } from "../../../lib/pulumi/kubernetes/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, runProgram, single, type RegisteredResource } from "../harness.js";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const GROUP = "kubernetes:yaml/v2:ConfigGroup";

type Obj = { kind: string; metadata: { name: string }; spec?: Record<string, any>; data?: Record<string, string> };
const objs = (group: RegisteredResource): Obj[] => group.inputs["objs"] as Obj[];
const run = (spec: LandingZoneInput) => runProgram(() => void new LandingZone("shop", { spec }));

const base: LandingZoneInput = {
  name: "shop",
  cloud: "kubernetes",
  region: "local",
  gateway: { auth: "none" },
  pipelines: { perService: false },
  logging: { stack: "none", buffer: "none" },
  services: [{ name: "orders", database: { engine: "postgres" } }, { name: "cart", database: { engine: "key-value" } }, { name: "search" }],
};
const workload = (resources: readonly RegisteredResource[], service: string) => objs(single(resources, GROUP, `shop-${service}-workload`));
const pod = (resources: readonly RegisteredResource[], service: string) => workload(resources, service).find((o) => o.kind === "Deployment")!.spec!["template"].spec;
const config = (resources: readonly RegisteredResource[], service: string) => workload(resources, service).find((o) => o.kind === "ConfigMap")!.data!;
const charts = (resources: readonly RegisteredResource[]) => byType(resources, RELEASE).map((r) => r.inputs["chart"]);

describe("LandingZone hands each data store's CA to its owner (trust-manager)", async () => {
  const { resources } = await run(base);

  it("installs trust-manager after the data namespace, cert-manager (its webhook certificate) and the stores whose CA Secrets it reads, then one Bundle per owner", () => {
    const release = single(resources, RELEASE, "shop-data-trust-trust-manager");
    expect(release.inputs).toMatchObject({ chart: "trust-manager", namespace: "cert-manager", values: { app: { trust: { namespace: "shop-data" } }, defaultPackage: { enabled: false } } });
    expect(release.dependsOn).toEqual([
      "shop-data-namespace",
      "shop-cert-manager-cert-manager",
      "shop-databases-cloudnative-pg",
      "shop-databases-manifests",
      "shop-key-value-manifests",
    ]);
    const bundles = single(resources, GROUP, "shop-data-trust-manifests");
    expect(bundles.dependsOn).toContain("shop-data-trust-trust-manager");
    expect(objs(bundles).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Bundle/shop-orders-data-ca", "Bundle/shop-cart-data-ca"]);
  });

  it("starts each owner's pods after the Bundles, with its CA mounted and verification required", () => {
    expect(single(resources, GROUP, "shop-orders-workload").dependsOn).toContain("shop-data-trust-manifests");
    for (const [service, bundle] of [["orders", "shop-orders-data-ca"], ["cart", "shop-cart-data-ca"]] as const) {
      const spec = pod(resources, service);
      expect(spec.volumes).toContainEqual({ name: "data-ca", configMap: { name: bundle, items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 } });
      expect(spec.containers[0].volumeMounts).toContainEqual({ name: "data-ca", mountPath: "/etc/msa/data-ca", readOnly: true });
      expect(config(resources, service)["DATABASE_CA_FILE"]).toBe("/etc/msa/data-ca/ca.crt");
    }
    expect(config(resources, "orders")).toMatchObject({ PGSSLMODE: "verify-full", PGSSLROOTCERT: "/etc/msa/data-ca/ca.crt" });
  });

  it("gives a service without a data store no data CA and no verification settings, only the session store's CA", () => {
    expect(pod(resources, "search").volumes.map((v: { name: string }) => v.name)).toEqual(["tmp", "session-ca"]);
    expect(Object.keys(config(resources, "search")).filter((key) => /CA_FILE|^PGSSL/.test(key))).toEqual(["SESSION_STORE_CA_FILE"]);
  });
});

describe("LandingZone installs cert-manager once, before everything it issues certificates for", () => {
  it("for a postgres owner without sessions: trust-manager's webhook certificate needs it", async () => {
    const { resources } = await run({ ...base, auth: { sessions: "none" }, services: [{ name: "orders", database: { engine: "postgres" } }] });
    expect(charts(resources).filter((c) => c === "cert-manager")).toEqual(["cert-manager"]);
    expect(single(resources, RELEASE, "shop-data-trust-trust-manager").dependsOn).toContain("shop-cert-manager-cert-manager");
  });

  it("for key-value stores, trust-manager and the session store alike, as one release", async () => {
    const { resources } = await run(base);
    expect(byType(resources, RELEASE).filter((r) => r.inputs["chart"] === "cert-manager").map((r) => r.name)).toEqual(["shop-cert-manager-cert-manager"]);
    // Stacks that got it with their key-value or document stores keep that release: no second Helm release of the same name.
    expect(single(resources, RELEASE, "shop-cert-manager-cert-manager").aliases).toEqual(["shop-key-value-cert-manager", "shop-document-cert-manager"]);
    for (const waiting of ["shop-data-trust-trust-manager", "shop-key-value-manifests", "shop-sessions"]) {
      expect(resources.find((r) => r.name === waiting)!.dependsOn, waiting).toContain("shop-cert-manager-cert-manager");
    }
  });
});

describe("LandingZone on a cluster whose cert-manager and trust-manager are reused", () => {
  it("installs no cert-manager, and nothing waits for one", async () => {
    const { resources } = await run({ ...base, kubernetes: { certManager: { install: false } } });
    expect(charts(resources)).not.toContain("cert-manager");
    expect(charts(resources)).toContain("trust-manager");
    for (const r of resources) expect(r.dependsOn.filter((d) => d.endsWith("-cert-manager")), r.name).toEqual([]);
    // The data CA and the Redis certificates are still the landing zone's, on the existing CRDs.
    const keyValue = single(resources, GROUP, "shop-key-value-manifests");
    expect(keyValue.dependsOn).toEqual(["shop-data-namespace", "shop-cart-db-credentials"]);
    expect(objs(keyValue).map((o) => o.kind)).toEqual(expect.arrayContaining(["Issuer", "Certificate", "StatefulSet"]));
  });

  it("installs neither with both reused, and still hands every owner its CA", async () => {
    const { resources } = await run({ ...base, kubernetes: { certManager: { install: false }, trustManager: { install: false } } });
    expect(charts(resources)).not.toContain("cert-manager");
    expect(charts(resources)).not.toContain("trust-manager");
    const bundles = single(resources, GROUP, "shop-data-trust-manifests");
    expect(bundles.dependsOn).toEqual(["shop-data-namespace", "shop-databases-cloudnative-pg", "shop-databases-manifests", "shop-key-value-manifests"]);
    expect(objs(bundles).map((o) => o.metadata.name)).toEqual(["shop-orders-data-ca", "shop-cart-data-ca"]);
    expect(pod(resources, "orders").volumes.map((v: { name: string }) => v.name)).toContain("data-ca");
  });

  it("rejects the switches on another cloud before anything is registered", async () => {
    await expect(run({ ...base, cloud: "aws", region: "us-east-1", kubernetes: { certManager: { install: false } } })).rejects.toThrow(/kubernetes: sets the add-ons of an existing cluster, but cloud is aws/);
  });
});
