import { describe, expect, it } from "vitest";
import { parseSpec, parseSpecText, SpecError, validateSpec, type LandingZoneInput } from "../../lib/spec/index.js";

const base: LandingZoneInput = {
  name: "shop",
  services: [
    { name: "orders", publishes: ["order-placed"], database: { engine: "postgres" } },
    { name: "payments", subscribes: ["order-placed"], publishes: ["payment-completed"] },
  ],
};

function issuesOf(input: unknown) {
  const result = validateSpec(input);
  if (result.ok) throw new Error("expected the spec to be rejected");
  return result.issues;
}

describe("defaults", () => {
  it("fills a minimal dev spec with small, disposable defaults", () => {
    const spec = parseSpec({ name: "shop" });
    expect(spec).toMatchObject({
      cloud: "aws",
      region: "us-east-1",
      tier: "caas",
      environment: "dev",
      retainData: false,
      network: { cidr: "10.0.0.0/16", zones: 2, natGateways: 1, availabilityZones: ["us-east-1a", "us-east-1b"] },
      gateway: { auth: "jwt", waf: false },
      mesh: { kind: "istio", mtls: "STRICT" },
      logging: { stack: "elk", buffer: "redis", shipper: "filebeat" },
    });
  });

  it("makes prod multi-zone, protected and firewalled", () => {
    const spec = parseSpec({ ...base, environment: "prod", region: "ap-northeast-2" });
    expect(spec.network.zones).toBe(3);
    expect(spec.network.natGateways).toBe(3);
    expect(spec.network.availabilityZones).toEqual(["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]);
    expect(spec.retainData).toBe(true);
    expect(spec.gateway.waf).toBe(true);
    expect(spec.services[0]!.replicas).toEqual({ min: 2, max: 6 });
    expect(spec.services[0]!.database?.size).toBe("medium");
  });

  it("derives zone names per cloud", () => {
    expect(parseSpec({ name: "a", cloud: "gcp", region: "asia-northeast3" }).network.availabilityZones).toEqual(["asia-northeast3-a", "asia-northeast3-b"]);
    expect(parseSpec({ name: "a", cloud: "azure", region: "koreacentral", tier: "paas" }).network.availabilityZones).toEqual(["1", "2"]);
  });

  it("checks tokens at the gateway by default only where the zone can issue or trust them", () => {
    expect(parseSpec({ name: "a" }).gateway.auth).toBe("jwt");
    expect(parseSpec({ name: "a", cloud: "kubernetes", region: "local" }).gateway.auth).toBe("none");
    expect(parseSpec({ name: "a", cloud: "kubernetes", region: "local", auth: { issuer: "https://login.example.com/realms/shop" } }).gateway.auth).toBe("jwt");
    // A Kubernetes value may be empty; a Parameter Store value may not.
    expect(parseSpec({ name: "a", cloud: "kubernetes", region: "local", services: [{ name: "x", config: { MODE: "" } }] }).services[0]!.config).toEqual({ MODE: "" });
  });

  it("installs cert-manager and trust-manager on a cluster unless the spec reuses the cluster's own", () => {
    expect(parseSpec({ name: "a", cloud: "kubernetes", region: "local" }).kubernetes).toBeUndefined();
    expect(parseSpec({ name: "a", cloud: "kubernetes", region: "local", kubernetes: { certManager: { install: false } } }).kubernetes).toEqual({
      certManager: { install: false },
      trustManager: { install: true },
    });
    expect(parseSpec({ name: "a", cloud: "kubernetes", region: "local", kubernetes: {} }).kubernetes).toEqual({ certManager: { install: true }, trustManager: { install: true } });
  });

  it("turns the mesh off by default outside Kubernetes", () => {
    expect(parseSpec({ name: "a", tier: "iaas" }).mesh.kind).toBe("none");
    expect(parseSpec({ name: "a", cloud: "kubernetes", region: "local" }).mesh.kind).toBe("istio");
  });

  it("normalizes BFF shorthands and service routes", () => {
    const spec = parseSpec({ name: "a", bffs: ["web", { name: "tv-bff", channel: "tv", routes: ["/tv"] }], services: [{ name: "orders" }] });
    expect(spec.bffs).toEqual([
      { name: "web", channel: "web", routes: ["/web"], port: 8080, repository: "web" },
      { name: "tv-bff", channel: "tv", routes: ["/tv"], port: 8080, repository: "tv-bff" },
    ]);
    expect(spec.services[0]!.path).toBe("/orders");
    expect(spec.services[0]!.repository).toBe("orders");
    expect(spec.pipelines).toEqual({ perService: false, provider: "native", branch: "main", testCommand: "docker build --target test ." });
  });

  it("builds pipelines by default only where there is a repository owner to build from", () => {
    expect(parseSpec({ name: "a" }).pipelines.perService).toBe(false);
    expect(parseSpec({ name: "a", pipelines: { repositoryOwner: "acme" } }).pipelines.perService).toBe(true);
    expect(parseSpec({ name: "a", pipelines: { repositoryOwner: "acme", perService: false } }).pipelines.perService).toBe(false);
    expect(parseSpec({ name: "a", pipelines: { perService: true } }).pipelines.perService).toBe(true);
  });

  it("lets services share a repository when no pipeline builds from it", () => {
    const spec = parseSpec({ name: "a", pipelines: { perService: false }, services: [{ name: "x", repository: "mono" }, { name: "y", repository: "mono" }] });
    expect(spec.services.map((s) => s.repository)).toEqual(["mono", "mono"]);
  });

  it("is idempotent: a normalized spec parses to itself", () => {
    const spec = parseSpec({ ...base, environment: "prod", bffs: ["web"] });
    expect(parseSpec(spec)).toEqual(spec);
  });
});

// Each row: a bad spec, the path that must be named, and a fragment of the message.
const invalid: Array<[string, unknown, string, RegExp]> = [
  ["missing name", { cloud: "aws" }, "name", /is required/],
  ["name with capitals", { name: "Shop" }, "name", /lowercase/],
  ["unknown cloud", { name: "a", cloud: "oracle" }, "cloud", /expected one of aws \| gcp \| azure \| kubernetes, got "oracle"/],
  ["unknown tier", { name: "a", tier: "faas" }, "tier", /expected one of iaas \| caas \| paas/],
  ["bad database engine", { ...base, services: [{ name: "a", database: { engine: "oracle" } }] }, "services[0].database.engine", /expected one of postgres \| mysql \| key-value \| document, got "oracle"/],
  ["misspelled key", { name: "a", netwrok: {} }, "netwrok", /unknown key "netwrok"/],
  ["port out of range", { name: "a", services: [{ name: "x", port: 70000 }] }, "services[0].port", /at most 65535/],
  ["port as text", { name: "a", services: [{ name: "x", port: "http" }] }, "services[0].port", /expected number, got "http"/],
  ["duplicate service", { name: "a", services: [{ name: "x" }, { name: "x" }] }, "services[1].name", /already the name of services\[0\]/],
  ["orphan subscription", { name: "a", services: [{ name: "x", subscribes: ["nobody-sends"] }] }, "services[0].subscribes[0]", /published by no service/],
  ["read model over unknown service", { name: "a", services: [{ name: "h", readModel: { from: ["ghost"] } }] }, "services[0].readModel.from[0]", /"ghost" is not a service/],
  ["saga step on unknown service", { ...base, sagas: [{ name: "s", steps: [{ service: "orders", action: "create", compensate: "cancel" }, { service: "ghost", action: "x" }] }] }, "sagas[0].steps[1].service", /"ghost" is not a service/],
  ["saga step without compensation", { ...base, sagas: [{ name: "s", steps: [{ service: "orders", action: "create" }, { service: "payments", action: "charge" }] }] }, "sagas[0].steps[0].compensate", /no compensating action/],
  ["read model over a silent service", { name: "a", services: [{ name: "x" }, { name: "h", readModel: { from: ["x"] } }] }, "services[1].readModel.from[0]", /"x" publishes no events, so there is nothing to project/],
  ["saga step repeated", { ...base, sagas: [{ name: "s", steps: [{ service: "orders", action: "create", compensate: "cancel" }, { service: "orders", action: "create" }] }] }, "sagas[0].steps[1]", /"orders.create" is already a step of saga "s"/],
  ["saga compensation undoing nothing", { ...base, sagas: [{ name: "s", steps: [{ service: "orders", action: "create", compensate: "create" }, { service: "payments", action: "charge" }] }] }, "sagas[0].steps[0].compensate", /the compensation of "create" is "create" itself/],
  ["mesh on VMs", { name: "a", tier: "iaas", mesh: { kind: "istio" } }, "mesh.kind", /istio needs Kubernetes/],
  ["overlapping pod range", { name: "a", network: { cidr: "100.64.0.0/16" } }, "network.podsCidr", /overlaps network.cidr/],
  ["host bits in CIDR", { name: "a", network: { cidr: "10.0.0.1/16" } }, "network.cidr", /host bits set; the network address is 10.0.0.0\/16/],
  ["tiny VPC", { name: "a", network: { cidr: "10.0.0.0/26" } }, "network.cidr", /outside \/16–\/24/],
  ["VPC too small for GCP private service access", { name: "a", cloud: "gcp", region: "asia-northeast3", network: { cidr: "10.0.0.0/23" } }, "network.cidr", /too small on gcp/],
  ["Pub/Sub delivery attempts", { name: "a", cloud: "gcp", region: "asia-northeast3", messaging: { maxReceiveCount: 3 } }, "messaging.maxReceiveCount", /5 to 100 delivery attempts, got 3/],
  ["topic stacks on eventbridge", { name: "a", messaging: { broker: "eventbridge", topicStacks: 2 } }, "messaging.topicStacks", /is 2, but only AWS sns-sqs has a stack per topic to spread \(aws eventbridge has one bus and no per-event resources\)/],
  ["topic stacks on GCP", { name: "a", cloud: "gcp", region: "asia-northeast3", messaging: { topicStacks: 3 } }, "messaging.topicStacks", /is 3, but only AWS sns-sqs/],
  ["too many topic stacks", { name: "a", messaging: { topicStacks: 21 } }, "messaging.topicStacks", /at most 20/],
  ["no topic stack", { name: "a", messaging: { topicStacks: 0 } }, "messaging.topicStacks", /at least 1/],
  ["too many Azure zones", { name: "a", cloud: "azure", region: "koreacentral", network: { zones: 4 } }, "network.zones", /at most 3 zones/],
  ["zone list and count disagree", { name: "a", network: { zones: 3, availabilityZones: ["us-east-1a"] } }, "network.availabilityZones", /lists 1 zones but network.zones is 3/],
  ["single-zone prod", { name: "a", cloud: "gcp", environment: "prod", network: { zones: 1 } }, "network.zones", /prod needs at least 2 zones/],
  ["single zone on AWS, even in dev", { name: "a", network: { zones: 1 } }, "network.zones", /AWS needs subnets in at least 2 zones/],
  ["unknown auth service", { name: "a", auth: { service: "auth" } }, "auth.service", /"auth" is not a service/],
  ["authorizer without service", { name: "a", gateway: { auth: "authorizer" } }, "gateway.auth", /auth.service is not set/],
  ["replicas inverted", { name: "a", services: [{ name: "x", replicas: { min: 5, max: 2 } }] }, "services[0].replicas", /min 5 is above max 2/],
  ["two services on one route", { name: "a", services: [{ name: "x", path: "/api" }, { name: "y", path: "/api" }] }, "services[1].path", /already served by service "x"/],
  ["BFF named like a service", { name: "a", bffs: ["orders"], services: [{ name: "orders" }] }, "bffs[0].name", /also a service name/],
  ["Fluent Bit into Redis", { name: "a", logging: { shipper: "fluent-bit" } }, "logging.shipper", /no Redis output/],
  ["shell without its BFF", { name: "a", bffs: ["web"], frontends: { shell: "tv" } }, "frontends.shell", /matches no BFF/],
  ["two services from one repository", { name: "a", pipelines: { repositoryOwner: "acme" }, services: [{ name: "x", repository: "mono" }, { name: "y", repository: "Mono" }] }, "services[1].repository", /repository "Mono" is already the source of service "x"/],
  ["BFF from a service's repository", { name: "a", pipelines: { repositoryOwner: "acme" }, bffs: [{ name: "web", repository: "orders" }], services: [{ name: "orders" }] }, "bffs[0].repository", /already the source of service "orders"/],
  ["repository name with a slash", { name: "a", services: [{ name: "x", repository: "acme/x" }] }, "services[0].repository", /letters, digits/],
  ["owner with a slash", { name: "a", pipelines: { repositoryOwner: "acme/shop" } }, "pipelines.repositoryOwner", /GitHub user or organization/],
  ["connection of another service", { name: "a", pipelines: { connectionArn: "arn:aws:iam::123456789012:role/x" } }, "pipelines.connectionArn", /CodeConnections connection ARN/],
  ["(with pipelines) two services from one repository", { name: "a", pipelines: { perService: true }, services: [{ name: "x", repository: "mono" }, { name: "y", repository: "mono" }] }, "services[1].repository", /already the source/],
  ["fragment on a BFF route", { name: "a", bffs: [{ name: "web", routes: ["/catalog"] }], frontends: { shell: "web", fragments: ["catalog"] } }, "frontends.fragments[0]", /served at \/catalog\/, which a BFF route already uses/],
  ["domain without certificate", { name: "a", frontends: { shell: "web", domainName: "shop.example.com" } }, "frontends.certificateArn", /go together/],
  ["ACM certificate on GCP", { name: "a", cloud: "gcp", region: "asia-northeast3", frontends: { shell: "web", domainName: "shop.example.com", certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0f9c2a1e-1b2c-4d5e-8f90-123456789abc" } }, "frontends.certificateArn", /for AWS only; gcp issues a managed certificate for domainName/],
  ["certificate outside us-east-1", { name: "a", frontends: { shell: "web", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0f9c2a1e-1b2c-4d5e-8f90-123456789abc" } }, "frontends.certificateArn", /in us-east-1/],
  ["region of another cloud", { name: "a", cloud: "aws", region: "koreacentral" }, "region", /not a aws region name/],
  ["secret name style", { name: "a", services: [{ name: "x", secrets: ["db-password"] }] }, "services[0].secrets[0]", /UPPER_SNAKE_CASE/],
  ["issuer over plain http", { name: "a", auth: { issuer: "http://login.example.com" } }, "auth.issuer", /must be an https URL/],
  ["keys without an issuer", { name: "a", auth: { jwksUri: "https://login.example.com/keys" } }, "auth.jwksUri", /auth.issuer is not set/],
  ["JWT checks on a cluster without issuer", { name: "a", cloud: "kubernetes", region: "local", gateway: { auth: "jwt" } }, "auth.issuer", /Istio needs the issuer/],
  ["cluster checks without a mesh", { name: "a", cloud: "kubernetes", region: "local", mesh: { kind: "none" }, auth: { issuer: "https://login.example.com" } }, "gateway.auth", /sidecars enforce gateway.auth "jwt", but mesh.kind is none/],
  ["external issuer on AWS without audience", { name: "a", auth: { issuer: "https://login.example.com" } }, "auth.audiences", /accepts only listed audiences/],
  ["authorizer behind an unexposed service", { name: "a", gateway: { auth: "authorizer" }, auth: { service: "auth" }, services: [{ name: "auth", expose: false }] }, "services[0].expose", /through the gateway's internal load balancer/],
  ["authorizer cache beyond an hour", { name: "a", gateway: { authorizerCacheSeconds: 7200 } }, "gateway.authorizerCacheSeconds", /at most 3600/],
  ["config key with a space", { name: "a", config: { values: { "LOG LEVEL": "debug" } } }, "config.values.LOG LEVEL", /cannot be an environment variable/],
  ["cluster add-ons on a cloud", { name: "a", kubernetes: { certManager: { install: false } } }, "kubernetes", /sets the add-ons of an existing cluster, but cloud is aws/],
  ["add-on switch as text", { name: "a", cloud: "kubernetes", region: "local", kubernetes: { trustManager: { install: "no" } } }, "kubernetes.trustManager.install", /expected boolean/],
  ["unknown cluster add-on", { name: "a", cloud: "kubernetes", region: "local", kubernetes: { vault: { install: false } } }, "kubernetes.vault", /unknown key "vault"/],
  ["empty parameter value on AWS", { name: "a", services: [{ name: "x", config: { MODE: "" } }] }, "services[0].config.MODE", /holds 1 to 4096 characters/],
];

describe("invalid specs", () => {
  it.each(invalid)("%s", (_title, input, path, message) => {
    const issues = issuesOf(input);
    const issue = issues.find((i) => i.path === path);
    expect(issue, `no issue at ${path}; got ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it("lists every problem at once, each with a fix", () => {
    const issues = issuesOf({ name: "a", cloud: "oracle", tier: "faas", services: [{ name: "x", port: 0 }] });
    expect(issues.map((i) => i.path).sort()).toEqual(["cloud", "services[0].port", "tier"]);
    for (const issue of issues) expect(issue.fix).toBeTruthy();
  });

  it("rejects a service or BFF off port 8080 on App Engine (gcp paas), and only there", () => {
    const onAppEngine = { name: "a", cloud: "gcp", region: "asia-northeast3", tier: "paas", services: [{ name: "orders", port: 3000 }], bffs: [{ name: "web-bff", channel: "web", routes: ["/web"], port: 9000 }] };
    expect(() => parseSpec(onAppEngine, "landing-zone.yaml")).toThrowError(
      /- services\[0\]\.port: 3000: App Engine flexible \(gcp paas\) sends requests only to port 8080 of the container, so the version would never become ready\. Fix: set port: 8080 and have the service listen on it, or use tier: caas or iaas/,
    );
    expect(issuesOf(onAppEngine).map((i) => i.path)).toEqual(["services[0].port", "bffs[0].port"]);
    expect(() => parseSpec({ ...onAppEngine, services: [{ name: "orders", port: 8080 }], bffs: [{ ...onAppEngine.bffs[0], port: 8080 }] })).not.toThrow();
    expect(() => parseSpec({ ...onAppEngine, tier: "caas" })).not.toThrow();
  });

  it("throws a SpecError whose message names the path, the value and the fix", () => {
    expect(() => parseSpec({ name: "a", tier: "faas" }, "landing-zone.yaml")).toThrowError(SpecError);
    expect(() => parseSpec({ name: "a", tier: "faas" }, "landing-zone.yaml")).toThrowError(
      /Invalid landing-zone spec landing-zone.yaml \(1 problem\):\n {2}- tier: expected one of iaas \| caas \| paas, got "faas"\. Fix: use one of/,
    );
  });
});

describe("YAML", () => {
  it("parses a YAML document", () => {
    const spec = parseSpecText("name: shop\ncloud: aws\nservices:\n  - name: orders\n    port: 9090\n");
    expect(spec.services[0]).toMatchObject({ name: "orders", port: 9090 });
  });

  it("reports YAML syntax errors with their position", () => {
    expect(() => parseSpecText("name: shop\nservices: [\n", "x.yaml")).toThrowError(/YAML syntax error at line \d+, column \d+/);
  });

  it("rejects a document that is not a mapping", () => {
    expect(() => parseSpecText("- a\n- b\n")).toThrowError(/the document is not a mapping/);
  });
});
