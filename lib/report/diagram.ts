import type { LandingZonePlan, LogPipelinePlan } from "../plan/types.js";

/** What a node is; renderers pick a shape from it. */
export type DiagramNodeKind = "client" | "bff" | "gateway" | "service" | "store" | "topic" | "component";

export interface DiagramNode {
  /** Unique within the model: `service:orders`, `topic:order-placed`, `gateway`... */
  readonly id: string;
  /** Text shown in the node; `\n` separates lines. */
  readonly label: string;
  /** Id of the group (subgraph) the node is drawn in. */
  readonly group: string;
  readonly kind: DiagramNodeKind;
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
}

export interface DiagramGroup {
  readonly id: string;
  readonly label: string;
}

/** The landing zone as a graph, independent of any diagram language. */
export interface DiagramModel {
  readonly title: string;
  /** Groups in drawing order; every node's group is one of them. */
  readonly groups: readonly DiagramGroup[];
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
}

/** Display names of compute implementations, for the platform group's title. */
const PLATFORM_NAMES: Readonly<Record<string, string>> = {
  eks: "EKS",
  gke: "GKE",
  aks: "AKS",
  "existing-cluster": "Kubernetes",
  "ec2-autoscaling": "EC2 Auto Scaling",
  "managed-instance-group": "Managed instance groups",
  "vm-scale-set": "VM Scale Sets",
  "elastic-beanstalk": "Elastic Beanstalk",
  "app-engine": "App Engine",
  "app-service": "App Service",
};

const TRACING_BACKEND_NAMES: Readonly<Record<string, string>> = { zipkin: "Zipkin", jaeger: "Jaeger", xray: "AWS X-Ray", cloud: "cloud trace service" };

function decisionImplementation(plan: LandingZonePlan, capability: LandingZonePlan["decisions"][number]["capability"]): string | undefined {
  return plan.decisions.find((d) => d.capability === capability)?.implementation;
}

function logPipelineParts(logging: LogPipelinePlan): { search: string; dashboards: string } {
  return logging.search.implementation === "opensearch"
    ? { search: `OpenSearch ${logging.search.engineVersion}`, dashboards: "OpenSearch Dashboards" }
    : { search: `Elasticsearch ${logging.search.engineVersion}`, dashboards: "Kibana" };
}

/**
 * Draws a plan as a graph: clients → BFFs → gateway → services (inside the compute platform) →
 * their databases; the broker's topics with publish and subscribe edges; the session store; the
 * log pipeline; mesh and tracing when planned. Pure: the same plan always gives the same model.
 */
export function diagramModel(plan: LandingZonePlan): DiagramModel {
  const groups: DiagramGroup[] = [];
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const group = (id: string, label: string) => {
    if (!groups.some((g) => g.id === id)) groups.push({ id, label });
  };
  const node = (id: string, label: string, groupId: string, kind: DiagramNodeKind) => {
    if (!nodes.some((n) => n.id === id)) nodes.push({ id, label, group: groupId, kind });
  };
  const edge = (from: string, to: string, label?: string) => edges.push(label === undefined ? { from, to } : { from, to, label });

  const services = plan.services.filter((s) => s.kind === "service");
  const bffs = plan.services.filter((s) => s.kind === "bff");
  const compute = decisionImplementation(plan, "compute") ?? plan.tier;
  const platform = `${PLATFORM_NAMES[compute] ?? compute} (${plan.tier})`;

  group("clients", "Clients");
  if (bffs.length === 0) node("client", "client", "clients", "client");
  if (bffs.length > 0) group("bffs", `BFFs (${decisionImplementation(plan, "bff") ?? platform})`);
  for (const bff of bffs) {
    const channel = bff.channel ?? bff.name;
    node(`client:${channel}`, `${channel} client`, "clients", "client");
    node(`bff:${bff.name}`, bff.name, "bffs", "bff");
    edge(`client:${channel}`, `bff:${bff.name}`);
  }

  group("edge", "Edge");
  const gatewayTraits = [`auth ${plan.gateway.auth}`, ...(plan.gateway.waf ? ["WAF"] : [])].join(", ");
  node("gateway", `API gateway\n${plan.gateway.implementation} (${gatewayTraits})`, "edge", "gateway");
  if (bffs.length === 0) edge("client", "gateway");
  for (const bff of bffs) edge(`bff:${bff.name}`, "gateway");

  group("platform", platform);
  for (const s of services) {
    node(`service:${s.name}`, s.name, "platform", "service");
    if (s.expose) edge("gateway", `service:${s.name}`, s.path);
  }
  if (plan.gateway.authService) edge("gateway", `service:${plan.gateway.authService}`, "authorize");
  if (plan.mesh) node("mesh", `Istio ${plan.mesh.version}\nmTLS ${plan.mesh.mtls}`, "platform", "component");

  const databases = services.filter((s) => s.database);
  if (databases.length > 0 || plan.sessions) group("data", "Data");
  for (const s of databases) {
    node(`db:${s.name}`, `${s.name} DB\n${s.database!.implementation}`, "data", "store");
    edge(`service:${s.name}`, `db:${s.name}`);
  }
  if (plan.sessions) {
    node("sessions", `Session store\n${plan.sessions.implementation} (${plan.sessions.engine})`, "data", "store");
    for (const workload of [...bffs.map((b) => `bff:${b.name}`), ...services.map((s) => `service:${s.name}`)]) edge(workload, "sessions");
  }

  if (plan.broker && plan.broker.topics.length > 0) {
    group("broker", `Broker (${plan.broker.implementation})`);
    for (const topic of plan.broker.topics) {
      const id = `topic:${topic.event}`;
      node(id, topic.event, "broker", "topic");
      for (const publisher of topic.publishers) edge(`service:${publisher}`, id, "publish");
      for (const subscription of topic.subscriptions) edge(id, `service:${subscription.subscriber}`, "subscribe");
    }
  }

  if (plan.logging) {
    const logging = plan.logging;
    const parts = logPipelineParts(logging);
    group("logging", `Logging (${logging.implementation})`);
    node("log:shipper", logging.shipper === "filebeat" ? "Filebeat" : "Fluent Bit", "logging", "component");
    if (logging.buffer) node("log:buffer", `Redis buffer\nlist "${logging.bufferKey}"`, "logging", "store");
    node("log:logstash", `Logstash ×${logging.logstashReplicas}`, "logging", "component");
    node("log:search", parts.search, "logging", "store");
    node("log:dashboards", parts.dashboards, "logging", "component");
    if (logging.buffer) {
      edge("log:shipper", "log:buffer", "push");
      edge("log:buffer", "log:logstash", "pop");
    } else {
      edge("log:shipper", "log:logstash");
    }
    edge("log:logstash", "log:search");
    edge("log:search", "log:dashboards");
  }

  if (plan.tracing) {
    group("tracing", `Tracing (${plan.tracing.implementation})`);
    node("tracing:collector", "OpenTelemetry collector", "tracing", "component");
    node("tracing:backend", TRACING_BACKEND_NAMES[plan.tracing.backend] ?? plan.tracing.backend, "tracing", "store");
    // With a mesh the sidecars report spans; without one each service exports OTLP itself.
    if (plan.mesh) edge("mesh", "tracing:collector", "spans");
    else for (const s of [...services, ...bffs]) edge(`${s.kind === "bff" ? "bff" : "service"}:${s.name}`, "tracing:collector", "OTLP");
    edge("tracing:collector", "tracing:backend");
  }

  return { title: `${plan.name} (${plan.cloud}/${plan.tier}, ${plan.environment}, ${plan.region})`, groups, nodes, edges };
}

