import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AWS_DATABASE_ENV, awsDatabaseEnvironment, awsDatabaseSettings, directPublishes, serviceDataEnvNames, EVENT_STORE_ACTIONS, PlanError, planLandingZone, TABLE_DATA_ACTIONS } from "../../lib/plan/index.js";
import { VERSIONS } from "../../lib/plan/sizing.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const base = {
  name: "shop",
  environment: "prod",
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  pipelines: { perService: false },
} satisfies LandingZoneInput;

const shop: LandingZoneInput = {
  ...base,
  services: [
    { name: "orders", database: { engine: "postgres" }, publishes: ["order-placed"] },
    { name: "payments", database: { engine: "mysql", size: "large" }, eventSourced: true, publishes: ["payment-completed", "payment-failed"] },
    { name: "inventory", database: { engine: "key-value" }, publishes: ["stock-reserved"] },
    { name: "catalog", database: { engine: "document" } },
    { name: "order-history", readModel: { from: ["orders", "payments"] }, subscribes: ["order-placed"] },
  ],
};

describe("database per service", () => {
  const plan = planLandingZone(shop);
  const db = (name: string) => plan.services.find((s) => s.name === name)!.database!;

  it("plans RDS for relational engines with its port, users and prod durability", () => {
    expect(db("orders")).toEqual({
      engine: "postgres",
      implementation: "rds-postgres",
      engineVersion: "16.10",
      instanceClass: "r7g.large",
      storageGiB: 20,
      multiAz: true,
      backupRetentionDays: 14,
      databaseName: "orders",
      identifier: "shop-prod-orders",
      port: 5432,
      adminUser: "postgres",
      serviceUser: "orders",
    });
    expect(db("payments")).toMatchObject({ implementation: "rds-mysql", port: 3306, adminUser: "admin", instanceClass: "r7g.2xlarge" });
  });

  it("plans DynamoDB for key-value (partition key) and document (partition and sort key) stores", () => {
    expect(db("inventory")).toMatchObject({ implementation: "dynamodb", identifier: "shop-prod-inventory", partitionKey: "pk", port: 0 });
    expect(db("inventory").sortKey).toBeUndefined();
    expect(db("catalog")).toMatchObject({ implementation: "dynamodb", partitionKey: "pk", sortKey: "sk" });
  });

  it("decides the database capability once, naming each service's store", () => {
    const decision = plan.decisions.find((d) => d.capability === "database")!;
    expect(decision.settings["databases"]).toBe("orders:rds-postgres, payments:rds-mysql, inventory:dynamodb, catalog:dynamodb");
  });

  it("names every store uniquely whatever the service names", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/), { minLength: 1, maxLength: 12 }), (names) => {
        const services = names.map((name) => ({ name, path: `/p-${name}`, database: { engine: "postgres" as const }, eventSourced: true }));
        const p = planLandingZone({ ...base, gateway: { auth: "none" }, services });
        const stores = p.services.flatMap((s) => [s.database!.identifier, s.eventStore!.name]);
        expect(new Set(stores).size).toBe(stores.length);
        for (const s of p.services) expect(s.database!.identifier.length).toBeLessThanOrEqual(63);
      }),
      { numRuns: 50 },
    );
  });
});

describe("event store", () => {
  const plan = planLandingZone(shop);
  const payments = plan.services.find((s) => s.name === "payments")!;

  it("keys events by aggregate and sequence and forwards the service's events through its stream", () => {
    expect(payments.eventStore).toEqual({
      implementation: "dynamodb+streams",
      aggregateKey: "aggregateId",
      sequenceKey: "sequence",
      eventTypeAttribute: "eventType",
      payloadAttribute: "payload",
      name: "shop-prod-payments-events",
      forwards: ["payment-completed", "payment-failed"],
    });
    // The stream publishes what it forwards; the service publishes only the rest itself.
    expect(directPublishes(payments)).toEqual([]);
    expect(directPublishes(plan.services.find((s) => s.name === "orders")!)).toEqual(["order-placed"]);
  });

  it("is a Kafka topic on an existing cluster", () => {
    const k8s = planLandingZone({ ...shop, cloud: "kubernetes", region: "local", gateway: { auth: "none" }, services: [{ name: "payments", eventSourced: true, publishes: ["paid"] }] });
    expect(k8s.services[0]!.eventStore).toMatchObject({ implementation: "kafka-infinite-retention", name: "payments.event-store" });
  });

  it("grants an append-only action list: no update, delete or unconditional batch write", () => {
    expect(EVENT_STORE_ACTIONS).toContain("dynamodb:PutItem");
    for (const action of ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]) expect(EVENT_STORE_ACTIONS).not.toContain(action);
    expect(TABLE_DATA_ACTIONS).toContain("dynamodb:UpdateItem");
  });
});

