import { beforeAll, describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { CLOUD_ARMOR_WAF_RULES } from "../../../lib/pulumi/gcp/api-gateway.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { createLandingZone, type CloudLandingZone } from "../../../lib/pulumi/index.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import { byType, childrenOf, GCP_CONFIG, MOCK_GCP_PROJECT, runProgram, single, type RegisteredResource } from "../harness.js";

const EXAMPLE = "examples/gcp/landing-zone.yaml";
const GROUP = "kubernetes:yaml/v2:ConfigGroup";
type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string> };
const objs = (group: RegisteredResource): Obj[] => group.inputs["objs"] as Obj[];

describe("LandingZone on GCP, CaaS (examples/gcp through createLandingZone)", () => {
  const spec = loadSpecFile(EXAMPLE);
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  let zone: CloudLandingZone;
  const outputs: Record<string, unknown> = {};

  beforeAll(async () => {
    ({ resources } = await runProgram(
      async () => {
        zone = await createLandingZone("shop", { spec });
        for (const [key, output] of Object.entries(zone.outputs)) output.apply((v) => (outputs[key] = v));
      },
      { config: GCP_CONFIG },
    ));
  });

  it("composes every part under msa:gcp:LandingZone, and loads no other cloud", () => {
    expect(single(resources, "msa:gcp:LandingZone").parent).toBeUndefined();
    expect(childrenOf(resources, "shop").map((r) => r.type)).toEqual(
      expect.arrayContaining(["msa:gcp:Network", "msa:gcp:KubernetesPlatform", "msa:gcp:ContainerRegistry", "msa:gcp:SessionStore", "msa:gcp:MessageBroker", "msa:kubernetes:LogPipeline", "msa:gcp:ApiGateway"]),
    );
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:gcp:ServiceWorkload").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}`));
    expect(resources.every((r) => r.path === "shop" || r.path.startsWith("shop/"))).toBe(true);
    expect(resources.some((r) => r.type.startsWith("aws:") || r.type.startsWith("azure-native:"))).toBe(false);
    expect(zone.plan.cloud).toBe("gcp");
    expect(Object.keys(outputs).sort()).toEqual(["alertTopic", "clusterName", "frontendBuckets", "frontendDeployAccounts", "frontendsUrl", "gatewayAddress", "gatewayUrl", "kibanaService", "sessionEndpoint", "topicNames"]);
    expect(outputs["gatewayUrl"]).toBe("https://34.120.10.20.nip.io");
    expect(outputs["frontendsUrl"]).toBe("https://34.120.10.20.nip.io");
    expect(outputs["sessionEndpoint"]).toBe("10.0.192.4:6378");
  });

  it("keeps GKE private in prod and every Kubernetes object on the cluster's provider", () => {
    const cluster = single(resources, "gcp:container/cluster:Cluster");
    expect(cluster.inputs).toMatchObject({ privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true }, masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "10.0.0.0/17" }] } });
    expect(cluster.inputs["subnetwork"]).toBe(single(resources, "gcp:compute/subnetwork:Subnetwork").outputs["id"]);
    for (const r of resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"))) expect(r.provider, r.name).toBe("shop-platform-k8s");
    // The log pipeline is the existing-cluster add-on with its in-cluster Redis buffer, after the node pool.
    const logging = single(resources, "msa:kubernetes:LogPipeline");
    expect(logging.dependsOn).toEqual(expect.arrayContaining(["shop-platform-nodes"]));
    expect(byType(resources, "msa:kubernetes:InClusterRedis").map((r) => r.parent)).toEqual(["shop-logging"]);
    expect(byType(resources, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["chart"])).toEqual(expect.arrayContaining(["base", "istiod", "eck-operator"]));
  });

  it("runs Memorystore with TLS, AUTH and HA on the private service access range, its AUTH string only in Secret Manager", () => {
    const redis = single(resources, "gcp:redis/instance:Instance");
    const range = single(resources, "gcp:compute/globalAddress:GlobalAddress", "shop-network-private-services");
    expect(redis.inputs).toMatchObject({
      tier: "STANDARD_HA",
      connectMode: "PRIVATE_SERVICE_ACCESS",
      reservedIpRange: range.outputs["name"],
      authorizedNetwork: single(resources, "gcp:compute/network:Network").outputs["id"],
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      authEnabled: true,
      locationId: "asia-northeast3-a",
      alternativeLocationId: "asia-northeast3-b",
      persistenceConfig: { persistenceMode: "RDB" },
      deletionProtection: true,
    });
    expect(redis.protect).toBe(true);
    expect(redis.dependsOn).toContain("shop-network-private-services");
    const version = single(resources, "gcp:secretmanager/secretVersion:SecretVersion", "shop-sessions-auth");
    expect(version.secretInputs).toContain("secretData");
    // The AUTH string reaches pods only inside their Secret, never in a ConfigMap.
    const auth = String(redis.outputs["authString"]);
    for (const group of byType(resources, GROUP)) expect(JSON.stringify(group.inputs).includes(auth), group.name).toBe(false);
    const ordersSecret = single(resources, "kubernetes:core/v1:Secret", "shop-orders-secret");
    expect(ordersSecret.secretInputs).toContain("stringData");
    expect(ordersSecret.inputs["stringData"]).toMatchObject({ SESSION_STORE_PASSWORD: auth });
  });

  it("gives each service its own account, bound to its Kubernetes ServiceAccount through Workload Identity", () => {
    const account = single(resources, "gcp:serviceaccount/account:Account", "shop-orders-identity-account");
    const binding = single(resources, "gcp:serviceaccount/iAMMember:IAMMember", "shop-orders-identity-workload-identity");
    expect(binding.inputs).toEqual({ serviceAccountId: account.outputs["name"], role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${MOCK_GCP_PROJECT}.svc.id.goog[shop/orders]` });
    const workload = objs(single(resources, GROUP, "shop-orders-workload"));
    const serviceAccount = workload.find((o) => o.kind === "ServiceAccount")!;
    expect(serviceAccount.metadata.annotations).toEqual({ "iam.gke.io/gcp-service-account": account.outputs["email"] });
    const deployment = workload.find((o) => o.kind === "Deployment")!;
    const image = (deployment.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
    expect(image).toBe(`asia-northeast3-docker.pkg.dev/${MOCK_GCP_PROJECT}/shop-orders/shop-orders:latest`);
  });

  it("grants Pub/Sub per service identity only: publishers on their topics, subscribers on their own subscriptions", () => {
    const members = (type: string) =>
      byType(resources, type)
        .filter((m) => String(m.inputs["member"]).startsWith("serviceAccount:shop-") && !String(m.inputs["topic"] ?? m.inputs["subscription"]).includes("_saga_"))
        .map((m) => `${String(m.inputs["member"]).replace(/^serviceAccount:(.*)@.*$/, "$1")} ${m.inputs["role"]} ${String(m.inputs["topic"] ?? m.inputs["subscription"]).split("/").pop()}`);
    expect(members("gcp:pubsub/topicIAMMember:TopicIAMMember").sort()).toEqual(
      [
        "shop-orders roles/pubsub.publisher shop-prod-order-placed",
        // payments is event-sourced: its store's forwarder publishes, the service itself does not.
        "shop-payments-fwd roles/pubsub.publisher shop-prod-payment-completed",
        "shop-inventory roles/pubsub.publisher shop-prod-stock-reserved",
      ].sort(),
    );
    const subscribers = members("gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember");
    expect(subscribers).toHaveLength(plan.broker!.topics.reduce((n, t) => n + t.subscriptions.length, 0));
    for (const line of subscribers) {
      const [account, role, subscription] = line.split(" ");
      expect(role).toBe("roles/pubsub.subscriber");
      // The subscription is `<zone>-<env>-<subscriber>_<event>`: each account consumes only its own.
      expect(subscription!.startsWith(`shop-prod-${account!.replace(/^shop-/, "")}_`), line).toBe(true);
    }
    const config = objs(single(resources, GROUP, "shop-orders-workload")).find((o) => o.kind === "ConfigMap")!;
    expect(JSON.parse(config.data!["PUBSUB_TOPICS"]!)).toEqual({ "order-placed": "shop-prod-order-placed" });
    expect(JSON.parse(config.data!["PUBSUB_SUBSCRIPTIONS"]!)).toEqual({ "payment-completed": "shop-prod-orders_payment-completed", "stock-reserved": "shop-prod-orders_stock-reserved" });
    expect(config.data).toMatchObject({ GOOGLE_CLOUD_PROJECT: MOCK_GCP_PROJECT, SESSION_STORE_ENDPOINT: "10.0.192.4:6378", LOG_LEVEL: "info" });
  });

  it("routes every planned path through Cloud Armor to the services' NEGs", () => {
    const urlMap = single(resources, "gcp:compute/uRLMap:URLMap", "shop-gateway-routes");
    const backendIds = Object.fromEntries(byType(resources, "gcp:compute/backendService:BackendService").map((b) => [b.outputs["id"], b.name.replace(/^shop-gateway-/, "")]));
    const rules = (urlMap.inputs["pathMatchers"] as { pathRules: { paths: string[]; service: string }[] }[])[0]!.pathRules;
    const routed = rules.flatMap((rule) => rule.paths.filter((p) => !p.endsWith("/*")).map((p) => `${p}->${backendIds[rule.service]}`));
    expect(routed.sort()).toEqual(plan.gateway.routes.map((r) => `${r.path}->${r.target}`).sort());
    expect(backendIds[urlMap.inputs["defaultService"] as string]).toBe("web");

    const policy = single(resources, "gcp:compute/securityPolicy:SecurityPolicy", "shop-gateway-armor");
    const actions = (policy.inputs["rules"] as { action: string; match: { expr?: { expression: string } } }[]).map((r) => r.action);
    expect(actions.filter((a) => a === "deny(403)")).toHaveLength(CLOUD_ARMOR_WAF_RULES.length);
    expect(actions).toContain("throttle");
    for (const backend of byType(resources, "gcp:compute/backendService:BackendService")) {
      expect(backend.inputs).toMatchObject({ loadBalancingScheme: "EXTERNAL_MANAGED", securityPolicy: policy.outputs["selfLink"], logConfig: { enable: true, sampleRate: 1 } });
      const target = backend.name.replace(/^shop-gateway-/, "");
      const negs = (backend.inputs["backends"] as { group: string; balancingMode: string }[]).map((b) => b.group);
      expect(negs).toEqual(plan.network.availabilityZones.map((z) => `projects/${MOCK_GCP_PROJECT}/zones/${z}/networkEndpointGroups/shop-prod-${target}`));
      // The backend waits for the workload whose Service the NEG controller turns into those NEGs.
      expect(backend.dependsOn).toContain(`shop-${target}-workload`);
    }
    const service = objs(single(resources, GROUP, "shop-orders-workload")).find((o) => o.kind === "Service")!;
    expect(JSON.parse(service.metadata.annotations!["cloud.google.com/neg"]!)).toEqual({ exposed_ports: { "80": { name: "shop-prod-orders" } } });
    expect(single(resources, "gcp:compute/globalForwardingRule:GlobalForwardingRule", "shop-gateway-https").inputs).toMatchObject({ portRange: "443", loadBalancingScheme: "EXTERNAL_MANAGED" });
    expect(single(resources, "gcp:compute/sSLPolicy:SSLPolicy", "shop-gateway-tls").inputs).toMatchObject({ minTlsVersion: "TLS_1_2" });
  });

  it("lets only Google's load balancer ranges past the pods' default-deny and STRICT mTLS, on the container port", () => {
    const orders = objs(single(resources, GROUP, "shop-orders-workload"));
    const policy = orders.find((o) => o.kind === "NetworkPolicy")!;
    expect(JSON.stringify(policy.spec)).toContain("35.191.0.0/16");
    const peer = orders.find((o) => o.kind === "PeerAuthentication")!;
    expect(peer.spec).toMatchObject({ mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "PERMISSIVE" } } });
    expect(single(resources, "gcp:compute/firewall:Firewall", "shop-network-allow-load-balancer").inputs).toMatchObject({ allows: [{ protocol: "tcp", ports: ["8080"] }] });
  });

  it("checks Identity Platform JWTs with Istio for calls from the load balancer, letting mesh peers and health checks through", () => {
    const users = single(resources, "gcp:identityplatform/config:Config");
    expect(users.parent).toBe("shop-users");
    expect(users.inputs).toMatchObject({ signIn: { email: { enabled: true, passwordRequired: true }, allowDuplicateEmails: false }, authorizedDomains: ["34.120.10.20.nip.io"] });
    expect(users.protect).toBe(true);
    const policies = objs(single(resources, GROUP, "shop-gateway-auth"));
    const request = policies.find((o) => o.kind === "RequestAuthentication")!;
    expect(request.spec).toMatchObject({
      jwtRules: [{ issuer: `https://securetoken.google.com/${MOCK_GCP_PROJECT}`, jwksUri: "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com", audiences: [MOCK_GCP_PROJECT] }],
    });
    const deny = policies.find((o) => o.kind === "AuthorizationPolicy")!;
    expect(deny.spec).toEqual({
      action: "DENY",
      rules: [{ from: [{ source: { notNamespaces: ["shop"], notRequestPrincipals: ["*"] } }], to: [{ operation: { notPaths: [...new Set(plan.services.filter((s) => s.expose).map((s) => s.healthPath))] } }] }],
    });
  });

  it("runs the OpenTelemetry collector with its own Cloud Trace account through Workload Identity, and points the services at it", () => {
    const collector = single(resources, "kubernetes:helm.sh/v3:Release", "shop-platform-tracing-otel-collector");
    const account = single(resources, "gcp:serviceaccount/account:Account", "shop-trace-collector-account");
    const values = collector.inputs["values"] as { serviceAccount: { annotations: Record<string, string> }; config: { exporters: Record<string, unknown> } };
    expect(values.serviceAccount.annotations).toEqual({ "iam.gke.io/gcp-service-account": account.outputs["email"] });
    expect(Object.keys(values.config.exporters)).toEqual(["googlecloud"]);
    const roles = byType(resources, "gcp:projects/iAMMember:IAMMember").filter((m) => m.inputs["member"] === account.outputs["member"]).map((m) => m.inputs["role"]);
    expect(roles).toEqual(["roles/cloudtrace.agent"]);
    expect(single(resources, "gcp:serviceaccount/iAMMember:IAMMember", "shop-trace-collector-workload-identity").inputs["member"]).toBe(`serviceAccount:${MOCK_GCP_PROJECT}.svc.id.goog[observability/otel-collector]`);
    const config = objs(single(resources, GROUP, "shop-orders-workload")).find((o) => o.kind === "ConfigMap")!;
    expect(config.data).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: plan.tracing!.collectorEndpoint, OTEL_TRACES_SAMPLER_ARG: "0.1" });
  });

  it("gives every service a golden-signals dashboard and alert policies that notify the alert topic and the on-call address", () => {
    const dashboards = byType(resources, "gcp:monitoring/dashboard:Dashboard");
    expect(dashboards.map((d) => d.name)).toEqual(plan.services.map((s) => `shop-monitoring-${s.name}`));
    const orders = JSON.parse(single(resources, "gcp:monitoring/dashboard:Dashboard", "shop-monitoring-orders").inputs["dashboardJson"] as string) as {
      mosaicLayout: { tiles: { widget: { title: string; xyChart: { dataSets: { timeSeriesQuery: { prometheusQuery: string } }[] } } }[] };
    };
    const backend = single(resources, "gcp:compute/backendService:BackendService", "shop-gateway-orders").outputs["name"];
    const tiles = orders.mosaicLayout.tiles.map((t) => [t.widget.title, t.widget.xyChart.dataSets[0]!.timeSeriesQuery.prometheusQuery]);
    expect(tiles.map(([title]) => title)).toEqual(["Requests per second", "5xx errors per second", "p95 latency (ms)", "CPU utilization"]);
    expect(tiles[0]![1]).toContain(`backend_target_name="${backend}"`);
    expect(tiles[3]![1]).toContain('namespace_name="shop",container_name="orders"');

    const channels = byType(resources, "gcp:monitoring/notificationChannel:NotificationChannel");
    expect(channels.map((c) => c.inputs["type"]).sort()).toEqual(["email", "pubsub"]);
    expect(single(resources, "gcp:monitoring/notificationChannel:NotificationChannel", "shop-monitoring-email").inputs["labels"]).toEqual({ email_address: "oncall@example.com" });
    const policies = byType(resources, "gcp:monitoring/alertPolicy:AlertPolicy");
    expect(policies).toHaveLength(plan.services.filter((s) => s.expose).length * 2 + plan.services.length);
    for (const policy of policies) expect(policy.inputs["notificationChannels"]).toEqual(channels.map((c) => c.outputs["id"]));
    const errors = single(resources, "gcp:monitoring/alertPolicy:AlertPolicy", "shop-monitoring-orders-errors");
    const query = (errors.inputs["conditions"] as { conditionPrometheusQueryLanguage: { query: string; duration: string } }[])[0]!.conditionPrometheusQueryLanguage;
    expect(query.query).toMatch(/response_code_class="500".*\/.*> 0.05$/);
    expect(query.duration).toBe("300s");
    const topic = single(resources, "gcp:pubsub/topic:Topic", "shop-monitoring-alerts");
    expect(single(resources, "gcp:pubsub/topicIAMMember:TopicIAMMember", "shop-monitoring-alerts-publisher").inputs).toMatchObject({ topic: topic.outputs["id"], role: "roles/pubsub.publisher" });
  });

  it("gives each service its own database, on a private address only, with TLS, backups and deletion protection", () => {
    const instances = byType(resources, "gcp:sql/databaseInstance:DatabaseInstance");
    expect(instances.map((i) => [i.parent, i.inputs["databaseVersion"]])).toEqual([["shop-orders-database", "POSTGRES_16"]]);
    const range = single(resources, "gcp:compute/globalAddress:GlobalAddress", "shop-network-private-services");
    for (const instance of instances) {
      expect(instance.inputs).toMatchObject({
        region: "asia-northeast3",
        deletionProtection: true,
        settings: {
          availabilityType: "REGIONAL",
          deletionProtectionEnabled: true,
          ipConfiguration: { ipv4Enabled: false, privateNetwork: single(resources, "gcp:compute/network:Network").outputs["id"], allocatedIpRange: range.outputs["name"], sslMode: "ENCRYPTED_ONLY" },
          backupConfiguration: { enabled: true, backupRetentionSettings: { retainedBackups: 14 } },
        },
      });
      expect((instance.inputs["settings"] as { ipConfiguration: Record<string, unknown> }).ipConfiguration["authorizedNetworks"]).toBeUndefined();
      expect(instance.protect && instance.retainOnDelete).toBe(true);
      expect(instance.secretInputs).toContain("rootPassword");
      expect(instance.dependsOn).toContain("shop-network-private-services");
    }
    expect((instances[0]!.inputs["settings"] as { backupConfiguration: Record<string, unknown> }).backupConfiguration["pointInTimeRecoveryEnabled"]).toBe(true);
    const firestore = single(resources, "gcp:firestore/database:Database", "shop-inventory-database-store-database");
    expect(firestore.inputs).toMatchObject({ name: "shop-prod-inventory", type: "FIRESTORE_NATIVE", pointInTimeRecoveryEnablement: "POINT_IN_TIME_RECOVERY_ENABLED", deleteProtectionState: "DELETE_PROTECTION_ENABLED" });
    expect(single(resources, "gcp:firestore/backupSchedule:BackupSchedule", "shop-inventory-database-store-backups").inputs).toMatchObject({ database: firestore.outputs["name"], retention: `${14 * 86400}s` });
  });

  it("lets only the owning service reach its database: roles conditioned on its instance, its IAM user, its admin secret", () => {
    const orders = single(resources, "gcp:serviceaccount/account:Account", "shop-orders-identity-account");
    const instance = single(resources, "gcp:sql/databaseInstance:DatabaseInstance", "shop-orders-database-instance");
    const sqlRoles = byType(resources, "gcp:projects/iAMMember:IAMMember").filter((m) => String(m.inputs["role"]).startsWith("roles/cloudsql."));
    const ordersRoles = sqlRoles.filter((m) => m.inputs["member"] === orders.outputs["member"]);
    expect(ordersRoles.map((m) => m.inputs["role"]).sort()).toEqual(["roles/cloudsql.client", "roles/cloudsql.instanceUser"]);
    for (const role of ordersRoles) expect((role.inputs["condition"] as { expression: string }).expression).toBe(`resource.name == "projects/${MOCK_GCP_PROJECT}/instances/${instance.outputs["name"]}"`);
    // No unconditioned Cloud SQL or Datastore grant exists for anybody.
    for (const role of byType(resources, "gcp:projects/iAMMember:IAMMember").filter((m) => /cloudsql|datastore/.test(String(m.inputs["role"])))) expect(role.inputs["condition"], role.name).toBeDefined();
    expect(single(resources, "gcp:sql/user:User", "shop-orders-identity-database-user-0").inputs).toEqual({ instance: instance.outputs["name"], name: `shop-orders@${MOCK_GCP_PROJECT}.iam`, type: "CLOUD_IAM_SERVICE_ACCOUNT" });
    const admin = single(resources, "gcp:secretmanager/secret:Secret", "shop-orders-database-admin");
    const readers = byType(resources, "gcp:secretmanager/secretIamMember:SecretIamMember").filter((m) => m.inputs["secretId"] === admin.outputs["id"]);
    expect(readers.map((m) => m.inputs["member"])).toEqual([orders.outputs["member"]]);
    // Every Firestore database (data, read model, event store) is readable by its owner alone.
    const member = (service: string) => single(resources, "gcp:serviceaccount/account:Account", `shop-${service}-identity-account`).outputs["member"];
    const datastore = byType(resources, "gcp:projects/iAMMember:IAMMember").filter((m) => m.inputs["role"] === "roles/datastore.user");
    expect(datastore.map((m) => [m.inputs["member"], (m.inputs["condition"] as { expression: string }).expression])).toEqual([
      [member("payments"), `resource.name == "projects/${MOCK_GCP_PROJECT}/databases/shop-prod-payments-events"`],
      [member("inventory"), `resource.name == "projects/${MOCK_GCP_PROJECT}/databases/shop-prod-inventory"`],
      [member("order-history"), `resource.name == "projects/${MOCK_GCP_PROJECT}/databases/shop-prod-order-history-read"`],
    ]);
  });

  it("hands the service its database's address in the ConfigMap and the admin password only in its Secret", () => {
    const objects = objs(single(resources, GROUP, "shop-orders-workload"));
    const config = objects.find((o) => o.kind === "ConfigMap")!;
    expect(config.data).toMatchObject({ DATABASE_ENGINE: "postgres", DATABASE_HOST: "10.0.192.10", DATABASE_PORT: "5432", DATABASE_NAME: "orders", DATABASE_USER: `shop-orders@${MOCK_GCP_PROJECT}.iam` });
    expect(config.data!["DATABASE_ADMIN_PASSWORD"]).toBeUndefined();
    const password = String(single(resources, "random:index/randomPassword:RandomPassword", "shop-orders-database-admin-password").outputs["result"]);
    expect(single(resources, "kubernetes:core/v1:Secret", "shop-orders-secret").inputs["stringData"]).toMatchObject({ DATABASE_ADMIN_PASSWORD: password });
    for (const group of byType(resources, GROUP)) expect(JSON.stringify(group.inputs).includes(password), group.name).toBe(false);
    expect(objs(single(resources, GROUP, "shop-inventory-workload")).find((o) => o.kind === "ConfigMap")!.data).toMatchObject({ FIRESTORE_DATABASE: "shop-prod-inventory" });
  });

  it("orchestrates the saga with a workflow whose account may only publish its commands, each service answering only its own", async () => {
    const workflow = single(resources, "gcp:workflows/workflow:Workflow", "shop-saga-place-order-workflow");
    const account = single(resources, "gcp:serviceaccount/account:Account", "shop-saga-place-order-account");
    expect(workflow.inputs).toMatchObject({ name: "shop-prod-place-order", region: "asia-northeast3", serviceAccount: account.outputs["id"], callLogLevel: "LOG_ERRORS_ONLY" });
    const { parse } = await import("yaml");
    const definition = parse(workflow.inputs["sourceContents"] as string) as { main: { steps: Record<string, unknown>[] } };
    expect(definition.main.steps.map((s) => Object.keys(s)[0]).filter((n) => /^(step|undo)_\d$/.test(n))).toEqual(["step_1", "step_2", "step_3", "undo_2", "undo_1"]);
    // The last step is never compensated: no step after it can fail.
    const topics = byType(resources, "gcp:pubsub/topic:Topic").filter((t) => t.parent === "shop-saga-place-order");
    expect(topics.map((t) => t.inputs["name"])).toEqual(["shop-prod-orders_saga_place-order", "shop-prod-inventory_saga_place-order", "shop-prod-payments_saga_place-order"]);
    expect(workflow.inputs["sourceContents"]).toContain(`topic: projects/${MOCK_GCP_PROJECT}/topics/shop-prod-payments_saga_place-order`);
    const published = byType(resources, "gcp:pubsub/topicIAMMember:TopicIAMMember").filter((m) => m.inputs["member"] === account.outputs["member"]);
    expect(published.map((m) => m.inputs["topic"])).toEqual(topics.map((t) => t.outputs["id"]));
    const ordersMember = single(resources, "gcp:serviceaccount/account:Account", "shop-orders-identity-account").outputs["member"];
    const consumed = byType(resources, "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember").filter((m) => m.inputs["member"] === ordersMember && String(m.inputs["subscription"]).includes("_saga_"));
    expect(consumed.map((m) => String(m.inputs["subscription"]).split("/").pop())).toEqual(["shop-prod-orders_saga_place-order"]);
    const invoker = single(resources, "gcp:projects/iAMMember:IAMMember", "shop-saga-place-order-orders-invoker");
    expect(invoker.inputs).toMatchObject({ role: "roles/workflows.invoker", member: ordersMember, condition: { expression: `resource.name == "projects/${MOCK_GCP_PROJECT}/locations/asia-northeast3/workflows/shop-prod-place-order"` } });
    const config = objs(single(resources, GROUP, "shop-payments-workload")).find((o) => o.kind === "ConfigMap")!;
    expect(config.data).toMatchObject({
      SAGA_PLACE_ORDER_WORKFLOW: `projects/${MOCK_GCP_PROJECT}/locations/asia-northeast3/workflows/shop-prod-place-order`,
      SAGA_PLACE_ORDER_COMMANDS: "shop-prod-payments_saga_place-order",
    });
    expect(objs(single(resources, GROUP, "shop-order-history-workload")).find((o) => o.kind === "ConfigMap")!.data!["SAGA_PLACE_ORDER_COMMANDS"]).toBeUndefined();
  });

  it("keeps payments' events in its own store, forwarded to the broker by an Eventarc-triggered workflow", async () => {
    const store = single(resources, "gcp:firestore/database:Database", "shop-payments-event-store-store-database");
    expect(store.inputs).toMatchObject({ name: "shop-prod-payments-events", pointInTimeRecoveryEnablement: "POINT_IN_TIME_RECOVERY_ENABLED", deleteProtectionState: "DELETE_PROTECTION_ENABLED" });
    const forwarder = single(resources, "gcp:workflows/workflow:Workflow", "shop-payments-event-store-forwarder");
    const { parse } = await import("yaml");
    const definition = parse(forwarder.inputs["sourceContents"] as string) as { main: { steps: Record<string, { assign?: Record<string, unknown>[] }>[] } };
    expect(definition.main.steps[0]!["read"]!.assign![2]).toEqual({ topics: { "payment-completed": `projects/${MOCK_GCP_PROJECT}/topics/shop-prod-payment-completed` } });
    // The forwarder reads the fields the plan names (the layout every engine shares), not names of its own.
    const layout = plan.services.find((s) => s.name === "payments")!.eventStore!;
    expect(definition.main.steps[0]!["read"]!.assign![1]).toEqual({ type: `\${fields.${layout.eventTypeAttribute}.stringValue}` });
    for (const field of [layout.aggregateKey, layout.sequenceKey, layout.payloadAttribute]) expect(forwarder.inputs["sourceContents"]).toContain(`fields.${field}.`);
    const trigger = single(resources, "gcp:eventarc/trigger:Trigger");
    expect(trigger.inputs).toMatchObject({
      location: "asia-northeast3",
      matchingCriterias: [
        { attribute: "type", value: "google.cloud.firestore.document.v1.created" },
        { attribute: "database", value: "shop-prod-payments-events" },
        { attribute: "document", value: "events/{event}", operator: "match-path-pattern" },
      ],
      destination: { workflow: forwarder.outputs["id"] },
      serviceAccount: single(resources, "gcp:serviceaccount/account:Account", "shop-payments-event-store-trigger").outputs["email"],
      eventDataContentType: "application/json",
    });
    expect(single(resources, "gcp:projects/iAMMember:IAMMember", "shop-payments-event-store-trigger-invoker").inputs["condition"]).toMatchObject({
      expression: `resource.name == "projects/${MOCK_GCP_PROJECT}/locations/asia-northeast3/workflows/shop-prod-payments-events"`,
    });
    const config = objs(single(resources, GROUP, "shop-payments-workload")).find((o) => o.kind === "ConfigMap")!;
    expect(config.data).toMatchObject({ EVENT_STORE_DATABASE: "shop-prod-payments-events", EVENT_STORE_COLLECTION: "events" });
    expect(config.data!["PUBSUB_TOPICS"]).toBeUndefined();
  });

  it("projects orders' and payments' events into order-history's own read store", () => {
    const read = single(resources, "gcp:firestore/database:Database", "shop-order-history-read-model-database");
    expect(read.inputs["name"]).toBe("shop-prod-order-history-read");
    const history = single(resources, "gcp:serviceaccount/account:Account", "shop-order-history-identity-account").outputs["member"];
    const consumed = byType(resources, "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember").filter((m) => m.inputs["member"] === history);
    expect(consumed.map((m) => String(m.inputs["subscription"]).split("/").pop()).sort()).toEqual(["shop-prod-order-history_order-placed", "shop-prod-order-history_payment-completed"]);
    const config = objs(single(resources, GROUP, "shop-order-history-workload")).find((o) => o.kind === "ConfigMap")!;
    expect(config.data).toMatchObject({ READ_MODEL_DATABASE: "shop-prod-order-history-read" });
  });

  it("refuses services whose accounts would collide with the platform's, before registering anything", () => {
    expect(() => new LandingZone("x", { spec: { ...spec, services: [...spec.services, { ...spec.services[2]!, name: "otel", path: "/otel", database: undefined }] } })).toThrow(
      /services\[otel\] and the trace collector would share the service account "shop-otel"/,
    );
  });

  it("builds a choreographed saga from its events alone: a Pub/Sub topic per event, its subscriber's subscription, no workflow", async () => {
    const choreographed = { ...spec, sagas: spec.sagas.map((s) => ({ ...s, mode: "choreography" as const })) };
    const plan = planLandingZone(choreographed, { engine: "pulumi" });
    const events = plan.sagas.flatMap((s) => s.events);
    expect(events.length).toBeGreaterThan(0);
    const { resources } = await runProgram(() => createLandingZone("x", { spec: choreographed }).then(() => undefined), { config: GCP_CONFIG });
    expect(byType(resources, "msa:gcp:SagaOrchestrator")).toEqual([]);
    expect(byType(resources, "gcp:workflows/workflow:Workflow").filter((w) => String(w.inputs["name"]).includes("place-order"))).toEqual([]);
    const topics = byType(resources, "gcp:pubsub/topic:Topic").map((t) => String(t.inputs["name"]));
    const subscriptions = byType(resources, "gcp:pubsub/subscription:Subscription").map((s) => String(s.inputs["name"]));
    for (const event of events) {
      const topic = plan.broker!.topics.find((t) => t.event === event.event)!;
      expect(topics, event.event).toContain(`shop-prod-${event.event}`);
      expect(topic.publishers, event.event).toEqual([event.publisher]);
      for (const subscriber of event.subscribers) {
        const subscription = topic.subscriptions.find((q) => q.subscriber === subscriber)!.name;
        expect(subscriptions.some((name) => name.endsWith(subscription)), `${event.event} → ${subscriber}`).toBe(true);
      }
    }
  });

  it("is rejected before anything is registered when the spec asks for what GCP does not build", async () => {
    const onVms = { ...spec, tier: "paas" as const, mesh: { ...spec.mesh, kind: "none" as const }, logging: { ...spec.logging, stack: "none" as const, buffer: "none" as const }, gateway: { ...spec.gateway, auth: "none" as const } };
    await expect(runProgram(() => createLandingZone("x", { spec: onVms }).then(() => undefined), { config: GCP_CONFIG })).rejects.toThrow(/tracing.backend: "cloud" on gcp\/paas exports through a collector on the logging cluster, but logging.stack is "none", so there is none. Fix: set logging.stack: elk, or tracing.backend: none/);
  });
});

