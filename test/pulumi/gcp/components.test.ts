import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { ApiGateway, RATE_LIMIT_WINDOW_SECONDS } from "../../../lib/pulumi/gcp/api-gateway.js";
import { MessageBroker, PUBSUB_RETRY_POLICY } from "../../../lib/pulumi/gcp/message-broker.js";
import { SagaOrchestrator } from "../../../lib/pulumi/gcp/saga-orchestrator.js";
import { ServiceDatabase } from "../../../lib/pulumi/gcp/service-database.js";
import { ServiceIdentity } from "../../../lib/pulumi/gcp/service-identity.js";
import { SessionStore } from "../../../lib/pulumi/gcp/session-store.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, MOCK_GCP_PROJECT_NUMBER, runProgram, single } from "../harness.js";

const spec: LandingZoneInput = {
  name: "shop",
  cloud: "gcp",
  region: "asia-northeast3",
  tier: "caas",
  logging: { stack: "none", buffer: "none" },
  services: [
    { name: "orders", publishes: ["order-placed"], secrets: ["SIGNING_KEY"] },
    { name: "payments", subscribes: ["order-placed"] },
  ],
};
const dev = planLandingZone(spec);
const prod = planLandingZone({ ...spec, environment: "prod" });
const run = (program: () => void) => runProgram(program, { config: GCP_CONFIG });

describe("SessionStore (Memorystore)", () => {
  const base = { region: "asia-northeast3", zones: ["asia-northeast3-a", "asia-northeast3-b"], networkId: "projects/p/global/networks/n", secretPrefix: "shop-dev" };

  it("is a BASIC, unprotected instance without snapshots in dev, still TLS and AUTH", async () => {
    const { resources } = await run(() => void new SessionStore("sessions", { ...base, sessions: dev.sessions! }));
    const redis = single(resources, "gcp:redis/instance:Instance");
    expect(redis.inputs).toMatchObject({ tier: "BASIC", memorySizeGb: 1, redisVersion: "REDIS_7_2", transitEncryptionMode: "SERVER_AUTHENTICATION", authEnabled: true, persistenceConfig: { persistenceMode: "DISABLED" }, deletionProtection: false });
    expect(redis.inputs["alternativeLocationId"]).toBeUndefined();
    expect(redis.protect).toBe(false);
    expect(single(resources, "gcp:secretmanager/secret:Secret").inputs).toMatchObject({ secretId: "shop-dev-sessions-auth", replication: { auto: {} } });
  });

  it("rejects Memcached, unknown tiers and HA with one zone", () => {
    expect(() => new SessionStore("x", { ...base, sessions: { ...dev.sessions!, engine: "memcached" } })).toThrow(/"memcached" is not built on GCP.*Fix: set auth.sessions: redis/);
    expect(() => new SessionStore("x", { ...base, sessions: { ...dev.sessions!, nodeType: "cache.t4g.micro" } })).toThrow(/"cache.t4g.micro" is not a Memorystore tier. Fix: use BASIC or STANDARD_HA/);
    expect(() => new SessionStore("x", { ...base, zones: ["asia-northeast3-a"], sessions: prod.sessions! })).toThrow(/STANDARD_HA needs two zones/);
  });
});

