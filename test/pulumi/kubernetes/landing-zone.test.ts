import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { gitOpsDeployment } from "../../../lib/kubernetes/gitops.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { LandingZone } from "../../../lib/pulumi/kubernetes/index.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

const EXAMPLE = new URL("../../../examples/kubernetes/landing-zone.yaml", import.meta.url).pathname;
const RELEASE = "kubernetes:helm.sh/v3:Release";
const GROUP = "kubernetes:yaml/v2:ConfigGroup";
const SECRET = "kubernetes:core/v1:Secret";

type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown> } & Record<string, unknown>;
const objs = (group: RegisteredResource): Obj[] => group.inputs["objs"] as Obj[];

const outputs: Record<string, unknown> = {};
const run = (spec: LandingZoneInput | LandingZoneSpec, capture = false) =>
  runProgram(() => {
    const zone = new LandingZone("shop", { spec });
    if (capture) {
      zone.sessionEndpoint.apply((v) => (outputs["sessionEndpoint"] = v));
      zone.kibanaService.apply((v) => (outputs["kibanaService"] = v));
      zone.ingressClass.apply((v) => (outputs["ingressClass"] = v));
      zone.namespace.apply((v) => (outputs["namespace"] = v));
      zone.kafkaBootstrapServers.apply((v) => (outputs["kafka"] = v));
    }
  });

