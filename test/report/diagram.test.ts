import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../lib/plan/index.js";
import { diagramModel, renderSvg, toDot, toMermaid, type DiagramModel } from "../../lib/report/index.js";
import type { LandingZoneInput } from "../../lib/spec/index.js";

/** Everything optional switched off, so the diagram holds exactly what the services ask for. */
const small: LandingZoneInput = {
  name: "mini",
  region: "ap-northeast-2",
  gateway: { auth: "none" },
  auth: { sessions: "none", tokens: "none" },
  logging: { stack: "none", buffer: "none" },
  mesh: { kind: "none" },
  tracing: { backend: "none" },
  services: [
    { name: "orders", publishes: ["order-placed"], database: { engine: "postgres" } },
    { name: "payments", subscribes: ["order-placed"] },
    { name: "worker", expose: false },
  ],
};

const full: LandingZoneInput = {
  name: "shop",
  region: "ap-northeast-2",
  environment: "prod",
  bffs: ["web", { name: "mobile-bff", channel: "mobile" }],
  auth: { sessions: "redis" },
  services: [
    { name: "orders", publishes: ["order-placed"] },
    { name: "payments", subscribes: ["order-placed"] },
  ],
};

const edgeKeys = (model: DiagramModel) => model.edges.map((e) => `${e.from} -> ${e.to}${e.label ? ` [${e.label}]` : ""}`);

describe("diagramModel", () => {
  it("draws exactly client → gateway → services → database and the topic between publisher and subscriber", () => {
    const model = diagramModel(planLandingZone(small));
    expect(model.nodes.map((n) => [n.id, n.label, n.group])).toEqual([
      ["client", "client", "clients"],
      ["gateway", "API gateway\napigateway-http+vpc-link (auth none)", "edge"],
      ["service:orders", "orders", "platform"],
      ["service:payments", "payments", "platform"],
      ["service:worker", "worker", "platform"],
      ["db:orders", "orders DB\nrds-postgres", "data"],
      ["topic:order-placed", "order-placed", "broker"],
    ]);
    expect(new Set(edgeKeys(model))).toEqual(
      new Set([
        "client -> gateway",
        "gateway -> service:orders [/orders]",
        "gateway -> service:payments [/payments]",
        "service:orders -> db:orders",
        "service:orders -> topic:order-placed [publish]",
        "topic:order-placed -> service:payments [subscribe]",
      ]),
    );
    expect(model.edges).toHaveLength(6);
    expect(model.groups).toEqual([
      { id: "clients", label: "Clients" },
      { id: "edge", label: "Edge" },
      { id: "platform", label: "EKS (caas)" },
      { id: "data", label: "Data" },
      { id: "broker", label: "Broker (sns-sqs)" },
    ]);
    expect(model.title).toBe("mini (aws/caas, dev, ap-northeast-2)");
  });

  it("puts one client per BFF channel in front of the BFFs, and wires sessions, the log pipeline, mesh and tracing", () => {
    const model = diagramModel(planLandingZone(full));
    const edges = edgeKeys(model);
    expect(edges).toEqual(
      expect.arrayContaining([
        "client:web -> bff:web",
        "client:mobile -> bff:mobile-bff",
        "bff:web -> gateway",
        "bff:mobile-bff -> gateway",
        "gateway -> service:orders [/orders]",
        "bff:web -> sessions",
        "service:payments -> sessions",
        "log:shipper -> log:buffer [push]",
        "log:buffer -> log:logstash [pop]",
        "log:logstash -> log:search",
        "log:search -> log:dashboards",
        "mesh -> tracing:collector [spans]",
        "tracing:collector -> tracing:backend",
      ]),
    );
    expect(model.nodes.find((n) => n.id === "client")).toBeUndefined();
    expect(model.nodes.find((n) => n.id === "mesh")).toMatchObject({ group: "platform", label: expect.stringMatching(/^Istio .*\nmTLS STRICT$/) });
    expect(model.nodes.find((n) => n.id === "log:search")?.label).toMatch(/^OpenSearch /);
    expect(model.nodes.find((n) => n.id === "log:dashboards")?.label).toBe("OpenSearch Dashboards");
    expect(model.nodes.find((n) => n.id === "gateway")?.label).toContain("auth jwt, WAF");
    expect(model.groups.map((g) => g.id)).toEqual(["clients", "bffs", "edge", "platform", "data", "broker", "logging", "tracing"]);
  });

  it("names the platform after the tier's compute and skips the buffer and mesh when they are off", () => {
    const model = diagramModel(
      planLandingZone({
        name: "vms",
        cloud: "gcp",
        tier: "iaas",
        logging: { stack: "none", buffer: "none" },
        tracing: { backend: "cloud" },
        services: [{ name: "orders" }],
      }),
    );
    expect(model.groups.find((g) => g.id === "platform")?.label).toBe("Managed instance groups (iaas)");
    expect(model.nodes.some((n) => n.id === "mesh" || n.id.startsWith("log:"))).toBe(false);
    // Without a mesh every service exports its own spans.
    expect(edgeKeys(model)).toContain("service:orders -> tracing:collector [OTLP]");
    expect(model.nodes.find((n) => n.id === "tracing:backend")?.label).toBe("cloud trace service");
  });

  it("connects Filebeat straight to Logstash when there is no Redis buffer, on Kibana where the cloud runs ECK", () => {
    const model = diagramModel(planLandingZone({ name: "k", cloud: "kubernetes", logging: { buffer: "none" }, services: [{ name: "orders" }] }));
    expect(edgeKeys(model)).toContain("log:shipper -> log:logstash");
    expect(model.nodes.some((n) => n.id === "log:buffer")).toBe(false);
    expect(model.nodes.find((n) => n.id === "log:dashboards")?.label).toBe("Kibana");
    expect(model.groups.find((g) => g.id === "platform")?.label).toBe("Kubernetes (caas)");
  });

  it("draws a gateway's auth service call and keeps every edge between known nodes in known groups", () => {
    for (const input of [small, full, { name: "authz", gateway: { auth: "authorizer" }, auth: { service: "auth" }, services: [{ name: "auth" }, { name: "orders" }] } satisfies LandingZoneInput]) {
      const model = diagramModel(planLandingZone(input));
      const ids = new Set(model.nodes.map((n) => n.id));
      expect(ids.size).toBe(model.nodes.length);
      for (const e of model.edges) expect([ids.has(e.from), ids.has(e.to)], `${e.from} -> ${e.to}`).toEqual([true, true]);
      for (const n of model.nodes) expect(model.groups.map((g) => g.id)).toContain(n.group);
      if (input.name === "authz") expect(edgeKeys(model)).toContain("gateway -> service:auth [authorize]");
    }
  });
});