describe("MessageBroker (Pub/Sub)", () => {
  it("gives every subscription a retry policy and a dead-letter topic Pub/Sub's agent alone may publish to", async () => {
    const { resources } = await run(() => void new MessageBroker("events", { broker: prod.broker!, namePrefix: "shop-prod", retain: true }));
    expect(byType(resources, "gcp:pubsub/topic:Topic").map((t) => t.inputs["name"]).sort()).toEqual(["shop-prod-order-placed", "shop-prod-payments_order-placed-dead-letter"]);
    const subscription = single(resources, "gcp:pubsub/subscription:Subscription", "events-payments-order-placed");
    const deadLetterTopic = single(resources, "gcp:pubsub/topic:Topic", "events-payments-order-placed-dead-letter");
    expect(subscription.inputs).toMatchObject({
      name: "shop-prod-payments_order-placed",
      topic: single(resources, "gcp:pubsub/topic:Topic", "events-order-placed").outputs["id"],
      deadLetterPolicy: { deadLetterTopic: deadLetterTopic.outputs["id"], maxDeliveryAttempts: 5 },
      retryPolicy: PUBSUB_RETRY_POLICY,
      messageRetentionDuration: `${4 * 86400}s`,
      expirationPolicy: { ttl: "" },
    });
    expect(subscription.protect).toBe(true);
    const agent = `serviceAccount:service-${MOCK_GCP_PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;
    expect(single(resources, "gcp:pubsub/topicIAMMember:TopicIAMMember").inputs).toEqual({ topic: deadLetterTopic.outputs["id"], role: "roles/pubsub.publisher", member: agent });
    expect(single(resources, "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember").inputs).toEqual({ subscription: subscription.outputs["id"], role: "roles/pubsub.subscriber", member: agent });
    // Dead letters are kept for inspection rather than dropped.
    expect(single(resources, "gcp:pubsub/subscription:Subscription", "events-payments-order-placed-dead-letter").inputs).toMatchObject({ topic: deadLetterTopic.outputs["id"] });
  });

  it("tells each service exactly its topics and subscriptions", async () => {
    let broker!: MessageBroker;
    await run(() => void (broker = new MessageBroker("events", { broker: prod.broker!, namePrefix: "shop-prod" })));
    expect(broker.grantsFor("orders").publish.map((p) => p.event)).toEqual(["order-placed"]);
    expect(broker.grantsFor("orders").consume).toEqual([]);
    expect(broker.grantsFor("payments").consume.map((c) => c.subscription)).toEqual(["payments_order-placed"]);
    expect(broker.environmentFor("payments")).toEqual({ PUBSUB_SUBSCRIPTIONS: JSON.stringify({ "order-placed": "shop-prod-payments_order-placed" }) });
  });

  it("rejects other brokers and delivery attempts Pub/Sub does not allow", () => {
    expect(() => new MessageBroker("x", { broker: { ...prod.broker!, implementation: "strimzi-kafka" }, namePrefix: "s" })).toThrow(/is not Pub\/Sub/);
    expect(() => new MessageBroker("x", { broker: { ...prod.broker!, maxReceiveCount: 200 }, namePrefix: "s" })).toThrow(/maxReceiveCount 200 is outside Pub\/Sub's 5-100/);
  });
});

describe("ServiceIdentity", () => {
  it("stores each declared secret in its own Secret Manager secret, readable by the service's account only", async () => {
    const { resources } = await run(() => void new ServiceIdentity("orders", { plan: prod, service: "orders", secretValues: { SIGNING_KEY: "given-value" } }));
    const secret = single(resources, "gcp:secretmanager/secret:Secret");
    expect(secret.inputs).toMatchObject({ secretId: "shop-orders-SIGNING_KEY", deletionProtection: true });
    expect(secret.protect).toBe(true);
    const version = single(resources, "gcp:secretmanager/secretVersion:SecretVersion");
    expect(version.inputs).toEqual({ secret: secret.outputs["id"], secretData: "given-value" });
    expect(version.secretInputs).toEqual(["secretData"]);
    const account = single(resources, "gcp:serviceaccount/account:Account");
    expect(single(resources, "gcp:secretmanager/secretIamMember:SecretIamMember").inputs).toEqual({ secretId: secret.outputs["id"], role: "roles/secretmanager.secretAccessor", member: account.outputs["member"] });
    expect(byType(resources, "gcp:projects/iAMMember:IAMMember")).toHaveLength(0);
  });

  it("rejects unknown services, undeclared secret values and shared names that clash", () => {
    expect(() => new ServiceIdentity("x", { plan: prod, service: "ghost" })).toThrow(/service "ghost" is not in plan.services \(orders, payments\)/);
    expect(() => new ServiceIdentity("x", { plan: prod, service: "orders", secretValues: { OTHER: "v" } })).toThrow(/secretValues has OTHER/);
    expect(() => new ServiceIdentity("x", { plan: prod, service: "orders", sharedSecrets: { SIGNING_KEY: "id" } })).toThrow(/sharedSecrets.SIGNING_KEY is also a declared secret/);
  });
});

describe("ApiGateway", () => {
  const negBackend = { kind: "neg" as const, networkEndpointGroups: ["projects/p/zones/z/networkEndpointGroups/n"], healthCheckPath: "/health" };

  it("throttles per client without WAF rules in dev, and uses the given domains", async () => {
    const { resources } = await run(() => void new ApiGateway("gw", { gateway: dev.gateway, backends: { orders: negBackend, payments: negBackend }, domains: ["api.example.com"] }));
    const rules = single(resources, "gcp:compute/securityPolicy:SecurityPolicy").inputs["rules"] as { action: string; rateLimitOptions?: Record<string, unknown> }[];
    expect(rules.map((r) => r.action)).toEqual(["throttle", "allow"]);
    expect(rules[0]!.rateLimitOptions).toMatchObject({
      enforceOnKey: "IP",
      exceedAction: "deny(429)",
      rateLimitThreshold: { count: dev.gateway.rateLimit.requestsPerSecond * RATE_LIMIT_WINDOW_SECONDS, intervalSec: RATE_LIMIT_WINDOW_SECONDS },
    });
    expect(single(resources, "gcp:compute/managedSslCertificate:ManagedSslCertificate").inputs).toMatchObject({ managed: { domains: ["api.example.com"] } });
    const health = byType(resources, "gcp:compute/healthCheck:HealthCheck");
    expect(health.map((h) => h.inputs["httpHealthCheck"])).toEqual([
      { portSpecification: "USE_SERVING_PORT", requestPath: "/health" },
      { portSpecification: "USE_SERVING_PORT", requestPath: "/health" },
    ]);
    const redirect = single(resources, "gcp:compute/uRLMap:URLMap", "gw-https-redirect");
    expect(redirect.inputs["defaultUrlRedirect"]).toMatchObject({ httpsRedirect: true });
  });

  it("uses serverless NEGs without health checks and instance groups with their own", async () => {
    const { resources } = await run(
      () =>
        void new ApiGateway("gw", {
          gateway: dev.gateway,
          backends: { orders: { kind: "serverless", networkEndpointGroup: "neg-orders" }, payments: { kind: "instanceGroup", instanceGroup: "ig-payments", healthCheck: "hc-payments" } },
        }),
    );
    expect(byType(resources, "gcp:compute/healthCheck:HealthCheck")).toHaveLength(0);
    expect(single(resources, "gcp:compute/backendService:BackendService", "gw-orders").inputs).toMatchObject({ backends: [{ group: "neg-orders" }] });
    expect(single(resources, "gcp:compute/backendService:BackendService", "gw-orders").inputs["timeoutSec"]).toBeUndefined();
    expect(single(resources, "gcp:compute/backendService:BackendService", "gw-payments").inputs).toMatchObject({ healthChecks: "hc-payments", portName: "http", backends: [{ group: "ig-payments", balancingMode: "UTILIZATION" }] });
  });

  it("rejects missing backends, an unknown default target and an empty domain list", () => {
    expect(() => new ApiGateway("gw", { gateway: dev.gateway, backends: { orders: negBackend } })).toThrow(/backends has no entry for payments/);
    expect(() => new ApiGateway("gw", { gateway: dev.gateway, backends: { orders: negBackend, payments: negBackend }, defaultTarget: "web" })).toThrow(/defaultTarget "web" is not a route target/);
    expect(() => new ApiGateway("gw", { gateway: dev.gateway, backends: { orders: negBackend, payments: negBackend }, domains: [] })).toThrow(/domains is empty/);
  });
});

describe("ServiceDatabase", () => {
  const withDatabase = planLandingZone({ ...spec, services: [{ name: "orders", database: { engine: "postgres" } }, { name: "carts", database: { engine: "document" } }, { name: "payments", database: { engine: "mysql" } }] });
  const orders = withDatabase.services[0]!.database!;
  const carts = withDatabase.services[1]!.database!;
  const payments = withDatabase.services[2]!.database!;

  it("runs MySQL with binary logs, creates the IAM user with the account's email and logs in with its local part", async () => {
    let db!: ServiceDatabase;
    const { resources } = await run(
      () => void (db = new ServiceDatabase("db", { database: payments, service: "payments", serviceAccountId: "shop-payments", region: "asia-northeast3", namePrefix: "shop-dev", network: { id: "net" } })),
    );
    expect(single(resources, "gcp:sql/databaseInstance:DatabaseInstance").inputs).toMatchObject({
      databaseVersion: "MYSQL_8_0",
      settings: { backupConfiguration: { binaryLogEnabled: true }, databaseFlags: [{ name: "cloudsql_iam_authentication", value: "on" }] },
    });
    expect(db.attachment.sqlUsers).toHaveLength(1);
    // Cloud SQL wants a MySQL IAM service account by its whole email; MySQL truncates the login name at '@'.
    const [user, login] = await new Promise<[string, string]>((resolve) => pulumi.all([db.attachment.sqlUsers![0]!.name, db.attachment.env!["DATABASE_USER"]!]).apply(resolve));
    expect(user).toBe(`shop-payments@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`);
    expect(login).toBe("shop-payments");
    expect(db.attachment.env).toMatchObject({ DATABASE_PORT: "3306", DATABASE_ADMIN_USER: "root" });
  });

  it("is zonal and unprotected in dev, yet private, TLS-only and backed up", async () => {
    const { resources } = await run(
      () =>
        void new ServiceDatabase("db", { database: orders, service: "orders", serviceAccountId: "shop-orders", region: "asia-northeast3", namePrefix: "shop-dev", network: { id: "net" } }),
    );
    const instance = single(resources, "gcp:sql/databaseInstance:DatabaseInstance");
    expect(instance.inputs).toMatchObject({
      deletionProtection: false,
      settings: { tier: orders.instanceClass, availabilityType: "ZONAL", ipConfiguration: { ipv4Enabled: false, sslMode: "ENCRYPTED_ONLY" }, backupConfiguration: { enabled: true }, databaseFlags: [{ name: "cloudsql.iam_authentication", value: "on" }] },
    });
    expect(instance.protect).toBe(false);
    expect(single(resources, "gcp:sql/database:Database").inputs).toMatchObject({ name: "orders", instance: instance.outputs["name"] });
  });

  it("keeps a document store in Firestore without a network, and refuses a relational one without", async () => {
    const { resources } = await run(() => void new ServiceDatabase("db", { database: carts, service: "carts", serviceAccountId: "shop-carts", region: "asia-northeast3", namePrefix: "shop-dev" }));
    expect(byType(resources, "gcp:sql/databaseInstance:DatabaseInstance")).toHaveLength(0);
    expect(single(resources, "gcp:firestore/database:Database").inputs).toMatchObject({ name: "shop-dev-carts", pointInTimeRecoveryEnablement: "POINT_IN_TIME_RECOVERY_DISABLED", deletionPolicy: "DELETE" });
    expect(() => new ServiceDatabase("x", { database: orders, service: "orders", serviceAccountId: "shop-orders", region: "r", namePrefix: "p" })).toThrow(/needs network/);
  });
});

describe("SagaOrchestrator", () => {
  const saga = { name: "place-order", steps: [{ service: "orders", action: "create", compensate: "cancel" }, { service: "payments", action: "charge" }] };

  it("refuses a saga whose participants lack an account", () => {
    expect(() => new SagaOrchestrator("x", { saga, region: "r", namePrefix: "shop-dev", accountId: "shop-saga-x", participants: { orders: "serviceAccount:o" } })).toThrow(/participants has no account for payments/);
  });

  it("deploys the generated definition with the command topics' ids", async () => {
    const { resources } = await run(
      () => void new SagaOrchestrator("saga", { saga, region: "asia-northeast3", namePrefix: "shop-dev", accountId: "shop-saga-x", participants: { orders: "serviceAccount:o", payments: "serviceAccount:p" } }),
    );
    const source = String(single(resources, "gcp:workflows/workflow:Workflow").inputs["sourceContents"]);
    expect(source).toContain("topic: projects/mock-project/topics/shop-dev-orders_saga_place-order");
    expect(source).toContain("call: events.await_callback");
    expect(byType(resources, "gcp:pubsub/subscription:Subscription").every((s) => !s.protect)).toBe(true);
  });
});

describe("escape hatches", () => {
  it("patch the children they name before they are created", async () => {
    const saga = { name: "place-order", steps: [{ service: "orders", action: "create", compensate: "cancel" }, { service: "payments", action: "charge" }] };
    const { resources } = await run(
      () =>
        void new SagaOrchestrator("saga", {
          saga,
          region: "asia-northeast3",
          namePrefix: "shop-dev",
          accountId: "shop-saga-x",
          participants: { orders: "serviceAccount:o", payments: "serviceAccount:p" },
          transform: { workflow: (args) => void (args.callLogLevel = "LOG_ALL_CALLS"), commandSubscription: (args, service) => void (args.ackDeadlineSeconds = service === "orders" ? 120 : 30) },
        }),
    );
    expect(single(resources, "gcp:workflows/workflow:Workflow").inputs["callLogLevel"]).toBe("LOG_ALL_CALLS");
    expect(byType(resources, "gcp:pubsub/subscription:Subscription").map((s) => s.inputs["ackDeadlineSeconds"])).toEqual([120, 30]);
  });
});
