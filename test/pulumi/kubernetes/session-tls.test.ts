import { describe, expect, it } from "vitest";
import { gitOpsDeployment } from "../../../lib/kubernetes/gitops.js";
import { redisManifests } from "../../../lib/kubernetes/redis.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { LandingZone } from "../../../lib/pulumi/kubernetes/index.js";
import { byType, runProgram, single, type RegisteredResource } from "../harness.js";

const EXAMPLE = new URL("../../../examples/kubernetes/landing-zone.yaml", import.meta.url).pathname;
const RELEASE = "kubernetes:helm.sh/v3:Release";
const GROUP = "kubernetes:yaml/v2:ConfigGroup";

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, any>; data?: Record<string, string> };
const objs = (group: RegisteredResource): Obj[] => group.inputs["objs"] as Obj[];
const run = (spec: LandingZoneInput) => runProgram(() => void new LandingZone("shop", { spec }));
const workload = (resources: readonly RegisteredResource[], service: string) => objs(single(resources, GROUP, `shop-${service}-workload`));
const config = (resources: readonly RegisteredResource[], service: string) => workload(resources, service).find((o) => o.kind === "ConfigMap")!.data!;
const pod = (resources: readonly RegisteredResource[], service: string) => workload(resources, service).find((o) => o.kind === "Deployment")!.spec!["template"].spec;
const certManagerReleases = (resources: readonly RegisteredResource[]) => byType(resources, RELEASE).filter((r) => r.inputs["chart"] === "cert-manager");

const CA_VOLUME = { name: "session-ca", secret: { secretName: "sessions-tls", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 } };
const CA_MOUNT = { name: "session-ca", mountPath: "/etc/msa/session-ca", readOnly: true };
const CLIENT_ENV = { SESSION_STORE_ENDPOINT: "sessions.shop.svc.cluster.local:6379", SESSION_STORE_TLS: "true", SESSION_STORE_CA_FILE: "/etc/msa/session-ca/ca.crt" };

/** Asserts the session Redis is TLS only, with a certificate from its own CA in the workloads namespace for every name it answers on. */
function expectTlsSessionStore(resources: readonly RegisteredResource[]): void {
  const tls = single(resources, GROUP, "shop-sessions-redis-tls");
  expect(objs(tls).map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
    "Issuer/shop/sessions-ca-root",
    "Certificate/shop/sessions-ca",
    "Issuer/shop/sessions-ca",
    "Certificate/shop/sessions-tls",
  ]);
  const [root, ca, issuer, certificate] = objs(tls);
  expect(root!.spec).toEqual({ selfSigned: {} });
  expect(ca!.spec).toMatchObject({ isCA: true, secretName: "sessions-ca", issuerRef: { name: "sessions-ca-root", kind: "Issuer" } });
  expect(issuer!.spec).toEqual({ ca: { secretName: "sessions-ca" } });
  expect(certificate!.spec).toEqual({
    secretName: "sessions-tls",
    isCA: false,
    dnsNames: ["sessions", "sessions.shop.svc", "sessions.shop.svc.cluster.local", "*.sessions-headless.shop.svc.cluster.local", "localhost"],
    duration: "8760h",
    renewBefore: "720h",
    privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    usages: ["server auth", "client auth", "digital signature"],
    issuerRef: { name: "sessions-ca", kind: "Issuer", group: "cert-manager.io" },
  });
  const manifests = single(resources, GROUP, "shop-sessions-redis-manifests");
  expect(manifests.dependsOn).toContain("shop-sessions-redis-tls");
  const statefulSet = objs(manifests).find((o) => o.kind === "StatefulSet")!;
  const spec = statefulSet.spec!["template"].spec;
  expect(spec.volumes).toEqual([{ name: "tls", secret: { secretName: "sessions-tls", defaultMode: 0o440 } }]);
  const container = spec.containers[0];
  expect(container.volumeMounts).toContainEqual({ name: "tls", mountPath: "/tls", readOnly: true });
  expect(container.command[2]).toContain("--port 0 --tls-port 6379 --tls-cert-file /tls/tls.crt --tls-key-file /tls/tls.key --tls-ca-cert-file /tls/ca.crt");
  expect(container.command[2]).toContain("--tls-replication yes");
  for (const probe of [container.readinessProbe, container.livenessProbe]) {
    expect(probe.exec.command).toEqual(["redis-cli", "--tls", "--cacert", "/tls/ca.crt", "-h", "localhost", "-p", "6379", "ping"]);
  }
}

