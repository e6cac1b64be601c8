import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { FrontendApp, Ingress, LogPipeline, MessageBroker, ServiceWorkload, SessionStore } from "../../../lib/pulumi/kubernetes/index.js";
import { byType, runProgram, single, type RegisteredResource } from "../harness.js";

const GROUP = "kubernetes:yaml/v2:ConfigGroup";
const SECRET = "kubernetes:core/v1:Secret";
const RELEASE = "kubernetes:helm.sh/v3:Release";

type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown> } & Record<string, unknown>;
const objs = (group: RegisteredResource): Obj[] => group.inputs["objs"] as Obj[];

const input: LandingZoneInput = {
  name: "shop",
  cloud: "kubernetes",
  region: "local",
  gateway: { auth: "none", rateLimit: { requestsPerSecond: 50, burst: 120 } },
  pipelines: { perService: false },
  mesh: { kind: "none" },
  messaging: { broker: "kafka" },
  bffs: ["web"],
  services: [
    { name: "orders", publishes: ["order-placed"], secrets: ["SIGNING_KEY", "API_TOKEN"] },
    { name: "payments", subscribes: ["order-placed"] },
  ],
};
const plan = planLandingZone(input, { engine: "pulumi" });

/** Runs `build` with a provider named `cluster`, every component under test being standalone. */
const standalone = (build: (provider: k8s.Provider) => void) =>
  runProgram(() => {
    build(new k8s.Provider("cluster", {}));
  });

describe("SessionStore", () => {
  it("creates a password, a Secret holding it and the Redis manifests reading it by reference, all under the component", async () => {
    const { resources } = await standalone((provider) => new SessionStore("sessions", { plan, provider, namespace: "apps" }));
    expect(single(resources, "msa:kubernetes:SessionStore").name).toBe("sessions");
    const redis = single(resources, "msa:kubernetes:InClusterRedis");
    expect(redis.parent).toBe("sessions");
    for (const type of ["random:index/randomPassword:RandomPassword", SECRET]) expect(single(resources, type).parent).toBe(redis.name);
    expect(byType(resources, GROUP).map((g) => [g.name, g.parent])).toEqual([["sessions-redis-tls", redis.name], ["sessions-redis-manifests", redis.name]]);
    const password = single(resources, "random:index/randomPassword:RandomPassword");
    expect(password.inputs).toMatchObject({ length: 32, special: false });
    const secret = single(resources, SECRET);
    expect(secret.inputs["metadata"]).toMatchObject({ name: "sessions-password", namespace: "apps" });
    expect(secret.secretInputs).toEqual(["stringData"]);
    expect(secret.inputs["stringData"]).toEqual({ password: password.outputs["result"] });
    const group = single(resources, GROUP, "sessions-redis-manifests");
    // The Redis starts once its password and its certificate's objects exist.
    expect(group.dependsOn).toEqual([secret.name, "sessions-redis-tls"]);
    expect(objs(group).map((o) => o.kind)).toEqual(["Service", "Service", "StatefulSet"]);
    expect(JSON.stringify(group.inputs)).not.toContain(String(password.outputs["result"]));
    // Dev plans neither protect nor retain.
    expect(secret.protect).toBe(false);
    expect(single(resources, GROUP, "sessions-redis-tls").protect).toBe(false);
  });

  it("is TLS only by default: its own CA in its namespace signs a certificate for its names, which the Redis serves", async () => {
    let caSecret: string | undefined;
    const { resources } = await standalone((provider) => {
      const store = new SessionStore("sessions", { plan, provider, namespace: "apps" });
      expect(store.tls).toBe(true);
      store.caSecretName!.apply((name) => (caSecret = name));
    });
    expect(caSecret).toBe("sessions-tls");
    const redis = single(resources, "msa:kubernetes:InClusterRedis");
    const tls = single(resources, GROUP, "sessions-redis-tls");
    expect(tls.parent).toBe(redis.name);
    expect(objs(tls).map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "Issuer/apps/sessions-ca-root",
      "Certificate/apps/sessions-ca",
      "Issuer/apps/sessions-ca",
      "Certificate/apps/sessions-tls",
    ]);
    const certificate = objs(tls).find((o) => o.kind === "Certificate" && o.metadata.name === "sessions-tls")!;
    expect(certificate.spec).toMatchObject({
      secretName: "sessions-tls",
      isCA: false,
      issuerRef: { name: "sessions-ca", kind: "Issuer", group: "cert-manager.io" },
      dnsNames: ["sessions", "sessions.apps.svc", "sessions.apps.svc.cluster.local", "*.sessions-headless.apps.svc.cluster.local", "localhost"],
    });
    const statefulSet = objs(single(resources, GROUP, "sessions-redis-manifests")).find((o) => o.kind === "StatefulSet")!;
    const pod = (statefulSet.spec as { template: { spec: { volumes: unknown[]; containers: { command: string[] }[] } } }).template.spec;
    expect(pod.volumes).toEqual([{ name: "tls", secret: { secretName: "sessions-tls", defaultMode: 0o440 } }]);
    expect(pod.containers[0]!.command[2]).toContain("--port 0 --tls-port 6379");
  });

  it("stays plain Redis with tls: false, with no CA to hand out", async () => {
    let store: SessionStore | undefined;
    const { resources } = await standalone((provider) => void (store = new SessionStore("sessions", { plan, provider, tls: false })));
    expect(store!.tls).toBe(false);
    expect(store!.caSecretName).toBeUndefined();
    expect(byType(resources, GROUP).map((g) => g.name)).toEqual(["sessions-redis-manifests"]);
    const statefulSet = objs(single(resources, GROUP)).find((o) => o.kind === "StatefulSet")!;
    expect(JSON.stringify(statefulSet)).not.toContain("--tls-port");
  });

  it("applies the transform escape hatch", async () => {
    const { resources } = await standalone(
      (provider) => new SessionStore("sessions", { plan, provider, transform: { password: (args) => void (args.length = 48), secret: (args) => void (args.immutable = true) } }),
    );
    expect(single(resources, "random:index/randomPassword:RandomPassword").inputs["length"]).toBe(48);
    expect(single(resources, SECRET).inputs["immutable"]).toBe(true);
  });

  it("refuses a plan without sessions", async () => {
    const none = planLandingZone({ ...input, auth: { sessions: "none" } }, { engine: "pulumi" });
    await expect(standalone((provider) => new SessionStore("sessions", { plan: none, provider }))).rejects.toThrow("SessionStore args.plan.sessions: undefined. Fix: set auth.sessions: redis");
  });
});