describe("CQRS read model", () => {
  it("gets a read table and a subscription per event of its sources", () => {
    const plan = planLandingZone(shop);
    const history = plan.services.find((s) => s.name === "order-history")!;
    expect(history.readModel).toEqual({
      implementation: "sqs-projector+dynamodb",
      sources: ["orders", "payments"],
      events: ["order-placed", "payment-completed", "payment-failed"],
      table: "shop-prod-order-history-read",
      subscriptions: ["order-history_order-placed", "order-history_payment-completed", "order-history_payment-failed"],
    });
    // The broker plans exactly those subscriptions, once even where the service also subscribes itself.
    const brokerSubscriptions = plan.broker!.topics.flatMap((t) => t.subscriptions.filter((s) => s.subscriber === "order-history").map((s) => s.name));
    expect(brokerSubscriptions.sort()).toEqual([...history.readModel!.subscriptions].sort());
  });
});

describe("what a target cannot build is refused before planning", () => {
  const cluster = { ...base, cloud: "kubernetes", region: "local", gateway: { auth: "none" } } satisfies LandingZoneInput;

  const problems = (input: LandingZoneInput, engine?: "pulumi" | "cdk") => {
    try {
      planLandingZone(input, engine ? { engine } : {});
    } catch (error) {
      if (error instanceof PlanError) return error.problems;
      throw error;
    }
    return [];
  };

  it("plans every database engine on an existing cluster, a document store as FerretDB on CloudNativePG", () => {
    expect(problems({ ...cluster, services: ["postgres", "mysql", "key-value", "document"].map((engine, i) => ({ name: `s${i}`, database: { engine } })) } as LandingZoneInput, "pulumi")).toEqual([]);
    const plan = planLandingZone({ ...cluster, services: [{ name: "order-notes", database: { engine: "document" } }] }, { engine: "pulumi" });
    expect(plan.services[0]!.database).toMatchObject({ engine: "document", implementation: "ferretdb-cloudnative-pg", databaseName: "order_notes", serviceUser: "order_notes" });
  });

  it("gives a read model on an existing cluster its own PostgreSQL database when it declares none", () => {
    const services = [{ name: "a", publishes: ["x"] }, { name: "order-history", readModel: { from: ["a"] } }];
    const plan = planLandingZone({ ...cluster, services }, { engine: "pulumi" });
    const history = plan.services.find((s) => s.name === "order-history")!;
    expect(history.database).toEqual({
      engine: "postgres",
      implementation: "cloudnative-pg",
      engineVersion: planLandingZone({ ...cluster, services: [{ name: "p", database: { engine: "postgres" } }] }).services[0]!.database!.engineVersion,
      instanceClass: expect.any(String),
      storageGiB: 20,
      multiAz: true,
      backupRetentionDays: 14,
      databaseName: "order_history",
      identifier: "shop-prod-order-history",
      port: 5432,
      adminUser: "postgres",
      serviceUser: "order_history",
    });
    // Exactly what declaring database: { engine: postgres } plans, so both paths build the same database.
    const declared = planLandingZone({ ...cluster, services: [services[0]!, { ...services[1]!, database: { engine: "postgres" } }] });
    expect(declared.services.find((s) => s.name === "order-history")!.database).toEqual(history.database);
    expect(history.readModel).toMatchObject({ implementation: "kafka-projector", database: "order_history", events: ["x"] });
    expect(plan.decisions.find((d) => d.capability === "database")!.settings).toEqual({ databases: "order-history:cloudnative-pg" });
    // A dev zone sizes it like any dev database.
    const dev = planLandingZone({ ...cluster, environment: "dev", services });
    expect(dev.services[1]!.database).toMatchObject({ multiAz: false, backupRetentionDays: 1 });
  });

  it("gives no database to a read model on a cloud, whose read table holds the projection", () => {
    const plan = planLandingZone({ ...base, services: [{ name: "a", publishes: ["x"] }, { name: "h", readModel: { from: ["a"] } }] });
    expect(plan.services[1]!.database).toBeUndefined();
    expect(plan.services[1]!.readModel!.database).toBeUndefined();
  });

  it("refuses a read model on an existing cluster whose declared database is not postgres", () => {
    const input = { ...cluster, services: [{ name: "a", publishes: ["x"] }, { name: "h", readModel: { from: ["a"] }, database: { engine: "key-value" } }] } satisfies LandingZoneInput;
    expect(problems(input)).toEqual([
      'services[1].readModel on an existing cluster keeps its projection in the service\'s own PostgreSQL database, but "h" declares database.engine "key-value". Fix: set services[1].database.engine: postgres, or remove services[1].database to get one',
    ]);
  });

  it("sends an event store with more events than its stream feeds SNS topics to EventBridge", () => {
    const input = { ...base, services: [{ name: "payments", eventSourced: true, publishes: ["a", "b", "c"] }] };
    expect(problems(input)).toEqual([
      "services[0] is event-sourced and publishes 3 events, but its stream can feed at most 2 SNS topics (one stream reader each). Fix: set messaging.broker: eventbridge, whose single reader forwards any number of events",
    ]);
    expect(problems({ ...input, messaging: { broker: "eventbridge" } })).toEqual([]);
  });

  it("keeps EventBridge to Kubernetes workloads on AWS", () => {
    const input = { ...base, tier: "iaas", mesh: { kind: "none" }, messaging: { broker: "eventbridge" }, services: [{ name: "orders", publishes: ["order-placed"] }] } satisfies LandingZoneInput;
    expect(problems(input)).toEqual(['messaging.broker "eventbridge" is wired into Kubernetes workloads only, not the iaas services. Fix: set messaging.broker: sns-sqs, or tier: caas']);
  });

  it("orchestrates sagas on an existing cluster with Argo Workflows, and still choreographs them on request", () => {
    const input = { ...cluster, services: [{ name: "a" }, { name: "b" }], sagas: [{ name: "s", steps: [{ service: "a", action: "x", compensate: "y" }, { service: "b", action: "z" }] }] };
    expect(problems(input, "pulumi")).toEqual([]);
    const plan = planLandingZone(input, { engine: "pulumi" });
    expect(plan.decisions.find((d) => d.capability === "saga")).toMatchObject({ implementation: "argo-workflows", settings: { sagas: "s(orchestration)" } });
    expect(plan.sagas[0]).toMatchObject({ mode: "orchestration", initiator: "a", stepTimeoutSeconds: 300, compensationAttempts: 5 });
    expect(problems({ ...input, sagas: [{ ...input.sagas[0]!, mode: "choreography" }] }, "pulumi")).toEqual([]);
  });
});