describe("The session store on an existing cluster (example spec, prod)", async () => {
  const spec = loadSpecFile(EXAMPLE);
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(() => void new LandingZone("shop", { spec }));

  it("takes TLS only, with a certificate from its own CA in the workloads namespace", () => {
    expectTlsSessionStore(resources);
  });

  it("keeps every resource and object it had, so an update only rolls the pods", () => {
    const session = resources.filter((r) => r.path.startsWith("shop/shop-sessions")).map((r) => `${r.type}::${r.path}`);
    expect(session).toEqual([
      "msa:kubernetes:SessionStore::shop/shop-sessions",
      "msa:kubernetes:InClusterRedis::shop/shop-sessions/shop-sessions-redis",
      "random:index/randomPassword:RandomPassword::shop/shop-sessions/shop-sessions-redis/shop-sessions-redis-password",
      "kubernetes:core/v1:Secret::shop/shop-sessions/shop-sessions-redis/shop-sessions-redis-secret",
      // The one addition: the CA and the certificate.
      "kubernetes:yaml/v2:ConfigGroup::shop/shop-sessions/shop-sessions-redis/shop-sessions-redis-tls",
      "kubernetes:yaml/v2:ConfigGroup::shop/shop-sessions/shop-sessions-redis/shop-sessions-redis-manifests",
    ]);
    const applied = objs(single(resources, GROUP, "shop-sessions-redis-manifests"));
    expect(applied.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["Service/shop/sessions-headless", "Service/shop/sessions", "StatefulSet/shop/sessions"]);
    // Against the plain Redis this store used to be: the same Services, and the same StatefulSet but for its pod template.
    const before = redisManifests(plan, { name: "sessions", namespace: "shop", passwordSecretName: "sessions-password", memoryGiB: plan.sessions!.memoryGiB, replicas: plan.sessions!.replicas }) as Obj[];
    expect(applied.slice(0, 2)).toEqual(before.slice(0, 2));
    const { template: after, ...rest } = applied[2]!.spec!;
    const { template: old, ...oldRest } = before[2]!.spec!;
    expect(rest).toEqual(oldRest);
    expect(rest["volumeClaimTemplates"]).toHaveLength(1);
    expect(after.metadata).toEqual(old.metadata);
  });

  it("is protected and retained in prod, its CA and certificate with it", () => {
    for (const name of ["shop-sessions-redis-password", "shop-sessions-redis-secret", "shop-sessions-redis-tls", "shop-sessions-redis-manifests"]) {
      const r = resources.find((x) => x.name === name)!;
      expect([r.protect, r.retainOnDelete], name).toEqual([true, true]);
    }
    const statefulSet = objs(single(resources, GROUP, "shop-sessions-redis-manifests")).find((o) => o.kind === "StatefulSet")!;
    expect(statefulSet.spec!["persistentVolumeClaimRetentionPolicy"]).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
  });

  it("installs cert-manager for its certificate, no data store bringing one", () => {
    expect(certManagerReleases(resources).map((r) => r.name)).toEqual(["shop-cert-manager-cert-manager"]);
    expect(single(resources, "msa:kubernetes:SessionStore").dependsOn).toContain("shop-cert-manager-cert-manager");
  });

  it("leaves the ELK buffer plain: Logstash's redis input could not verify a private CA", () => {
    expect(resources.filter((r) => r.name.startsWith("shop-logging-buffer")).map((r) => r.name)).not.toContain("shop-logging-buffer-tls");
    const buffer = objs(single(resources, GROUP, "shop-logging-buffer-manifests")).find((o) => o.kind === "StatefulSet")!;
    expect(buffer.spec!["template"].spec.containers[0].command[2]).toContain("--port 6379");
  });

  it("tells every service to speak TLS and mounts the CA to verify it, the GitOps Deployments too", () => {
    for (const service of plan.services) {
      expect(config(resources, service.name), service.name).toMatchObject(CLIENT_ENV);
      const deployment = gitOpsDeployment(plan, service) as Obj;
      const spec = deployment.spec!["template"].spec;
      expect(spec.volumes, service.name).toContainEqual(CA_VOLUME);
      expect(spec.containers[0].volumeMounts, service.name).toContainEqual(CA_MOUNT);
    }
  });
});