describe("ServiceWorkload", () => {
  it("generates the declared secrets unless given, and the pods read them only by reference", async () => {
    const { resources } = await standalone((provider) => new ServiceWorkload("orders", { plan, provider, service: "orders", secretValues: { API_TOKEN: "given" } }));
    const generated = byType(resources, "random:index/randomPassword:RandomPassword");
    expect(generated.map((r) => r.name)).toEqual(["orders-signing-key"]);
    expect(generated[0]!.parent).toBe("orders");
    const secret = single(resources, SECRET);
    expect(secret.secretInputs).toEqual(["stringData"]);
    expect(secret.inputs["stringData"]).toEqual({ SIGNING_KEY: "mock-password-orders-signing-key", API_TOKEN: "given" });
    const group = single(resources, GROUP, "orders-workload");
    expect(group.dependsOn).toContain("orders-secret");
    const deployment = objs(group).find((o) => o.kind === "Deployment")!;
    const env = (deployment.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]!.env;
    expect(env).toEqual([
      { name: "SIGNING_KEY", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "SIGNING_KEY" } } },
      { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "API_TOKEN" } } },
    ]);
    expect(JSON.stringify(group.inputs)).not.toMatch(/mock-password|given/);
  });

  it("creates no Secret for a service without secrets and puts a pull secret on the ServiceAccount", async () => {
    const { resources } = await standalone((provider) => new ServiceWorkload("payments", { plan, provider, service: "payments", imagePullSecretName: "registry-credentials", image: "registry.local/payments:1.0" }));
    expect(byType(resources, SECRET)).toHaveLength(0);
    const group = single(resources, GROUP);
    expect(objs(group).find((o) => o.kind === "ServiceAccount")!["imagePullSecrets"]).toEqual([{ name: "registry-credentials" }]);
    expect(JSON.stringify(objs(group).find((o) => o.kind === "Deployment"))).toContain("registry.local/payments:1.0");
  });

  it("names the prop, the value and the fix on bad input", async () => {
    await expect(standalone((provider) => new ServiceWorkload("x", { plan, provider, service: "billing" }))).rejects.toThrow(
      'ServiceWorkload args.service: "billing" is not in plan.services. Fix: use one of orders, payments, web',
    );
    await expect(standalone((provider) => new ServiceWorkload("x", { plan, provider, service: "orders", secretValues: { OTHER: "v" } }))).rejects.toThrow(
      'ServiceWorkload args.secretValues: "OTHER" is not a declared secret of orders',
    );
  });
});