/** Mermaid ids allow letters, digits and `_`; names never contain `_`, so the mapping is one-to-one. */
function mermaidId(id: string): string {
  return id.replace(/:/g, "__").replace(/-/g, "_");
}

function mermaidText(text: string): string {
  return text.replace(/"/g, "#quot;").replace(/\n/g, "<br/>");
}

const MERMAID_SHAPES: Readonly<Record<DiagramNodeKind, [string, string]>> = {
  client: ["([", "])"],
  bff: ["[", "]"],
  gateway: ["{{", "}}"],
  service: ["[", "]"],
  store: ["[(", ")]"],
  topic: ["[/", "/]"],
  component: ["[", "]"],
};

/** The model as a Mermaid `flowchart LR`, one subgraph per group. */
export function toMermaid(model: DiagramModel): string {
  const lines = [`---`, `title: ${JSON.stringify(model.title)}`, `---`, "flowchart LR"];
  for (const g of model.groups) {
    lines.push(`  subgraph g_${mermaidId(g.id)}["${mermaidText(g.label)}"]`);
    for (const n of model.nodes.filter((n) => n.group === g.id)) {
      const [open, close] = MERMAID_SHAPES[n.kind];
      lines.push(`    ${mermaidId(n.id)}${open}"${mermaidText(n.label)}"${close}`);
    }
    lines.push("  end");
  }
  for (const e of model.edges) {
    lines.push(`  ${mermaidId(e.from)} -->${e.label ? `|"${mermaidText(e.label)}"|` : ""} ${mermaidId(e.to)}`);
  }
  return `${lines.join("\n")}\n`;
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

const DOT_SHAPES: Readonly<Record<DiagramNodeKind, string>> = {
  client: "ellipse",
  bff: "box",
  gateway: "hexagon",
  service: "box",
  store: "cylinder",
  topic: "parallelogram",
  component: "box",
};

/** The model as Graphviz DOT, one `cluster_` subgraph per group. */
export function toDot(model: DiagramModel): string {
  const lines = [
    `digraph ${dotString(model.title)} {`,
    `  label=${dotString(model.title)}; labelloc=t; rankdir=LR; fontname="Helvetica"; newrank=true;`,
    `  node [fontname="Helvetica", fontsize=11, style="rounded,filled", fillcolor="#f5f7fa"];`,
    `  edge [fontname="Helvetica", fontsize=9];`,
  ];
  for (const g of model.groups) {
    lines.push(`  subgraph ${dotString(`cluster_${g.id}`)} {`, `    label=${dotString(g.label)}; style="rounded,dashed";`);
    for (const n of model.nodes.filter((n) => n.group === g.id)) {
      lines.push(`    ${dotString(n.id)} [label=${dotString(n.label)}, shape=${DOT_SHAPES[n.kind]}];`);
    }
    lines.push("  }");
  }
  for (const e of model.edges) {
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${e.label ? ` [label=${dotString(e.label)}]` : ""};`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Renders the model to SVG with Graphviz compiled to WebAssembly: offline, no `dot` binary needed. */
export async function renderSvg(model: DiagramModel): Promise<string> {
  // Loaded on demand: the module embeds the WebAssembly binary (~800 KB) that only this needs.
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const graphviz = await Graphviz.load();
  return graphviz.dot(toDot(model));
}