describe("LandingZone on an existing cluster (example spec)", async () => {
  const spec = loadSpecFile(EXAMPLE);
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await run(spec, true);

  it("registers every part of the landing zone under the component", () => {
    const types = new Set(resources.map((r) => r.type));
    for (const type of [
      "msa:kubernetes:LandingZone",
      "msa:kubernetes:Ingress",
      "msa:kubernetes:SessionStore",
      "msa:kubernetes:InClusterRedis",
      "msa:kubernetes:LogPipeline",
      "msa:kubernetes:MessageBroker",
      "msa:kubernetes:ServiceWorkload",
      "pulumi:providers:kubernetes",
      "kubernetes:core/v1:Namespace",
      RELEASE,
      GROUP,
      SECRET,
      "random:index/randomPassword:RandomPassword",
    ]) {
      expect(types, type).toContain(type);
    }
    const releases = byType(resources, RELEASE).map((r) => r.inputs["chart"]);
    expect(releases).toEqual(expect.arrayContaining(["ingress-nginx", "base", "istiod", "eck-operator", "strimzi-kafka-operator", "opentelemetry-collector", "kube-prometheus-stack"]));
    // Every resource but the root hangs under the landing zone, and every Kubernetes resource uses its provider.
    for (const r of resources.filter((r) => r.type !== "msa:kubernetes:LandingZone")) {
      expect(r.path.startsWith("shop/"), r.path).toBe(true);
      if (r.custom && r.type.startsWith("kubernetes:")) expect(r.provider, r.name).toBe("shop-cluster");
    }
    expect(childrenOf(resources, "shop").map((r) => r.type)).toEqual(expect.arrayContaining(["msa:kubernetes:Ingress", "msa:kubernetes:SessionStore", "msa:kubernetes:LogPipeline"]));
  });

  it("creates one ServiceWorkload per service and BFF, each with the mesh policies", () => {
    const workloads = byType(resources, "msa:kubernetes:ServiceWorkload").map((r) => r.name);
    expect(workloads).toEqual(plan.services.map((s) => `shop-${s.name}`));
    const orders = single(resources, GROUP, "shop-orders-workload");
    // The example delivers by GitOps: Argo CD applies each Deployment from the service's repository.
    expect(objs(orders).map((o) => o.kind)).toEqual(["ServiceAccount", "ConfigMap", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "DestinationRule", "VirtualService"]);
    expect(objs(single(resources, GROUP, "shop-gitops-manifests")).filter((o) => o.kind === "Application").map((o) => o.metadata.name)).toEqual([
      ...plan.services.map((s) => `shop-${s.name}`),
      // And each micro-frontend app, named after its objects.
      ...["web", "browse", "account"].map((app) => `shop-${app}-ui`),
    ]);
    // Workloads wait for istiod, or their pods would start without sidecars.
    expect(single(resources, "msa:kubernetes:ServiceWorkload", "shop-orders").dependsOn).toEqual(expect.arrayContaining(["shop-namespace", "shop-mesh-istiod"]));
  });

  it("installs Argo CD, which syncs the Deployments, only once istiod injects sidecars", () => {
    for (const gitOps of [single(resources, RELEASE, "shop-gitops-argocd"), single(resources, GROUP, "shop-gitops-manifests")]) {
      expect(gitOps.dependsOn, gitOps.name).toEqual(expect.arrayContaining(["shop-namespace", "shop-mesh-istio-base", "shop-mesh-istiod"]));
    }
  });

  it("routes exactly plan.gateway.routes through the Ingress objects", () => {
    const routes = single(resources, GROUP, "shop-ingress-routes");
    const applied = objs(routes).flatMap((ingress) => {
      expect(ingress.kind).toBe("Ingress");
      const spec = ingress.spec as { ingressClassName: string; rules: { http: { paths: { path: string; backend: { service: { name: string; port: { number: number } } } }[] } }[] };
      expect(spec.ingressClassName).toBe("shop-nginx");
      expect(ingress.metadata.annotations!["nginx.ingress.kubernetes.io/upstream-vhost"]).toBe(`${ingress.metadata.name}.shop.svc.cluster.local`);
      return spec.rules[0]!.http.paths.map((p) => ({ path: p.path, target: p.backend.service.name, port: p.backend.service.port.number }));
    });
    expect(new Set(applied.map((r) => `${r.path}->${r.target}`))).toEqual(new Set(plan.gateway.routes.map((r) => `${r.path}->${r.target}`)));
    expect(applied).toHaveLength(plan.gateway.routes.length);
    expect(applied.every((r) => r.port === 80)).toBe(true);
    expect(routes.dependsOn).toContain("shop-ingress-shop-ingress-nginx");
  });

  it("puts the ingress controller in its own namespace labelled for the workloads' NetworkPolicies", () => {
    const namespace = single(resources, "kubernetes:core/v1:Namespace", "shop-ingress-namespace");
    const metadata = namespace.inputs["metadata"] as { name: string; labels: Record<string, string> };
    expect(metadata.labels["msa-landing-zone/ingress"]).toBe("true");
    const release = single(resources, RELEASE, "shop-ingress-shop-ingress-nginx");
    expect(release.inputs["namespace"]).toBe(metadata.name);
    expect(release.inputs["version"]).toBe("4.13.3");
    expect(release.dependsOn).toContain("shop-ingress-namespace");
    const controller = (release.inputs["values"] as { controller: Record<string, unknown> }).controller;
    expect(controller["allowSnippetAnnotations"]).toBe(false);
    expect(controller["config"]).toMatchObject({ "enable-modsecurity": "true", "enable-owasp-modsecurity-crs": "true" });
    expect(controller["podLabels"]).toEqual({ "sidecar.istio.io/inject": "true" });
  });

  it("passes the Redis passwords to pods only by Secret reference", () => {
    const passwords = byType(resources, "random:index/randomPassword:RandomPassword");
    const values = passwords.map((p) => String(p.outputs["result"]));
    const sessionSecret = single(resources, SECRET, "shop-sessions-redis-secret");
    expect(sessionSecret.secretInputs).toContain("stringData");
    expect((sessionSecret.inputs["metadata"] as { name: string; namespace: string })).toMatchObject({ name: "sessions-password", namespace: "shop" });
    for (const group of byType(resources, GROUP)) {
      const text = JSON.stringify(group.inputs);
      for (const value of values) expect(text.includes(value), `${value} in ${group.name}`).toBe(false);
    }
    const redis = objs(single(resources, GROUP, "shop-sessions-redis-manifests")).find((o) => o.kind === "StatefulSet")!;
    const env = (redis.spec as { template: { spec: { containers: { env: { name: string; valueFrom?: unknown; value?: string }[] }[] } } }).template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === "REDIS_PASSWORD")).toEqual({ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "sessions-password", key: "password" } } });
    // Services get the session password in their own Secret, referenced the same way.
    // The Deployment Argo CD applies from Git reads them the same way.
    const deployment = gitOpsDeployment(plan, plan.services.find((s) => s.name === "orders")!) as Obj;
    const serviceEnv = (deployment.spec as { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } }).template.spec.containers[0]!.env;
    expect(serviceEnv).toEqual(
      expect.arrayContaining([
        { name: "SIGNING_KEY", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "SIGNING_KEY" } } },
        { name: "SESSION_STORE_PASSWORD", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "SESSION_STORE_PASSWORD" } } },
      ]),
    );
    expect(serviceEnv.every((e) => e.value === undefined)).toBe(true);
    const ordersSecret = single(resources, SECRET, "shop-orders-secret");
    expect(ordersSecret.secretInputs).toContain("stringData");
    expect(Object.keys(ordersSecret.inputs["stringData"] as object).sort()).toEqual(["DATABASE_PASSWORD", "SESSION_STORE_PASSWORD", "SIGNING_KEY"]);
    expect((ordersSecret.inputs["stringData"] as Record<string, string>)["SESSION_STORE_PASSWORD"]).toBe("mock-password-shop-sessions-redis-password");
  });

  it("gives orders and order-history each a CloudNativePG database only they reach, with generated credentials", () => {
    const dataNamespace = objs(single(resources, GROUP, "shop-data-namespace"));
    expect(dataNamespace.map((o) => [o.kind, o.metadata.name])).toEqual([["Namespace", "shop-data"], ["NetworkPolicy", "default-deny-ingress"]]);
    for (const service of ["orders", "order-history"]) {
      const secret = single(resources, SECRET, `shop-${service}-db-credentials`);
      expect(secret.inputs).toMatchObject({ type: "kubernetes.io/basic-auth", metadata: { name: `${service}-db-credentials`, namespace: "shop-data" } });
      expect(secret.secretInputs).toContain("stringData");
      expect(secret.dependsOn).toEqual(["shop-data-namespace"]);
    }
    expect(single(resources, RELEASE, "shop-databases-cloudnative-pg").dependsOn).toEqual(["shop-data-namespace", "shop-orders-db-credentials", "shop-order-history-db-credentials"]);
    for (const kept of ["shop-data-namespace", "shop-databases-manifests", "shop-orders-db-credentials", "shop-orders-db-password"]) {
      expect(resources.find((r) => r.name === kept), kept).toMatchObject({ protect: true, retainOnDelete: true });
    }
    const clusters = objs(single(resources, GROUP, "shop-databases-manifests")).filter((o) => o.kind === "Cluster");
    expect(clusters.map((c) => [c.metadata.name, c.metadata.namespace, (c.spec as { instances: number }).instances])).toEqual([
      ["orders-db", "shop-data", 3],
      ["order-history-db", "shop-data", 3],
    ]);
    // The services get where their database is, and the password only by Secret reference, in the
    // Deployment Argo CD applies from Git (the example delivers by GitOps).
    const deployment = (service: string) => gitOpsDeployment(plan, plan.services.find((s) => s.name === service)!) as Obj;
    const env = (service: string) => (deployment(service).spec as { template: { spec: { containers: { env: { name: string; valueFrom?: unknown }[] }[] } } }).template.spec.containers[0]!.env;
    const config = (service: string) => objs(single(resources, GROUP, `shop-${service}-workload`)).find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    expect(env("orders")).toContainEqual({ name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "DATABASE_PASSWORD" } } });
    expect(config("orders")).toMatchObject({ DATABASE_HOST: "orders-db-rw.shop-data.svc.cluster.local", DATABASE_PORT: "5432", DATABASE_NAME: "orders", DATABASE_USER: "orders" });
    expect(config("payments")).toMatchObject({ EVENT_STORE: "payments.event-store" });
    // inventory's MariaDB: the same contract, its own operator, depending only on its own credentials.
    expect(env("inventory")).toContainEqual({ name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: "inventory-secrets", key: "DATABASE_PASSWORD" } } });
    expect(config("inventory")).toMatchObject({ DATABASE_ENGINE: "mysql", DATABASE_HOST: "inventory-db-primary.shop-data.svc.cluster.local", DATABASE_PORT: "3306", DATABASE_NAME: "inventory", DATABASE_USER: "inventory" });
    expect(single(resources, RELEASE, "shop-mysql-mariadb-operator").dependsOn).toEqual(["shop-data-namespace", "shop-inventory-db-credentials"]);
    expect(objs(single(resources, GROUP, "shop-mysql-manifests")).filter((o) => o.kind === "MariaDB").map((o) => [o.metadata.name, (o.spec as { replicas: number }).replicas])).toEqual([["inventory-db", 3]]);
    expect(resources.find((r) => r.name === "shop-mysql-manifests")).toMatchObject({ protect: true, retainOnDelete: true });
    for (const service of ["payments", "web"]) {
      expect(env(service).some((e) => e.name === "DATABASE_PASSWORD"), service).toBe(false);
      expect(config(service)["DATABASE_HOST"], service).toBeUndefined();
    }
  });

  it("serves the example's shell and fragments, each its own component", () => {
    expect(byType(resources, "msa:kubernetes:FrontendApp").map((a) => a.name)).toEqual(["shop-ui-web", "shop-ui-browse", "shop-ui-account"]);
    const paths = ["web", "browse", "account"].map((app) => (objs(single(resources, GROUP, `shop-ui-${app}-manifests`)).find((o) => o.kind === "Ingress")!.spec as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!.http.paths[0]!.path);
    expect(paths).toEqual(["/", "/browse/", "/account/"]);
  });

  it("leaves each app's Deployment to its own Argo CD Application, which may sync only that app's repository into the frontends namespace", () => {
    const argo = objs(single(resources, GROUP, "shop-gitops-manifests"));
    for (const app of ["web", "browse", "account"]) {
      // One owner per object: the landing zone keeps the ConfigMap, Service, PDB and Ingress, Argo CD the Deployment.
      expect(objs(single(resources, GROUP, `shop-ui-${app}-manifests`)).map((o) => o.kind)).toEqual(["ConfigMap", "Service", "PodDisruptionBudget", "Ingress"]);
      const repoURL = `https://github.com/acme-shop/${app}-ui.git`;
      expect(argo.find((o) => o.kind === "AppProject" && o.metadata.name === `shop-${app}-ui`)!.spec).toEqual({
        description: `${app} micro-frontend: only its repository, only Deployments, only namespace shop-frontends`,
        sourceRepos: [repoURL],
        destinations: [{ server: "https://kubernetes.default.svc", namespace: "shop-frontends" }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: [{ group: "apps", kind: "Deployment" }],
      });
      expect(argo.find((o) => o.kind === "Application" && o.metadata.name === `shop-${app}-ui`)!.spec).toMatchObject({
        project: `shop-${app}-ui`,
        source: { repoURL, targetRevision: "main", path: "deploy" },
        destination: { server: "https://kubernetes.default.svc", namespace: "shop-frontends" },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      });
    }
  });

  it("runs the choreographed saga and the event store on Kafka", () => {
    const kafka = objs(single(resources, GROUP, "shop-broker-manifests"));
    const topics = kafka.filter((o) => o.kind === "KafkaTopic").map((t) => t.metadata.name);
    expect(topics).toEqual(expect.arrayContaining(["place-order-orders-create-completed", "place-order-payments-charge-failed", "place-order-inventory-release-compensated", "payments.event-store"]));
    const store = kafka.find((o) => o.kind === "KafkaTopic" && o.metadata.name === "payments.event-store")!;
    expect((store.spec as { config: Record<string, unknown> }).config).toMatchObject({ "retention.ms": -1, "retention.bytes": -1, "cleanup.policy": "delete" });
  });

  it("protects and retains stateful resources in prod", () => {
    for (const name of ["shop-sessions-redis-password", "shop-sessions-redis-secret", "shop-sessions-redis-tls", "shop-sessions-redis-manifests"]) {
      const r = resources.find((x) => x.name === name)!;
      expect(r.protect, name).toBe(true);
      expect(r.retainOnDelete, name).toBe(true);
    }
  });

  it("exports the namespace, ingress class, session endpoint, Kibana and Kafka addresses", () => {
    expect(outputs).toEqual({
      namespace: "shop",
      ingressClass: "shop-nginx",
      sessionEndpoint: "sessions.shop.svc.cluster.local:6379",
      kibanaService: "logs-kb-http.logging.svc.cluster.local:5601",
      kafka: "shop-kafka-bootstrap.kafka.svc.cluster.local:9093",
    });
  });
});