describe("The session store without a mesh", () => {
  const base: LandingZoneInput = {
    name: "shop",
    cloud: "kubernetes",
    region: "local",
    gateway: { auth: "none" },
    pipelines: { perService: false },
    mesh: { kind: "none" },
    logging: { stack: "none", buffer: "none" },
    services: [{ name: "orders" }, { name: "payments" }],
  };

  it("is still TLS only, with cert-manager installed for it first", async () => {
    const { resources } = await run(base);
    expectTlsSessionStore(resources);
    expect(certManagerReleases(resources).map((r) => r.name)).toEqual(["shop-cert-manager-cert-manager"]);
    expect(certManagerReleases(resources)[0]!.inputs).toMatchObject({ namespace: "cert-manager", version: "1.19.1", values: { crds: { enabled: true, keep: true } } });
    expect(single(resources, "msa:kubernetes:SessionStore").dependsOn).toEqual(["shop-namespace", "shop-cert-manager-cert-manager"]);
    expect(single(resources, GROUP, "shop-sessions-redis-tls").dependsOn).toEqual(["shop-namespace", "shop-cert-manager-cert-manager"]);
    for (const service of ["orders", "payments"]) {
      // Its pods mount the CA Secret the store's certificate writes.
      expect(single(resources, "msa:kubernetes:ServiceWorkload", `shop-${service}`).dependsOn).toContain("shop-sessions");
      expect(config(resources, service)).toMatchObject(CLIENT_ENV);
      expect(pod(resources, service).volumes).toContainEqual(CA_VOLUME);
      expect(pod(resources, service).containers[0].volumeMounts).toContainEqual(CA_MOUNT);
    }
  });

  it.each(["key-value", "document"] as const)("shares one cert-manager with the %s store, and waits for it", async (engine) => {
    const { resources } = await run({ ...base, services: [{ name: "orders", database: { engine } }, { name: "payments" }] });
    expectTlsSessionStore(resources);
    expect(certManagerReleases(resources).map((r) => r.name)).toEqual(["shop-cert-manager-cert-manager"]);
    expect(single(resources, "msa:kubernetes:SessionStore").dependsOn).toContain("shop-cert-manager-cert-manager");
    expect(single(resources, GROUP, `shop-${engine}-manifests`).dependsOn).toContain("shop-cert-manager-cert-manager");
    // The store's own CA, not the data CA: its Issuer cannot sign outside the data namespace.
    expect(objs(single(resources, GROUP, "shop-sessions-redis-tls")).every((o) => o.metadata.namespace === "shop")).toBe(true);
  });

  it("uses the cluster's own cert-manager when the spec reuses it", async () => {
    const { resources } = await run({ ...base, kubernetes: { certManager: { install: false } } });
    expectTlsSessionStore(resources);
    expect(certManagerReleases(resources)).toEqual([]);
    expect(single(resources, "msa:kubernetes:SessionStore").dependsOn).toEqual(["shop-namespace"]);
  });

  it("gives services nothing of it without sessions", async () => {
    const { resources } = await run({ ...base, auth: { sessions: "none" } });
    expect(byType(resources, "msa:kubernetes:SessionStore")).toEqual([]);
    expect(certManagerReleases(resources)).toEqual([]);
    expect(Object.keys(config(resources, "orders")).filter((key) => key.startsWith("SESSION_STORE"))).toEqual([]);
    expect(pod(resources, "orders").volumes.map((v: { name: string }) => v.name)).toEqual(["tmp"]);
  });
});