describe("Ingress", () => {
  it("installs the controller before the routes and routes plan.gateway.routes with the plan's rate limit", async () => {
    const { resources } = await standalone((provider) => new Ingress("gateway", { plan, provider, host: "shop.example.com", tlsSecretName: "shop-tls", serviceType: "NodePort" }));
    const release = single(resources, RELEASE);
    expect(release.inputs).toMatchObject({ chart: "ingress-nginx", namespace: "shop-ingress", createNamespace: false, repositoryOpts: { repo: "https://kubernetes.github.io/ingress-nginx" } });
    const controller = (release.inputs["values"] as { controller: Record<string, unknown> }).controller;
    expect(controller["service"]).toMatchObject({ type: "NodePort" });
    // Dev has no WAF and no mesh.
    expect(controller["config"]).not.toHaveProperty("enable-modsecurity");
    expect(controller).not.toHaveProperty("podLabels");
    const routes = single(resources, GROUP);
    expect(routes.dependsOn).toEqual([release.name]);
    const ingresses = objs(routes);
    expect(ingresses.map((o) => o.metadata.name)).toEqual(["orders", "payments", "web"]);
    for (const ingress of ingresses) {
      expect(ingress.metadata.annotations).toEqual({ "nginx.ingress.kubernetes.io/limit-rps": "50", "nginx.ingress.kubernetes.io/limit-burst-multiplier": "3" });
      expect(ingress.spec).toMatchObject({ tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }], rules: [{ host: "shop.example.com" }] });
    }
    const paths = ingresses.flatMap((o) => (o.spec as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!.http.paths.map((p) => p.path));
    expect(paths).toEqual(plan.gateway.routes.map((r) => r.path));
  });

  it("needs a host for a TLS certificate", async () => {
    await expect(standalone((provider) => new Ingress("gateway", { plan, provider, tlsSecretName: "shop-tls" }))).rejects.toThrow(
      'Ingress args.host: undefined, but args.tlsSecretName "shop-tls" needs the host its certificate is for. Fix: pass host',
    );
  });
});