describe("awsDatabaseEnvironment", () => {
  it("gives a relational database's address, user and secret, and a table's name, under the names VMs and Beanstalk forward", () => {
    const relational = awsDatabaseEnvironment({ engine: "postgres", host: "db.internal", port: 5432, databaseName: "orders", user: "orders_app", secretArn: "arn:secret" });
    expect(relational).toEqual({ DATABASE_ENGINE: "postgres", DATABASE_HOST: "db.internal", DATABASE_PORT: "5432", DATABASE_NAME: "orders", DATABASE_USER: "orders_app", DATABASE_SECRET_ARN: "arn:secret" });
    expect(awsDatabaseEnvironment({ engine: "key-value", table: "shop-orders" })).toEqual({ DATABASE_ENGINE: "key-value", TABLE_NAME: "shop-orders" });
    const plan = planLandingZone({ name: "shop", region: "ap-northeast-2", tier: "iaas", services: [{ name: "orders", database: { engine: "postgres" } }, { name: "carts", database: { engine: "key-value" } }] });
    const names = (service: string) => serviceDataEnvNames(plan, plan.services.find((s) => s.name === service)!);
    expect(names("orders")).toEqual(Object.keys(relational));
    expect(names("carts")).toEqual(Object.values(AWS_DATABASE_ENV.table));
  });
});

describe("awsDatabaseSettings (both engines' ServiceDatabase)", () => {
  it("applies the defaults of an RDS instance, its engine's version included", () => {
    expect(awsDatabaseSettings("ServiceDatabase Db", "postgres", {})).toEqual({
      kind: "rds",
      engine: "postgres",
      databaseName: "app",
      serviceUser: "app",
      instanceClass: "t4g.micro",
      engineVersion: VERSIONS.postgres,
      storageGiB: 20,
      multiAz: false,
      backupRetentionDays: 7,
    });
    expect(awsDatabaseSettings("ServiceDatabase Db", "mysql", { databaseName: "orders", identifier: "shop-prod-orders", engineVersion: "8.0.40" })).toMatchObject({
      engineVersion: "8.0.40",
      serviceUser: "orders",
      identifier: "shop-prod-orders",
    });
  });

  it("keys a document table by pk and sk, a key-value table by pk alone, unless told otherwise", () => {
    expect(awsDatabaseSettings("ServiceDatabase Db", "document", {})).toEqual({ kind: "table", databaseName: "app", serviceUser: "app", partitionKey: "pk", sortKey: "sk" });
    expect(awsDatabaseSettings("ServiceDatabase Db", "key-value", {})).toEqual({ kind: "table", databaseName: "app", serviceUser: "app", partitionKey: "pk" });
    expect(awsDatabaseSettings("ServiceDatabase Db", "key-value", { partitionKey: "id", sortKey: "at" })).toMatchObject({ partitionKey: "id", sortKey: "at" });
    expect(awsDatabaseSettings("ServiceDatabase Db", "document", { partitionKey: "", sortKey: "" })).toMatchObject({ partitionKey: "pk", sortKey: "sk" });
  });

  it("refuses RDS backups outside 1 to 35 days, naming the construct; a table's backups are DynamoDB's 35 days", () => {
    for (const days of [0, 36, 1.5]) {
      expect(() => awsDatabaseSettings("ServiceDatabase Orders", "postgres", { backupRetentionDays: days })).toThrow(
        `ServiceDatabase Orders: backupRetentionDays is ${days}; RDS keeps 1 to 35 days of backups. Fix: use a value in that range`,
      );
    }
    expect(awsDatabaseSettings("ServiceDatabase Orders", "postgres", { backupRetentionDays: 35 })).toMatchObject({ backupRetentionDays: 35 });
    expect(() => awsDatabaseSettings("ServiceDatabase Stock", "key-value", { backupRetentionDays: 40 })).not.toThrow();
  });
});