describe("toMermaid", () => {
  it("writes a flowchart LR with one subgraph per group and Mermaid-safe ids", () => {
    const text = toMermaid(diagramModel(planLandingZone(small)));
    expect(text.split("\n")[3]).toBe("flowchart LR");
    expect(text).toContain('subgraph g_platform["EKS (caas)"]');
    expect(text).toContain('subgraph g_broker["Broker (sns-sqs)"]');
    expect(text).toContain('service__orders -->|"publish"| topic__order_placed');
    expect(text).toContain('topic__order_placed -->|"subscribe"| service__payments');
    expect(text).toContain('db__orders[("orders DB<br/>rds-postgres")]');
    expect(text.match(/^ {2}end$/gm)).toHaveLength(5);
    // Node ids must not carry ':' or '-', which Mermaid reads as syntax.
    for (const line of text.split("\n").filter((l) => l.includes("-->"))) expect(line).toMatch(/^ {2}[A-Za-z0-9_]+ -->(\|"[^"]*"\|)? [A-Za-z0-9_]+$/);
  });

  it("escapes quotes in labels", () => {
    const text = toMermaid({ title: "t", groups: [{ id: "g", label: 'say "hi"' }], nodes: [{ id: "a", label: 'x "y"', group: "g", kind: "service" }], edges: [] });
    expect(text).toContain('subgraph g_g["say #quot;hi#quot;"]');
    expect(text).toContain('a["x #quot;y#quot;"]');
  });
});

describe("toDot and renderSvg", () => {
  it("writes one cluster per group with escaped labels", () => {
    const dot = toDot(diagramModel(planLandingZone(small)));
    expect(dot).toMatch(/^digraph "mini \(aws\/caas, dev, ap-northeast-2\)" \{/);
    expect(dot).toContain('subgraph "cluster_platform" {');
    expect(dot).toContain('label="EKS (caas)"');
    expect(dot).toContain('"db:orders" [label="orders DB\\nrds-postgres", shape=cylinder];');
    expect(dot).toContain('"service:orders" -> "topic:order-placed" [label="publish"];');
    expect(toDot({ title: 'a "b"', groups: [], nodes: [], edges: [] })).toContain('digraph "a \\"b\\""');
  });

  it("renders SVG with the node and group labels", async () => {
    const svg = await renderSvg(diagramModel(planLandingZone(small)));
    expect(svg).toMatch(/^(<\?xml|<svg)/);
    expect(svg).toContain("<svg");
    // Graphviz writes '-' as &#45;; compare the decoded text of the <text> elements.
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, "&"));
    expect(texts).toEqual(expect.arrayContaining(["orders", "payments", "order-placed", "EKS (caas)", "Broker (sns-sqs)", "orders DB", "rds-postgres", "publish", "subscribe"]));
  });
});