describe("LandingZone rejects what it does not build", () => {
  const base: LandingZoneInput = { name: "shop", cloud: "kubernetes", region: "local", gateway: { auth: "none" }, pipelines: { perService: false }, services: [{ name: "orders" }] };

  it.each(["iaas", "paas"] as const)("rejects tier %s with the fix", async (tier) => {
    await expect(run({ ...base, tier })).rejects.toThrow(`compute (asked by tier) is not offered on kubernetes/${tier}; it is on kubernetes/caas. Fix: set tier to caas`);
  });

  it("keeps configuration in each service's ConfigMap and tells it how to reach the session store", async () => {
    const { resources } = await run({ ...base, config: { values: { LOG_LEVEL: "info" } }, services: [{ name: "orders", config: { TIMEOUT: "30" } }], logging: { stack: "none", buffer: "none" } });
    const config = objs(single(resources, GROUP, "shop-orders-workload")).find((o) => o.kind === "ConfigMap")!["data"] as Record<string, string>;
    expect(config).toMatchObject({ LOG_LEVEL: "info", TIMEOUT: "30", SESSION_STORE_ENDPOINT: "sessions.shop.svc.cluster.local:6379", SESSION_STORE_TLS: "true", SESSION_STORE_CA_FILE: "/etc/msa/session-ca/ca.crt" });
  });

  it("rejects pipelines without an owner", async () => {
    await expect(run({ ...base, pipelines: { perService: true } })).rejects.toThrow("pipelines.repositoryOwner is undefined");
  });

  it("gives a mysql service a MariaDB only it reaches, after the operator, its generated password by Secret reference", async () => {
    const spec: LandingZoneInput = { ...base, environment: "prod", services: [{ name: "catalog", database: { engine: "mysql" } }, { name: "orders" }], logging: { stack: "none", buffer: "none" } };
    const { resources } = await run(spec);
    const credentials = single(resources, SECRET, "shop-catalog-db-credentials");
    expect(credentials.inputs).toMatchObject({ type: "kubernetes.io/basic-auth", metadata: { name: "catalog-db-credentials", namespace: "shop-data" }, stringData: { username: "catalog" } });
    expect(credentials.secretInputs).toContain("stringData");
    const releases = ["shop-mysql-mariadb-operator-crds", "shop-mysql-mariadb-operator"].map((name) => single(resources, RELEASE, name));
    for (const release of releases) expect(release.dependsOn).toEqual(["shop-data-namespace", "shop-catalog-db-credentials"]);
    const group = single(resources, GROUP, "shop-mysql-manifests");
    expect(group.dependsOn).toEqual(["shop-data-namespace", "shop-catalog-db-credentials", ...releases.map((r) => r.name)]);
    expect(objs(group).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["MariaDB/catalog-db", "Database/catalog-db-database", "User/catalog-db-owner", "Grant/catalog-db-owner-grant", "NetworkPolicy/catalog-db-owner-only"]);
    for (const kept of ["shop-data-namespace", "shop-mysql-manifests", "shop-catalog-db-credentials", "shop-catalog-db-password"]) {
      expect(resources.find((r) => r.name === kept), kept).toMatchObject({ protect: true, retainOnDelete: true });
    }
    // No CloudNativePG without a postgres database.
    expect(resources.some((r) => r.name === "shop-databases-cloudnative-pg")).toBe(false);
    const config = objs(single(resources, GROUP, "shop-catalog-workload")).find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    expect(config).toMatchObject({ DATABASE_ENGINE: "mysql", DATABASE_HOST: "catalog-db-primary.shop-data.svc.cluster.local", DATABASE_PORT: "3306", DATABASE_NAME: "catalog", DATABASE_USER: "catalog" });
    expect(config["DATABASE_PASSWORD"]).toBeUndefined();
    const ownSecret = single(resources, SECRET, "shop-catalog-secret");
    expect(ownSecret.secretInputs).toContain("stringData");
    expect((ownSecret.inputs["stringData"] as Record<string, string>)["DATABASE_PASSWORD"]).toBe("mock-password-shop-catalog-db-password");
    const deployment = objs(single(resources, GROUP, "shop-catalog-workload")).find((o) => o.kind === "Deployment")!;
    const env = (deployment.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]!.env;
    expect(env).toContainEqual({ name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: "catalog-secrets", key: "DATABASE_PASSWORD" } } });
    expect(resources.some((r) => r.name === "shop-orders-db-credentials")).toBe(false);
  });

  it("gives a key-value service its own TLS-only Redis after cert-manager, its password only in Secrets", async () => {
    const spec: LandingZoneInput = { ...base, services: [{ name: "cart", database: { engine: "key-value" } }], logging: { stack: "none", buffer: "none" } };
    const { resources } = await run(spec);
    const credentials = single(resources, SECRET, "shop-cart-db-credentials");
    expect(credentials.inputs).toMatchObject({ type: "kubernetes.io/basic-auth", metadata: { name: "cart-db-credentials", namespace: "shop-data" }, stringData: { username: "default" } });
    expect(credentials.secretInputs).toContain("stringData");
    expect(single(resources, RELEASE, "shop-cert-manager-cert-manager").dependsOn).toEqual([]);
    const group = single(resources, GROUP, "shop-key-value-manifests");
    expect(group.dependsOn).toEqual(["shop-data-namespace", "shop-cart-db-credentials", "shop-cert-manager-cert-manager"]);
    const set = objs(group).find((o) => o.kind === "StatefulSet")!;
    expect(JSON.stringify(set)).toContain('"secretName":"cart-kv-tls"');
    expect(JSON.stringify(group.inputs)).not.toContain("mock-password");
    const config = objs(single(resources, GROUP, "shop-cart-workload")).find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    expect(config).toMatchObject({ DATABASE_ENGINE: "key-value", DATABASE_HOST: "cart-kv.shop-data.svc.cluster.local", DATABASE_PORT: "6379", DATABASE_USER: "default" });
    expect((single(resources, SECRET, "shop-cart-secret").inputs["stringData"] as Record<string, string>)["DATABASE_PASSWORD"]).toBe("mock-password-shop-cart-db-password");
  });

  it("gives a document service FerretDB on its own DocumentDB cluster after the shared operators, its URI and password only in Secrets", async () => {
    const spec: LandingZoneInput = {
      ...base,
      environment: "prod",
      services: [{ name: "notes", database: { engine: "document" } }, { name: "billing", database: { engine: "postgres" } }, { name: "cart", database: { engine: "key-value" } }, { name: "orders" }],
      logging: { stack: "none", buffer: "none" },
    };
    const { resources } = await run(spec);
    const credentials = single(resources, SECRET, "shop-notes-db-credentials");
    expect(credentials.inputs).toMatchObject({ type: "kubernetes.io/basic-auth", metadata: { name: "notes-db-credentials", namespace: "shop-data" }, stringData: { username: "notes" } });
    expect(credentials.secretInputs).toContain("stringData");
    // One CloudNativePG and one cert-manager for all engines: the document add-on installs neither and waits for both.
    expect(byType(resources, RELEASE).map((r) => r.inputs["chart"]).filter((c) => c === "cloudnative-pg" || c === "cert-manager")).toEqual(["cert-manager", "cloudnative-pg"]);
    const group = single(resources, GROUP, "shop-document-manifests");
    expect(group.dependsOn).toEqual([
      "shop-data-namespace",
      "shop-notes-db-credentials",
      "shop-cert-manager-cert-manager",
      "shop-databases-cloudnative-pg",
      "shop-databases-manifests",
      "shop-key-value-manifests",
    ]);
    expect(objs(group).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Cluster/notes-db",
      "Certificate/notes-ferretdb-tls",
      "Deployment/notes-ferretdb",
      "Service/notes-ferretdb",
      "NetworkPolicy/notes-ferretdb-owner-only",
      "NetworkPolicy/notes-db-ferretdb-only",
    ]);
    expect(JSON.stringify(group.inputs)).not.toContain("mock-password");
    for (const kept of ["shop-document-manifests", "shop-notes-db-credentials", "shop-notes-db-password"]) {
      expect(resources.find((r) => r.name === kept), kept).toMatchObject({ protect: true, retainOnDelete: true });
    }
    const workload = objs(single(resources, GROUP, "shop-notes-workload"));
    const config = workload.find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    expect(config).toMatchObject({ DATABASE_ENGINE: "document", DATABASE_HOST: "notes-ferretdb.shop-data.svc.cluster.local", DATABASE_PORT: "27018", DATABASE_NAME: "notes", DATABASE_USER: "notes" });
    expect(config["TABLE_NAME"]).toMatch(/notes/);
    expect(config["DATABASE_URI"]).toBeUndefined();
    const ownSecret = single(resources, SECRET, "shop-notes-secret");
    expect(ownSecret.secretInputs).toContain("stringData");
    expect(ownSecret.inputs["stringData"]).toMatchObject({
      DATABASE_PASSWORD: "mock-password-shop-notes-db-password",
      DATABASE_URI: "mongodb://notes:mock-password-shop-notes-db-password@notes-ferretdb.shop-data.svc.cluster.local:27018/notes?tls=true&tlsCAFile=/etc/msa/data-ca/ca.crt&authMechanism=SCRAM-SHA-256&authSource=admin",
    });
    const env = (workload.find((o) => o.kind === "Deployment")!.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]!.env;
    expect(env).toContainEqual({ name: "DATABASE_URI", valueFrom: { secretKeyRef: { name: "notes-secrets", key: "DATABASE_URI" } } });
    // Only the owner gets the URI.
    for (const other of ["billing", "cart"]) {
      expect(Object.keys(single(resources, SECRET, `shop-${other}-secret`).inputs["stringData"] as object)).not.toContain("DATABASE_URI");
    }
  });

  it("checks the issuer's tokens on every call through the ingress, with Istio policies applied after the mesh", async () => {
    const { resources } = await run({ ...base, gateway: { auth: "jwt" }, auth: { sessions: "none", issuer: "https://login.example.com/realms/shop" }, logging: { stack: "none", buffer: "none" } });
    const group = single(resources, GROUP, "shop-gateway-auth");
    expect(objs(group).map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["RequestAuthentication/shop/gateway-jwt", "AuthorizationPolicy/shop/gateway-require-jwt"]);
    expect(objs(group)[0]!.spec).toEqual({ jwtRules: [{ issuer: "https://login.example.com/realms/shop", forwardOriginalToken: true }] });
    expect(objs(group)[1]!.spec).toMatchObject({ action: "DENY", rules: [{ from: [{ source: { namespaces: ["shop-ingress"], notRequestPrincipals: ["*"] } }] }] });
    expect(group.dependsOn).toEqual(expect.arrayContaining(["shop-namespace", "shop-mesh-istiod"]));
    // The trusted namespace is the one the ingress controller runs in.
    expect((single(resources, "kubernetes:core/v1:Namespace", "shop-ingress-namespace").inputs["metadata"] as { name: string }).name).toBe("shop-ingress");
  });

  it("delegates calls through the ingress to the auth service with Istio ext-authz", async () => {
    const { resources } = await run({
      ...base,
      gateway: { auth: "authorizer" },
      auth: { sessions: "none", service: "auth" },
      logging: { stack: "none", buffer: "none" },
      services: [{ name: "orders" }, { name: "auth", path: "/auth" }],
    });
    const policy = objs(single(resources, GROUP, "shop-gateway-auth"));
    expect(policy.map((o) => o.kind)).toEqual(["AuthorizationPolicy"]);
    expect(policy[0]!.spec).toEqual({ action: "CUSTOM", provider: { name: "shop-auth-service" }, rules: [{ from: [{ source: { namespaces: ["shop-ingress"] } }], to: [{ operation: { notPaths: ["/auth", "/auth/*"] } }] }] });
    const istiod = single(resources, RELEASE, "shop-mesh-istiod");
    const meshConfig = (istiod.inputs["values"] as { meshConfig: { extensionProviders: { name: string; envoyExtAuthzHttp: Record<string, unknown> }[] } }).meshConfig;
    expect(meshConfig.extensionProviders).toEqual([
      { name: "shop-auth-service", envoyExtAuthzHttp: { service: "auth.shop.svc.cluster.local", port: 80, pathPrefix: "/auth/authorize", includeRequestHeadersInCheck: ["authorization"], timeout: "3s" } },
    ]);
  });

  it("rejects a spec for another cloud", async () => {
    await expect(run({ ...base, cloud: "gcp", region: "asia-northeast3" })).rejects.toThrow(/not supported yet on gcp\/caas|LandingZone args.spec.cloud: "gcp"/);
  });

  it("rejects the RabbitMQ broker, which has no Strimzi add-on", async () => {
    await expect(run({ ...base, messaging: { broker: "rabbitmq" }, services: [{ name: "orders", publishes: ["order-placed"] }] })).rejects.toThrow(
      'MessageBroker args.plan.broker.implementation: "rabbitmq-cluster-operator" is not built by the Pulumi kubernetes engine. Fix: set messaging.broker: kafka (Strimzi)',
    );
  });

  it("builds a minimal zone without the optional parts", async () => {
    const { resources } = await run({ ...base, auth: { sessions: "none" }, logging: { stack: "none", buffer: "none" }, mesh: { kind: "none" }, tracing: { backend: "none" }, monitoring: { dashboards: false, alarms: false } });
    expect(byType(resources, "msa:kubernetes:SessionStore")).toHaveLength(0);
    expect(byType(resources, "msa:kubernetes:LogPipeline")).toHaveLength(0);
    expect(byType(resources, RELEASE).map((r) => r.inputs["chart"])).toEqual(["ingress-nginx"]);
    const orders = objs(single(resources, GROUP, "shop-orders-workload"));
    expect(orders.map((o) => o.kind)).not.toContain("DestinationRule");
  });

  it("pulls the services' images from the given registry with a dockerconfigjson Secret", async () => {
    const { resources } = await runProgram(() => {
      new LandingZone("shop", {
        spec: { ...base, auth: { sessions: "none" }, logging: { stack: "none", buffer: "none" }, services: [{ name: "orders" }, { name: "payments", image: "docker.io/acme/payments:2.1" }] },
        registry: { server: "registry.example.com/shop", username: "ci", password: "s3cret" },
      });
    });
    const secret = single(resources, SECRET, "shop-registry");
    expect(secret.inputs["type"]).toBe("kubernetes.io/dockerconfigjson");
    expect(secret.secretInputs).toEqual(["stringData"]);
    const config = JSON.parse((secret.inputs["stringData"] as Record<string, string>)[".dockerconfigjson"]!);
    expect(config.auths["registry.example.com"]).toEqual({ username: "ci", password: "s3cret", auth: Buffer.from("ci:s3cret").toString("base64") });
    const orders = objs(single(resources, GROUP, "shop-orders-workload"));
    expect(orders.find((o) => o.kind === "ServiceAccount")!["imagePullSecrets"]).toEqual([{ name: "registry-credentials" }]);
    expect(JSON.stringify(orders.find((o) => o.kind === "Deployment"))).toContain('"image":"registry.example.com/shop/shop-orders:latest"');
    // An image the spec sets is used as written.
    expect(JSON.stringify(objs(single(resources, GROUP, "shop-payments-workload")))).toContain('"image":"docker.io/acme/payments:2.1"');
    expect(JSON.stringify(byType(resources, GROUP).map((g) => g.inputs))).not.toContain("s3cret");
  });

  it("serves the shell and each fragment on its own, after the ingress controller, on the gateway's host and class", async () => {
    const spec: LandingZoneInput = { ...base, bffs: ["web"], frontends: { shell: "web", fragments: ["catalog", "checkout"] }, auth: { sessions: "none" }, logging: { stack: "none", buffer: "none" } };
    const { resources } = await runProgram(() => {
      new LandingZone("shop", {
        spec,
        ingress: { host: "shop.example.com", tlsSecretName: "shop-tls" },
        registry: { server: "registry.example.com/shop", username: "ci", password: "s3cret" },
        frontendImages: { catalog: "registry.example.com/shop/shop-catalog-ui:1.4.2" },
        transform: { frontend: (app) => (app === "checkout" ? { manifests: (args) => void (args.objs = (args.objs as { kind: string }[]).filter((o) => o.kind !== "PodDisruptionBudget")) } : undefined) },
      });
    });
    const apps = byType(resources, "msa:kubernetes:FrontendApp");
    expect(apps.map((a) => [a.name, a.parent])).toEqual([["shop-ui-web", "shop"], ["shop-ui-catalog", "shop"], ["shop-ui-checkout", "shop"]]);
    const namespace = objs(single(resources, GROUP, "shop-frontends-namespace"));
    expect(namespace.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Namespace/shop-frontends", "NetworkPolicy/default-deny-ingress", "NetworkPolicy/allow-ingress-controller"]);
    // The images come from the registry through a pull Secret of the frontends namespace; a given image wins.
    const pull = single(resources, SECRET, "shop-frontends-registry");
    expect(pull.inputs).toMatchObject({ type: "kubernetes.io/dockerconfigjson", metadata: { name: "registry-credentials", namespace: "shop-frontends" } });
    expect(pull.secretInputs).toEqual(["stringData"]);
    const group = (app: string) => single(resources, GROUP, `shop-ui-${app}-manifests`);
    const deployment = (app: string) => objs(group(app)).find((o) => o.kind === "Deployment")!.spec as { template: { spec: { initContainers: { image: string }[]; imagePullSecrets: unknown[] } } };
    expect(deployment("web").template.spec.initContainers[0]!.image).toBe("registry.example.com/shop/shop-web-ui:latest");
    expect(deployment("catalog").template.spec.initContainers[0]!.image).toBe("registry.example.com/shop/shop-catalog-ui:1.4.2");
    expect(deployment("web").template.spec.imagePullSecrets).toEqual([{ name: "registry-credentials" }]);
    // Each app is its own ConfigGroup, waiting for its namespace, the controller (admission webhook) and the pull Secret.
    for (const app of ["web", "catalog", "checkout"]) {
      expect(group(app).dependsOn).toEqual(expect.arrayContaining(["shop-frontends-namespace", "shop-ingress-shop-ingress-nginx", "shop-frontends-registry"]));
      const ingress = objs(group(app)).find((o) => o.kind === "Ingress")!;
      expect(ingress.spec).toMatchObject({ ingressClassName: "shop-nginx", rules: [{ host: "shop.example.com" }] });
      expect(ingress.metadata.annotations!["nginx.ingress.kubernetes.io/force-ssl-redirect"]).toBe("true");
    }
    expect(objs(group("catalog")).find((o) => o.kind === "Ingress")!.spec).toMatchObject({ rules: [{ http: { paths: [{ path: "/catalog/" }] } }] });
    expect(objs(group("web")).find((o) => o.kind === "Ingress")!.spec).toMatchObject({ rules: [{ http: { paths: [{ path: "/" }] } }] });
    // The shell's BFF route stays on the gateway's Ingress of the BFF, on the same host.
    const routes = objs(single(resources, GROUP, "shop-ingress-routes"));
    expect(routes.find((o) => o.metadata.name === "web")!.spec).toMatchObject({ rules: [{ host: "shop.example.com", http: { paths: [{ path: "/web" }] } }] });
    expect(objs(group("checkout")).map((o) => o.kind)).not.toContain("PodDisruptionBudget");
    expect(objs(group("catalog")).map((o) => o.kind)).toContain("PodDisruptionBudget");
  });

  it("adding a fragment adds its app (component, manifests) and changes no other resource", async () => {
    const spec: LandingZoneInput = { ...base, bffs: ["web"], frontends: { shell: "web", fragments: ["catalog"] }, auth: { sessions: "none" }, logging: { stack: "none", buffer: "none" } };
    const zone = async (frontends: LandingZoneInput["frontends"]) =>
      (await runProgram(() => void new LandingZone("shop", { spec: { ...spec, frontends }, ingress: { host: "shop.example.com", tlsSecretName: "shop-tls" } }))).resources;
    const signature = (resources: readonly RegisteredResource[]) => new Map(resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
    const beforeResources = await zone({ shell: "web", fragments: ["catalog"] });
    const afterResources = await zone({ shell: "web", fragments: ["catalog", "checkout"] });
    const [before, after] = [signature(beforeResources), signature(afterResources)];
    expect([...before.keys()].filter((k) => !after.has(k))).toEqual([]);
    expect([...before.keys()].filter((k) => before.get(k) !== after.get(k))).toEqual([]);
    const added = afterResources.filter((r) => !before.has(`${r.type}::${r.name}`));
    expect(added.map((r) => `${r.type}::${r.name}`).sort()).toEqual(["kubernetes:yaml/v2:ConfigGroup::shop-ui-checkout-manifests", "msa:kubernetes:FrontendApp::shop-ui-checkout"]);
    expect(objs(single(afterResources, GROUP, "shop-ui-checkout-manifests")).find((o) => o.kind === "Ingress")!.spec).toMatchObject({ rules: [{ host: "shop.example.com", http: { paths: [{ path: "/checkout/" }] } }] });
  });

  it("rejects frontends that collide with a service's path, a domain the ingress does not serve, and images of unknown apps", async () => {
    const spec: LandingZoneInput = { ...base, bffs: ["web"], frontends: { shell: "web", fragments: ["catalog"] }, auth: { sessions: "none" }, logging: { stack: "none", buffer: "none" } };
    await expect(run({ ...spec, services: [{ name: "orders", path: "/catalog" }] })).rejects.toThrow('LandingZone args.spec: frontends: fragment "catalog" is served at /catalog/, which the gateway routes to orders');
    await expect(run({ ...spec, frontends: { shell: "web", domainName: "shop.example.com" } })).rejects.toThrow(
      'LandingZone args.ingress.host: undefined, but frontends.domainName is "shop.example.com" and the pages share the gateway\'s host. Fix: pass ingress: { host: "shop.example.com"',
    );
    await expect(runProgram(() => void new LandingZone("shop", { spec, frontendImages: { cart: "x:1" } }))).rejects.toThrow('LandingZone args.frontendImages: "cart" is not a micro-frontend of the spec. Fix: use one of web, catalog');
    // Under GitOps an image given here would fight the digest Argo CD syncs.
    const { resources } = await runProgram(() =>
      expect(() => new LandingZone("shop", { spec: { ...spec, pipelines: { perService: true, repositoryOwner: "acme" } }, frontendImages: { catalog: "x:1" } })).toThrow(
        "LandingZone args.frontendImages: set for catalog, but with pipelines.perService Argo CD deploys each app's image from its repository's deploy/ folder. Fix: leave frontendImages out and release through the app's workflow",
      ),
    );
    expect(resources).toEqual([]);
  });

  it("uses the given provider instead of creating one", async () => {
    const { resources } = await runProgram(() => {
      const provider = new k8s.Provider("my-cluster", { context: "bare-metal" });
      new LandingZone("shop", { spec: { ...base, auth: { sessions: "none" }, logging: { stack: "none", buffer: "none" } }, provider });
    });
    expect(byType(resources, "pulumi:providers:kubernetes").map((r) => r.name)).toEqual(["my-cluster"]);
    expect(single(resources, "kubernetes:core/v1:Namespace", "shop-ingress-namespace").provider).toBe("my-cluster");
  });
});