describe("data protection of the GCP example (prod)", () => {
  it("protects and retains on delete every resource holding data", async () => {
    const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec: loadSpecFile(EXAMPLE) })), { config: GCP_CONFIG });
    const { isStatefulPulumiType } = await import("../../../lib/plan/stateful.js");
    const stateful = resources.filter((r) => isStatefulPulumiType(r.type));
    expect(new Set(stateful.map((r) => r.type))).toEqual(
      new Set([
        "gcp:artifactregistry/repository:Repository",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:redis/instance:Instance",
        "gcp:secretmanager/secret:Secret",
        "gcp:pubsub/subscription:Subscription",
        "gcp:identityplatform/config:Config",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:sql/database:Database",
        "gcp:firestore/database:Database",
        "gcp:storage/bucket:Bucket",
      ]),
    );
    expect(stateful.filter((r) => !r.protect || !r.retainOnDelete).map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });
});

describe("LandingZone on GCP trusting an external issuer (auth.issuer)", () => {
  it("checks that issuer's tokens with Istio and creates no Identity Platform directory", async () => {
    const base = loadSpecFile(EXAMPLE);
    const spec = { ...base, auth: { ...base.auth, issuer: "https://login.example.com/realms/shop", jwksUri: "https://login.example.com/realms/shop/certs", audiences: ["shop-web"] } };
    const { resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG });
    expect(byType(resources, "gcp:identityplatform/config:Config")).toHaveLength(0);
    const request = objs(single(resources, GROUP, "shop-gateway-auth")).find((o) => o.kind === "RequestAuthentication")!;
    expect(request.spec).toMatchObject({
      jwtRules: [{ issuer: "https://login.example.com/realms/shop", jwksUri: "https://login.example.com/realms/shop/certs", audiences: ["shop-web"], forwardOriginalToken: true }],
    });
  });
});

