import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { describe, expect, it } from "vitest";
import {
  CLOUDNATIVE_PG_CHART,
  clusterDatabaseAddOns,
  clusterDatabaseEnv,
  clusterDatabaseSecretEnv,
  clusterDatabaseServices,
  DOCUMENT_CLUSTER_SCHEMA,
  DOCUMENTDB_POSTGRES_IMAGE,
  documentAddOn,
  FERRETDB_IMAGE,
  landingZoneSecretKeys,
  validatedCustomResource,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { allStrings, checkAddOn, one, ofKind } from "./addon-helpers.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none" },
  services: [{ name: "order-notes", database: { engine: "document", storageGiB: 40 } }, { name: "orders" }],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec, { engine: "pulumi" });
const addOn = documentAddOn(plan)!;
const cluster = one(addOn.manifests, "Cluster", "order-notes-db");
const pod = one(addOn.manifests, "Deployment", "order-notes-ferretdb").spec.template.spec;
const ferret = pod.containers[0];
const owners = { "app.kubernetes.io/name": "order-notes", "app.kubernetes.io/part-of": "shop" };
const gatewayPods = { "app.kubernetes.io/name": "order-notes-ferretdb", "app.kubernetes.io/part-of": "shop" };

describe("documentAddOn (FerretDB on a CloudNativePG DocumentDB cluster per service)", () => {
  it("is undefined without a document database", () => {
    expect(documentAddOn(planLandingZone({ ...spec, services: [{ name: "orders" }] }))).toBeUndefined();
  });

  it("installs the pinned CloudNativePG operator after cert-manager, the data CA, then per service its PostgreSQL, certificate, FerretDB and policies", () => {
    checkAddOn(addOn);
    expect(addOn.helmReleases.map((r) => [r.chart, r.version])).toEqual([["cloudnative-pg", CLOUDNATIVE_PG_CHART.version]]);
    expect(addOn.dependsOn).toEqual(["cert-manager"]);
    expect(addOn.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      "Issuer/data-ca-root",
      "Certificate/data-ca",
      "Issuer/data-ca",
      "Cluster/order-notes-db",
      "Certificate/order-notes-ferretdb-tls",
      "Deployment/order-notes-ferretdb",
      "Service/order-notes-ferretdb",
      "NetworkPolicy/order-notes-ferretdb-owner-only",
      "NetworkPolicy/order-notes-db-ferretdb-only",
    ]);
    for (const m of addOn.manifests) expect(m.metadata.namespace).toBe("shop-data");
  });

  it("shares the operator and the data CA with the postgres and key-value add-ons instead of installing them twice", () => {
    const mixed = planLandingZone(
      { ...spec, services: [...spec.services, { name: "billing", database: { engine: "postgres" } }, { name: "cart", database: { engine: "key-value" } }] },
      { engine: "pulumi" },
    );
    const shared = documentAddOn(mixed)!;
    expect(shared.helmReleases).toEqual([]);
    expect(shared.dependsOn).toEqual(["cert-manager", "databases", "key-value"]);
    expect(shared.manifests.some((m) => m.metadata.name === "data-ca")).toBe(false);
    // In dependency order: the add-ons a document database waits for come first.
    expect(clusterDatabaseAddOns(mixed).map((a) => a.key)).toEqual(["databases", "key-value", "document"]);
    const releases = clusterDatabaseAddOns(mixed).flatMap((a) => a.addOn.helmReleases.map((r) => r.chart));
    expect(releases).toEqual(["cloudnative-pg"]);
  });

  it("runs PostgreSQL on FerretDB's pinned DocumentDB image with the settings it needs, no superuser, TLS-only but loopback", () => {
    expect(DOCUMENTDB_POSTGRES_IMAGE).toMatch(/^ghcr\.io\/ferretdb\/postgres-documentdb:17-\d+\.\d+\.\d+-ferretdb-\d+\.\d+\.\d+$/);
    expect(cluster.apiVersion).toBe("postgresql.cnpg.io/v1");
    expect(cluster.spec).toMatchObject({
      instances: 3,
      imageName: DOCUMENTDB_POSTGRES_IMAGE,
      postgresUID: 999,
      postgresGID: 999,
      storage: { size: "40Gi" },
      enableSuperuserAccess: false,
      bootstrap: {
        initdb: {
          database: "order_notes",
          owner: "order_notes",
          secret: { name: "order-notes-db-credentials" },
          postInitApplicationSQL: ["CREATE EXTENSION IF NOT EXISTS documentdb CASCADE", "GRANT documentdb_admin_role TO order_notes"],
        },
      },
      postgresql: {
        shared_preload_libraries: ["pg_cron", "pg_documentdb_core", "pg_documentdb"],
        parameters: { "cron.database_name": "order_notes" },
        pg_hba: ["host order_notes all 127.0.0.1/32 trust", "host order_notes all ::1/128 trust", "hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject"],
      },
    });
    expect(one(documentAddOn(planLandingZone({ ...spec, environment: "dev" }, { engine: "pulumi" }))!.manifests, "Cluster").spec.instances).toBe(1);
  });

  it("validates the Cluster against its schema, naming a wrong or misspelt field", () => {
    expect(() => validatedCustomResource(DOCUMENT_CLUSTER_SCHEMA, cluster as never)).not.toThrow();
    expect(() => validatedCustomResource(DOCUMENT_CLUSTER_SCHEMA, { ...cluster, spec: { ...cluster.spec, enableSuperuserAccess: true } } as never)).toThrow("spec.enableSuperuserAccess");
    expect(() => validatedCustomResource(DOCUMENT_CLUSTER_SCHEMA, { ...cluster, spec: { ...cluster.spec, postgresUid: 999 } } as never)).toThrow("postgresUid");
  });

  it("validates the Cluster against CloudNativePG's own schema too, which knows what a quantity is", () => {
    const { apiVersion: _apiVersion, kind: _kind, ...data } = cluster;
    const withMemory = (memory: string) => new Cluster({ ...data, metadata: cluster.metadata, spec: { ...data.spec, resources: { requests: { cpu: "250m", memory }, limits: { memory } } } });
    expect(validatedCustomResource(DOCUMENT_CLUSTER_SCHEMA, withMemory("1Gi"))).toEqual({ ...cluster, spec: { ...cluster.spec, resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "1Gi" } } } });
    // The landing zone's own schema takes any string here; the operator's rejects it.
    expect(DOCUMENT_CLUSTER_SCHEMA.safeParse({ ...cluster, spec: { ...cluster.spec, resources: { requests: { memory: "1 GiB" }, limits: { memory: "1 GiB" } } } }).success).toBe(true);
    expect(() => validatedCustomResource(DOCUMENT_CLUSTER_SCHEMA, withMemory("1 GiB"))).toThrow(
      /Cluster shop-data\/order-notes-db is not a valid postgresql\.cnpg\.io\/v1 object: .*spec\/resources\/requests\/memory must match format "quantity"/,
    );
  });

  it("runs a pinned FerretDB, non-root, read-only, without capabilities, TLS to clients and verified TLS to PostgreSQL", () => {
    expect(FERRETDB_IMAGE).toMatch(/^ghcr\.io\/ferretdb\/ferretdb:\d+\.\d+\.\d+$/);
    expect(ferret.image).toBe(FERRETDB_IMAGE);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(ferret.securityContext).toEqual({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(ferret.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } });
    const env = Object.fromEntries((ferret.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      FERRETDB_POSTGRESQL_URL: "postgres://order_notes@order-notes-db-rw.shop-data.svc:5432/order_notes?sslmode=verify-full&sslrootcert=/etc/ferretdb/postgres-ca/ca.crt",
      FERRETDB_LISTEN_ADDR: "127.0.0.1:27017",
      FERRETDB_LISTEN_TLS: ":27018",
      FERRETDB_LISTEN_TLS_CERT_FILE: "/etc/ferretdb/tls/tls.crt",
      FERRETDB_LISTEN_TLS_KEY_FILE: "/etc/ferretdb/tls/tls.key",
      FERRETDB_TELEMETRY: "disable",
    });
    // The password only by reference, from the owner's credentials Secret.
    expect(ferret.env).toContainEqual({ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "order-notes-db-credentials", key: "password" } } });
    expect(ferret.ports).toEqual([{ name: "mongodb-tls", containerPort: 27018, protocol: "TCP" }]);
    expect(pod.volumes).toEqual([
      { name: "tls", secret: { secretName: "order-notes-ferretdb-tls", defaultMode: 0o440 } },
      { name: "postgres-ca", secret: { secretName: "order-notes-db-ca", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o440 } },
      { name: "state", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    expect(one(addOn.manifests, "Deployment").spec.replicas).toBe(3);
    expect(one(addOn.manifests, "Certificate", "order-notes-ferretdb-tls").spec).toMatchObject({
      secretName: "order-notes-ferretdb-tls",
      isCA: false,
      dnsNames: ["order-notes-ferretdb", "order-notes-ferretdb.shop-data.svc", "order-notes-ferretdb.shop-data.svc.cluster.local"],
      issuerRef: { name: "data-ca", kind: "Issuer", group: "cert-manager.io" },
    });
    expect(one(addOn.manifests, "Service").spec).toEqual({ type: "ClusterIP", selector: gatewayPods, ports: [{ name: "mongodb-tls", port: 27018, targetPort: "mongodb-tls", protocol: "TCP" }] });
  });

  it("lets only the owner's pods reach its FerretDB, and only its FerretDB, instances and operator reach its PostgreSQL", () => {
    const [gateway, postgres] = ofKind(addOn.manifests, "NetworkPolicy");
    expect(gateway!.spec).toEqual({
      podSelector: { matchLabels: gatewayPods },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } }, podSelector: { matchLabels: owners } }], ports: [{ protocol: "TCP", port: 27018 }] }],
    });
    expect(postgres!.spec).toEqual({
      podSelector: { matchLabels: { "cnpg.io/cluster": "order-notes-db" } },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [{ podSelector: { matchLabels: gatewayPods } }], ports: [{ protocol: "TCP", port: 5432 }] },
        { from: [{ podSelector: { matchLabels: { "cnpg.io/cluster": "order-notes-db" } } }], ports: [{ protocol: "TCP", port: 5432 }, { protocol: "TCP", port: 8000 }] },
        { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cnpg-system" } } }], ports: [{ protocol: "TCP", port: 5432 }, { protocol: "TCP", port: 8000 }] },
      ],
    });
  });

  it("gives the owner the DATA_ENV contract, the URI and password only as secret values", () => {
    const [owner] = clusterDatabaseServices(plan);
    expect(clusterDatabaseEnv(plan, owner!)).toEqual({
      DATABASE_ENGINE: "document",
      DATABASE_HOST: "order-notes-ferretdb.shop-data.svc.cluster.local",
      DATABASE_PORT: "27018",
      DATABASE_NAME: "order_notes",
      DATABASE_USER: "order_notes",
      TABLE_NAME: plan.services[0]!.database!.identifier,
      DATABASE_CA_FILE: "/etc/msa/data-ca/ca.crt",
    });
    expect(clusterDatabaseSecretEnv(plan, owner!, "p@ss/word")).toEqual({
      DATABASE_PASSWORD: "p@ss/word",
      DATABASE_URI: "mongodb://order_notes:p%40ss%2Fword@order-notes-ferretdb.shop-data.svc.cluster.local:27018/order_notes?tls=true&tlsCAFile=/etc/msa/data-ca/ca.crt&authMechanism=SCRAM-SHA-256&authSource=admin",
    });
    const relational = planLandingZone({ ...spec, services: [{ name: "orders", database: { engine: "postgres" } }] });
    expect(clusterDatabaseSecretEnv(relational, clusterDatabaseServices(relational)[0]!, "x")).toEqual({ DATABASE_PASSWORD: "x" });
    // GitOps-delivered workloads read the same keys from the Secret the landing zone fills.
    expect(landingZoneSecretKeys(plan, { name: "order-notes" })).toEqual(["SESSION_STORE_PASSWORD", "DATABASE_PASSWORD", "DATABASE_URI"]);
    expect(landingZoneSecretKeys(plan, { name: "orders" })).toEqual(["SESSION_STORE_PASSWORD"]);
    // No manifest carries a credential: only references to the Secret.
    expect(allStrings(addOn.manifests).some((s) => /mongodb:\/\/|:\/\/[^@/]+:[^@/]+@/.test(s))).toBe(false);
  });
});