describe("LandingZone with GitOps delivery (Argo CD)", () => {
  const base: LandingZoneInput = {
    name: "shop",
    cloud: "kubernetes",
    region: "local",
    gateway: { auth: "none" },
    auth: { sessions: "redis", tokens: "none" },
    logging: { stack: "none", buffer: "none" },
    mesh: { kind: "none" },
    tracing: { backend: "none" },
    monitoring: { dashboards: false, alarms: false },
    pipelines: { repositoryOwner: "acme" },
    services: [{ name: "orders", secrets: ["SIGNING_KEY"] }],
  };

  it("installs Argo CD with an Application per service and leaves the Deployment to it, keeping the rest", async () => {
    const { resources } = await run(base);
    expect(byType(resources, RELEASE).map((r) => r.inputs["chart"])).toContain("argo-cd");
    const gitOps = objs(single(resources, GROUP, "shop-gitops-manifests"));
    expect(gitOps.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["AppProject/shop-orders", "Application/shop-orders"]);
    const workload = objs(single(resources, GROUP, "shop-orders-workload"));
    expect(workload.map((o) => o.kind)).not.toContain("Deployment");
    expect(workload.map((o) => o.kind)).toEqual(expect.arrayContaining(["ServiceAccount", "ConfigMap", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]));
    expect(single(resources, SECRET, "shop-orders-secret").inputs["stringData"]).toHaveProperty("SIGNING_KEY");
  });

  it("puts in Git exactly the Deployment the landing zone would have applied itself", async () => {
    const { gitOpsDeployment } = await import("../../../lib/kubernetes/gitops.js");
    const { resources } = await run({ ...base, pipelines: { perService: false } });
    const own = objs(single(resources, GROUP, "shop-orders-workload")).find((o) => o.kind === "Deployment");
    const plan = planLandingZone(base, { engine: "pulumi" });
    expect(gitOpsDeployment(plan, plan.services[0]!)).toEqual(own);
  });

  it("puts in Git the Deployment of a service with its own database, reading the database password from its Secret", async () => {
    const { gitOpsDeployment } = await import("../../../lib/kubernetes/gitops.js");
    const withDatabase: LandingZoneInput = { ...base, services: [{ name: "orders", secrets: ["SIGNING_KEY"], database: { engine: "postgres" } }] };
    const { resources } = await run({ ...withDatabase, pipelines: { perService: false } });
    const own = objs(single(resources, GROUP, "shop-orders-workload")).find((o) => o.kind === "Deployment");
    const plan = planLandingZone(withDatabase, { engine: "pulumi" });
    const inGit = gitOpsDeployment(plan, plan.services[0]!) as Obj;
    expect(inGit).toEqual(own);
    const env = (inGit.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]!.env;
    expect(env).toContainEqual({ name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "DATABASE_PASSWORD" } } });
  });
});