describe("LogPipeline", () => {
  it("creates the logging namespace, then the buffer, then ECK, Logstash and the shippers", async () => {
    const { resources } = await standalone((provider) => new LogPipeline("logs", { plan, provider }));
    const namespace = single(resources, GROUP, "logs-namespace");
    expect(objs(namespace).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Namespace/logging"]);
    const buffer = single(resources, "msa:kubernetes:InClusterRedis");
    expect(buffer.dependsOn).toEqual(["logs-namespace"]);
    const bufferSecret = single(resources, SECRET, "logs-buffer-secret");
    expect(bufferSecret.inputs["metadata"]).toMatchObject({ name: "log-buffer-password", namespace: "logging" });
    expect(bufferSecret.protect).toBe(false);
    const release = single(resources, RELEASE);
    expect(release.inputs["chart"]).toBe("eck-operator");
    expect(release.dependsOn).toEqual(expect.arrayContaining(["logs-namespace", "logs-buffer", "logs-writer-user", "logs-retention-user"]));
    const manifests = objs(single(resources, GROUP, "logs-manifests"));
    const kinds = manifests.map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(["Elasticsearch", "Kibana", "Deployment", "DaemonSet", "NetworkPolicy"]));
    expect(kinds).not.toContain("Namespace");
    const access = manifests.find((o) => o.metadata.name === "allow-namespace-to-log-buffer")!;
    expect(access.spec).toMatchObject({ podSelector: { matchLabels: { "app.kubernetes.io/name": "log-buffer" } }, ingress: [{ ports: [{ port: 6379 }] }] });
    const pipeline = manifests.find((o) => o.kind === "ConfigMap" && o.metadata.name === "logstash-pipeline")!;
    expect(JSON.stringify(pipeline)).toContain('host => \\"log-buffer.logging.svc.cluster.local\\"');
  });

  it("gives Logstash and the retention Job their own Elasticsearch users, with generated passwords, before anything signs in", async () => {
    const { resources } = await standalone((provider) => new LogPipeline("logs", { plan, provider, transform: { userPassword: (user, args) => user === "retention" && Object.assign(args, { length: 40 }) } }));
    const elasticsearch = objs(single(resources, GROUP, "logs-manifests")).find((o) => o.kind === "Elasticsearch")!;
    const auth = (elasticsearch.spec as { auth: { fileRealm: { secretName: string }[] } }).auth;
    const referenced = auth.fileRealm.map((r) => r.secretName);
    for (const [user, username, role, length] of [["writer", "msa-log-writer", "msa_log_writer", 32], ["retention", "msa-log-retention", "msa_log_retention", 40]] as const) {
      const secret = single(resources, SECRET, `logs-${user}-user`);
      // ECK reads basic-auth Secrets as users, with `roles` naming their roles.
      expect(secret.inputs["type"]).toBe("kubernetes.io/basic-auth");
      expect(secret.inputs["metadata"]).toMatchObject({ namespace: "logging" });
      expect(referenced).toContain((secret.inputs["metadata"] as { name: string }).name);
      const password = single(resources, "random:index/randomPassword:RandomPassword", `logs-${user}-password`);
      expect(password.inputs).toMatchObject({ length, special: false });
      expect(secret.inputs["stringData"]).toEqual({ username, roles: role, password: password.outputs["result"] });
      expect(secret.dependsOn).toEqual(["logs-namespace"]);
    }
  });
});

describe("MessageBroker", () => {
  it("installs Strimzi, then the Kafka cluster and a topic per event", async () => {
    const { resources } = await standalone((provider) => new MessageBroker("broker", { plan, provider }));
    const release = single(resources, RELEASE);
    expect(release.parent).toBe("broker");
    expect(release.inputs).toMatchObject({ chart: "strimzi-kafka-operator", namespace: "kafka" });
    const group = single(resources, GROUP);
    expect(group.dependsOn).toEqual([release.name]);
    const topics = objs(group).filter((o) => o.kind === "KafkaTopic").map((o) => o.metadata.name);
    expect(topics).toEqual(plan.broker!.topics.map((t) => t.event));
  });
});

describe("FrontendApp", () => {
  const withFrontends = planLandingZone({ name: "shop", cloud: "kubernetes", region: "local", gateway: { auth: "none" }, bffs: ["web"], frontends: { shell: "web", fragments: ["catalog"] }, services: [{ name: "orders" }] }, { engine: "pulumi" });

  it("under GitOps keeps everything but the Deployment, which Argo CD owns, and refuses an image it would never apply", async () => {
    const { resources } = await standalone((provider) => {
      new FrontendApp("catalog-ui", { plan: withFrontends, app: "catalog", provider, className: "shop-nginx", gitOps: true });
      expect(() => new FrontendApp("pinned", { plan: withFrontends, app: "web", provider, className: "shop-nginx", gitOps: true, image: "x:1" })).toThrow(
        `FrontendApp args.image: "x:1" is set, but with gitOps Argo CD deploys the image committed to the app's deploy/ folder. Fix: leave image out`,
      );
    });
    expect(objs(single(resources, GROUP, "catalog-ui-manifests")).map((o) => o.kind)).toEqual(["ConfigMap", "Service", "PodDisruptionBudget", "Ingress"]);
    expect(resources.some((r) => r.name.startsWith("pinned"))).toBe(false);
  });
});