describe("LandingZone on GCP with a dedicated auth service (gateway.auth: authorizer)", () => {
  const base = loadSpecFile(EXAMPLE);
  const spec = { ...base, gateway: { ...base.gateway, auth: "authorizer" as const }, auth: { ...base.auth, tokens: "none" as const, service: "auth" }, services: [...base.services, { ...base.services[2]!, name: "auth", path: "/auth", database: undefined, publishes: [], subscribes: [] }] };

  it("registers the auth service with istiod and has the mesh ask it about calls from the load balancer, except its own routes", async () => {
    const { resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG });
    const istiod = single(resources, "kubernetes:helm.sh/v3:Release", "shop-platform-istio-istiod");
    expect((istiod.inputs["values"] as { meshConfig: Record<string, unknown> }).meshConfig).toMatchObject({
      accessLogFile: "/dev/stdout",
      extensionProviders: [{ name: "shop-auth-service", envoyExtAuthzHttp: { service: "auth.shop.svc.cluster.local", port: 80, pathPrefix: "/auth/authorize" } }],
    });
    const [custom] = objs(single(resources, GROUP, "shop-gateway-auth"));
    expect(custom!.spec).toMatchObject({ action: "CUSTOM", provider: { name: "shop-auth-service" }, rules: [{ from: [{ source: { notNamespaces: ["shop"] } }] }] });
    expect(JSON.stringify(custom!.spec)).toContain('"notPaths":["/auth","/auth/*"');
    expect(byType(resources, "gcp:identityplatform/config:Config")).toHaveLength(0);
  });

  it("refuses mesh-enforced checks without a mesh", () => {
    expect(() => new LandingZone("x", { spec: { ...spec, mesh: { ...spec.mesh, kind: "none" } } })).toThrow(/auth service checks run in the Istio mesh, but mesh.kind is none/);
  });
});