describe("LandingZone with an orchestrated saga (Argo Workflows) and a read model without a declared database", async () => {
  const spec: LandingZoneInput = {
    name: "shop",
    cloud: "kubernetes",
    region: "local",
    environment: "prod",
    gateway: { auth: "none" },
    logging: { stack: "none", buffer: "none" },
    tracing: { backend: "none" },
    monitoring: { dashboards: false, alarms: false },
    pipelines: { perService: false },
    services: [
      { name: "orders", publishes: ["order-placed"] },
      { name: "inventory" },
      { name: "payments" },
      { name: "order-history", readModel: { from: ["orders"] } },
    ],
    sagas: [
      {
        name: "place-order",
        steps: [
          { service: "orders", action: "create", compensate: "cancel" },
          { service: "inventory", action: "reserve", compensate: "release" },
          { service: "payments", action: "charge" },
        ],
      },
    ],
  };
  const { resources } = await run(spec);
  const workload = (service: string) => objs(single(resources, GROUP, `shop-${service}-workload`));
  const config = (service: string) => workload(service).find((o) => o.kind === "ConfigMap")!["data"] as Record<string, string>;
  const podSpec = (service: string) => (workload(service).find((o) => o.kind === "Deployment")!.spec as { template: { spec: Record<string, unknown> } }).template.spec;

  it("installs the pinned Argo Workflows controller in the workloads namespace after the namespace and the mesh", () => {
    const release = single(resources, RELEASE, "shop-saga-workflows-argo-workflows");
    expect(release.inputs).toMatchObject({ chart: "argo-workflows", version: "0.45.27", namespace: "shop", createNamespace: false, repositoryOpts: { repo: "https://argoproj.github.io/argo-helm" } });
    expect(release.inputs["values"]).toMatchObject({ singleNamespace: true, server: { enabled: false }, controller: { workflowRestrictions: { templateReferencing: "Strict" } } });
    expect(release.dependsOn).toEqual(expect.arrayContaining(["shop-namespace", "shop-mesh-istiod"]));
  });

  it("applies the saga's WorkflowTemplate, the runner's RBAC and the initiator's RBAC and admission policy after the controller", () => {
    const group = single(resources, GROUP, "shop-saga-workflows-manifests");
    expect(group.dependsOn).toContain("shop-saga-workflows-argo-workflows");
    const objects = objs(group);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/saga-runner",
      "Secret/saga-runner.service-account-token",
      "Role/saga-runner",
      "RoleBinding/saga-runner",
      "WorkflowTemplate/saga-place-order",
      "Role/orders-saga-starter",
      "RoleBinding/orders-saga-starter",
      "ValidatingAdmissionPolicy/shop-orders-saga-starts",
      "ValidatingAdmissionPolicyBinding/shop-orders-saga-starts",
    ]);
    const template = objects.find((o) => o.kind === "WorkflowTemplate")!;
    const steps = ((template.spec as { templates: { name: string; steps?: { name: string }[][] }[] }).templates[0]!.steps ?? []).map((g) => g.map((s) => s.name));
    expect(steps).toEqual([["step-1"], ["step-2"], ["step-3"], ["rollback-after-2", "rollback-after-3"]]);
    expect(objects.find((o) => o.kind === "Role" && o.metadata.name === "orders-saga-starter")!["rules"]).toEqual([{ apiGroups: ["argoproj.io"], resources: ["workflows"], verbs: ["create", "get"] }]);
  });

  it("tells the initiator which template to start where, and mounts an API token in its pods only", () => {
    expect(config("orders")).toMatchObject({ SAGA_PLACE_ORDER_WORKFLOW_TEMPLATE: "saga-place-order", SAGA_PLACE_ORDER_NAMESPACE: "shop" });
    expect(Object.keys(config("inventory")).filter((k) => k.startsWith("SAGA_"))).toEqual([]);
    expect(podSpec("orders")["automountServiceAccountToken"]).toBe(true);
    for (const service of ["inventory", "payments", "order-history"]) expect(podSpec(service)["automountServiceAccountToken"], service).toBe(false);
  });

  it("gives the read model its own CloudNativePG database, its password only by Secret reference", () => {
    expect(objs(single(resources, GROUP, "shop-databases-manifests")).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Cluster/order-history-db", "NetworkPolicy/order-history-db-owner-only"]);
    expect(config("order-history")).toMatchObject({ DATABASE_ENGINE: "postgres", DATABASE_HOST: "order-history-db-rw.shop-data.svc.cluster.local", DATABASE_PORT: "5432", DATABASE_NAME: "order_history", DATABASE_USER: "order_history" });
    expect(single(resources, SECRET, "shop-order-history-secret").secretInputs).toContain("stringData");
  });

  it("puts in Git the initiator's Deployment exactly as applied, with its API token", () => {
    const plan = planLandingZone(spec, { engine: "pulumi" });
    expect(gitOpsDeployment(plan, plan.services[0]!)).toEqual(workload("orders").find((o) => o.kind === "Deployment"));
  });
});
