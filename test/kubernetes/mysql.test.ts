import { describe, expect, it } from "vitest";
import {
  clusterDatabaseAddOns,
  clusterDatabaseHost,
  clusterDatabaseServices,
  databaseCredentialsSecretName,
  MARIADB_OPERATOR_CHART,
  MARIADB_OPERATOR_CRDS_CHART,
  MARIADB_OPERATOR_NAMESPACE,
  mysqlAddOn,
  MYSQL_OWNER_PRIVILEGES,
  validatedCustomResource,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { allStrings, checkAddOn, ofKind, one } from "./addon-helpers.js";
import { z } from "zod";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none" },
  services: [
    { name: "catalog", database: { engine: "mysql", storageGiB: 40 } },
    { name: "orders", database: { engine: "postgres" } },
    { name: "reviews", database: { engine: "mysql" } },
  ],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec, { engine: "pulumi" });
const addOn = mysqlAddOn(plan)!;
const dev = mysqlAddOn(planLandingZone({ ...spec, environment: "dev" }, { engine: "pulumi" }))!;

describe("mysqlAddOn (mariadb-operator)", () => {
  it("is undefined without a mysql database", () => {
    expect(mysqlAddOn(planLandingZone({ ...spec, services: [{ name: "orders", database: { engine: "postgres" } }] }))).toBeUndefined();
  });

  it("installs the pinned CRDs and operator, then a server, database, owner, grant and owner-only policy per database", () => {
    checkAddOn(addOn);
    expect(addOn.helmReleases.map((r) => [r.chart, r.version, r.namespace, r.createNamespace])).toEqual([
      [MARIADB_OPERATOR_CRDS_CHART.chart, MARIADB_OPERATOR_CHART.version, MARIADB_OPERATOR_NAMESPACE, true],
      [MARIADB_OPERATOR_CHART.chart, MARIADB_OPERATOR_CHART.version, MARIADB_OPERATOR_NAMESPACE, true],
    ]);
    expect(addOn.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      "MariaDB/catalog-db",
      "Database/catalog-db-database",
      "User/catalog-db-owner",
      "Grant/catalog-db-owner-grant",
      "NetworkPolicy/catalog-db-owner-only",
      "MariaDB/reviews-db",
      "Database/reviews-db-database",
      "User/reviews-db-owner",
      "Grant/reviews-db-owner-grant",
      "NetworkPolicy/reviews-db-owner-only",
    ]);
    for (const m of addOn.manifests) expect(m.metadata.namespace).toBe("shop-data");
  });

  it("requires TLS, sizes and replicates from the plan, generates a root password nobody is given, and keeps volumes", () => {
    const server = one(addOn.manifests, "MariaDB", "catalog-db");
    expect(server.spec).toMatchObject({
      image: "docker-registry1.mariadb.com/library/mariadb:11.8.2",
      port: 3306,
      replicas: 3,
      replication: { enabled: true },
      rootPasswordSecretKeyRef: { name: "catalog-db-root", key: "password", generate: true },
      storage: { size: "40Gi" },
      tls: { enabled: true, required: true },
      podSecurityContext: { runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: "RuntimeDefault" } },
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    });
    const single = one(dev.manifests, "MariaDB", "catalog-db");
    expect(single.spec.replicas).toBe(1);
    expect(single.spec.replication).toBeUndefined();
    expect(plan.services.find((s) => s.name === "catalog")!.database).toMatchObject({ implementation: "mariadb-operator", engineVersion: "11.8.2", port: 3306 });
  });

  it("creates the owner from its credentials Secret with data and schema privileges on its own database only", () => {
    expect(one(addOn.manifests, "Database", "catalog-db-database").spec).toEqual({ mariaDbRef: { name: "catalog-db" }, name: "catalog", characterSet: "utf8mb4", collate: "utf8mb4_unicode_ci", cleanupPolicy: "Skip" });
    expect(one(addOn.manifests, "User", "catalog-db-owner").spec).toEqual({
      mariaDbRef: { name: "catalog-db" },
      name: "catalog",
      passwordSecretKeyRef: { name: databaseCredentialsSecretName("catalog"), key: "password" },
      host: "%",
      maxUserConnections: 100,
      cleanupPolicy: "Skip",
    });
    const grant = one(addOn.manifests, "Grant", "catalog-db-owner-grant").spec;
    expect(grant).toMatchObject({ mariaDbRef: { name: "catalog-db" }, database: "catalog", table: "*", username: "catalog", grantOption: false });
    expect(grant.privileges).toEqual([...MYSQL_OWNER_PRIVILEGES]);
    expect(grant.privileges).not.toContain("ALL PRIVILEGES");
    expect(grant.privileges).not.toContain("GRANT OPTION");
    // Outside prod, deleting the resources drops the database and the login with them.
    expect(one(dev.manifests, "User", "catalog-db-owner").spec.cleanupPolicy).toBe("Delete");
    // No password is in any manifest: the operator reads it from the Secret.
    expect(allStrings(addOn.manifests).filter((s) => /password/i.test(s))).toEqual(["password", "password", "password", "password"]);
  });

  it("admits only the owner's pods from the workloads namespace, the instances and the operator", () => {
    const policy = one(addOn.manifests, "NetworkPolicy", "catalog-db-owner-only");
    expect(policy.spec.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "mariadb", "app.kubernetes.io/instance": "catalog-db" } });
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "catalog", "app.kubernetes.io/part-of": "shop" } } }],
        ports: [{ protocol: "TCP", port: 3306 }],
      },
      { from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "mariadb", "app.kubernetes.io/instance": "catalog-db" } } }], ports: [{ protocol: "TCP", port: 3306 }, { protocol: "TCP", port: 5555 }] },
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mariadb-operator" } } }], ports: [{ protocol: "TCP", port: 3306 }, { protocol: "TCP", port: 5555 }] },
    ]);
    expect(JSON.stringify(ofKind(addOn.manifests, "NetworkPolicy")[1]!.spec.ingress[0])).toContain('"app.kubernetes.io/name":"reviews"');
  });

  it("reaches the primary: the replicated primary Service in prod, the single instance elsewhere", () => {
    const catalog = clusterDatabaseServices(plan).find((s) => s.name === "catalog")!;
    expect(clusterDatabaseHost(plan, catalog)).toBe("catalog-db-primary.shop-data.svc.cluster.local");
    const devPlan = planLandingZone({ ...spec, environment: "dev" }, { engine: "pulumi" });
    expect(clusterDatabaseHost(devPlan, clusterDatabaseServices(devPlan)[0]!)).toBe("catalog-db.shop-data.svc.cluster.local");
    expect(clusterDatabaseHost(plan, clusterDatabaseServices(plan).find((s) => s.name === "orders")!)).toBe("orders-db-rw.shop-data.svc.cluster.local");
    expect(clusterDatabaseServices(plan).map((s) => s.name)).toEqual(["catalog", "orders", "reviews"]);
    expect(clusterDatabaseAddOns(plan).map((a) => a.key)).toEqual(["databases", "mysql"]);
  });
});

describe("validatedCustomResource", () => {
  const schema = z.strictObject({ apiVersion: z.literal("x.io/v1"), kind: z.literal("Thing"), metadata: z.object({ name: z.string() }), spec: z.strictObject({ size: z.number() }) });

  it("returns a valid object unchanged and names the object and the field of an invalid one", () => {
    const ok = { apiVersion: "x.io/v1", kind: "Thing", metadata: { name: "a", namespace: "n" }, spec: { size: 1 } };
    expect(validatedCustomResource(schema, ok)).toEqual(ok);
    expect(() => validatedCustomResource(schema, { ...ok, spec: { size: 1, sise: 2 } })).toThrow(/^Thing n\/a is not a valid x\.io\/v1 object: spec: Unrecognized key/);
  });
});
