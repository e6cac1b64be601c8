import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { Document, isMap, isScalar, isSeq, type Node as YamlNode } from "yaml";
import { CATALOG, catalogImplementation, PlanError, planLandingZone, type Capability } from "../plan/index.js";
import { CLOUDS, CLOUDS_WITHOUT_IDENTITY_PROVIDER, ENVIRONMENTS, formatIssue, parseSpecText, SpecError, TIERS, validateSpec, type Cloud, type Environment, type Tier } from "../spec/index.js";
import type { ExitCode, Io } from "./commands.js";
import { OutputPathError, writeOutputFile } from "./output-path.js";

export interface PromptChoice<T extends string> {
  readonly value: T;
  readonly name?: string;
}

/**
 * The questions the wizard asks, shaped like @inquirer/prompts so the real terminal prompts plug in
 * directly and tests can script the answers.
 */
export interface Ask {
  select<T extends string>(question: { readonly message: string; readonly choices: readonly PromptChoice<T>[]; readonly default?: T }): Promise<T>;
  input(question: { readonly message: string; readonly default?: string; readonly validate?: (value: string) => boolean | string }): Promise<string>;
  confirm(question: { readonly message: string; readonly default?: boolean }): Promise<boolean>;
}

/** Patterns the wizard offers, each switching one capability on or off. */
export const INIT_PATTERNS = ["sessions", "logging", "broker", "mesh", "tracing", "gatewayAuth"] as const;
export type InitPattern = (typeof INIT_PATTERNS)[number];

const PATTERN_CAPABILITY: Readonly<Record<InitPattern, Capability>> = {
  sessions: "sessions",
  logging: "logging",
  broker: "broker",
  mesh: "mesh",
  tracing: "tracing",
  gatewayAuth: "tokens",
};

const PATTERN_QUESTION: Readonly<Record<InitPattern, string>> = {
  sessions: "Central session store (Redis) shared by scaled-out instances?",
  logging: "Central logging (ELK: Filebeat → Redis buffer → Logstash → Elasticsearch/OpenSearch → Kibana)?",
  broker: "Message broker for events between services?",
  mesh: "Service mesh (Istio: mTLS, retries, circuit breaking)?",
  tracing: "Distributed tracing (OpenTelemetry collector → Zipkin, or the cloud's tracer without a cluster)?",
  gatewayAuth: "JWT authentication at the API gateway?",
};

/** Flags of `mlz init`; whatever is given is not asked. */
export interface InitOptions {
  readonly name?: string;
  readonly cloud?: Cloud;
  readonly tier?: Tier;
  readonly environment?: Environment;
  readonly region?: string;
  /** Comma-separated service names. */
  readonly services?: string;
  /** Comma-separated BFF names, one per client channel. */
  readonly bffs?: string;
  /** Comma-separated `service:event` pairs. */
  readonly publishes?: string;
  /** Comma-separated `service:event` pairs. */
  readonly subscribes?: string;
  readonly sessions?: boolean;
  readonly logging?: boolean;
  readonly broker?: boolean;
  readonly mesh?: boolean;
  readonly tracing?: boolean;
  readonly gatewayAuth?: boolean;
  /** Accept the defaults for everything not given as a flag. */
  readonly yes?: boolean;
  /** Overwrite an existing file. */
  readonly force?: boolean;
}

/** Everything the wizard decided; {@link renderSpecYaml} turns it into the spec file. */
export interface InitAnswers {
  readonly name: string;
  readonly cloud: Cloud;
  readonly tier: Tier;
  readonly environment: Environment;
  readonly region: string;
  readonly services: readonly string[];
  readonly bffs: readonly string[];
  readonly patterns: Readonly<Record<InitPattern, boolean>>;
  /** Events per service name. */
  readonly publishes: Readonly<Record<string, readonly string[]>>;
  readonly subscribes: Readonly<Record<string, readonly string[]>>;
}

/** A wrong flag or answer: reported with exit code 1, like a spec problem. */
export class InitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InitError";
  }
}

function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function parsePairs(text: string | undefined, flag: string): Record<string, string[]> {
  const pairs: Record<string, string[]> = {};
  for (const item of splitList(text)) {
    const [service, event, extra] = item.split(":").map((s) => s.trim());
    if (!service || !event || extra !== undefined) throw new InitError(`${flag} "${item}" is not a service:event pair. Fix: write e.g. ${flag} orders:order-placed`);
    (pairs[service] ??= []).push(event);
  }
  return pairs;
}

/** The spec's own region default, so the wizard never disagrees with normalization. */
export function defaultRegion(cloud: Cloud): string {
  const result = validateSpec({ name: "probe", cloud });
  if (!result.ok) throw new Error(`the default spec for cloud ${cloud} is invalid: ${result.issues.map(formatIssue).join("; ")}`);
  return result.spec.region;
}

/** Tiers that have a compute platform on the cloud. */
export function tiersOffered(cloud: Cloud): Tier[] {
  return TIERS.filter((tier) => CATALOG[cloud].compute[tier] !== undefined);
}

export function patternOffered(cloud: Cloud, tier: Tier, pattern: InitPattern): boolean {
  // The wizard asks for no issuer, so JWT checks are offered only where the landing zone creates the identity provider.
  if (pattern === "gatewayAuth" && CLOUDS_WITHOUT_IDENTITY_PROVIDER.includes(cloud)) return false;
  return catalogImplementation(cloud, tier, PATTERN_CAPABILITY[pattern]) !== undefined;
}

/** First problem the schema finds under `prefix` for a partial spec, or true when there is none. */
function schemaCheck(input: Record<string, unknown>, prefix: string): true | string {
  const result = validateSpec({ name: "probe", ...input });
  const issue = result.ok ? undefined : result.issues.find((i) => i.path === prefix || i.path.startsWith(`${prefix}[`) || i.path.startsWith(`${prefix}.`));
  return issue ? formatIssue(issue) : true;
}

/** A spec name from the directory the file goes in, when that makes a valid one. */
function suggestedName(file: string): string {
  const candidate = basename(dirname(resolve(file)))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 20)
    .replace(/-+$/, "");
  return candidate !== "" && schemaCheck({ name: candidate }, "name") === true ? candidate : "landing-zone";
}

/**
 * Collects the answers: a flag wins, otherwise the question is asked (when `ask` is given), otherwise
 * the default is taken. Defaults follow the catalog: a pattern the cloud and tier do not offer is off.
 */
export async function collectAnswers(file: string, options: InitOptions, ask: Ask | undefined): Promise<InitAnswers> {
  const name = options.name ?? (ask ? await ask.input({ message: "Landing zone name", default: suggestedName(file), validate: (v) => schemaCheck({ name: v }, "name") }) : suggestedName(file));
  const cloud =
    options.cloud ??
    (ask
      ? await ask.select<Cloud>({
          message: "Cloud",
          choices: CLOUDS.map((value) => ({ value, name: value === "kubernetes" ? "kubernetes (an existing cluster)" : value })),
          default: "aws",
        })
      : "aws");
  const tiers = tiersOffered(cloud);
  if (options.tier !== undefined && !tiers.includes(options.tier)) {
    throw new InitError(`--tier ${options.tier} is not offered on ${cloud}. Fix: use --tier ${tiers.join(" or ")}`);
  }
  const tier =
    options.tier ??
    (ask && tiers.length > 1
      ? await ask.select<Tier>({
          message: "Service model (tier)",
          choices: tiers.map((value) => ({ value, name: { iaas: "iaas (virtual machines)", caas: "caas (managed Kubernetes)", paas: "paas (managed app platform)" }[value] })),
          default: tiers.includes("caas") ? "caas" : tiers[0],
        })
      : tiers.includes("caas")
        ? "caas"
        : tiers[0]!);
  const environment =
    options.environment ?? (ask ? await ask.select<Environment>({ message: "Environment", choices: ENVIRONMENTS.map((value) => ({ value })), default: "dev" }) : "dev");
  const region =
    options.region ??
    (ask ? await ask.input({ message: "Region", default: defaultRegion(cloud), validate: (v) => schemaCheck({ cloud, region: v }, "region") }) : defaultRegion(cloud));
  const services =
    options.services !== undefined
      ? splitList(options.services)
      : ask
        ? splitList(
            await ask.input({
              message: "Services (comma-separated names, e.g. orders,payments)",
              default: "",
              validate: (v) => schemaCheck({ services: splitList(v).map((s) => ({ name: s })) }, "services"),
            }),
          )
        : [];
  const bffs =
    options.bffs !== undefined
      ? splitList(options.bffs)
      : ask
        ? splitList(
            await ask.input({
              message: "BFFs, one per client channel (comma-separated, e.g. web,mobile; empty for none)",
              default: "",
              validate: (v) => schemaCheck({ services: services.map((s) => ({ name: s })), bffs: splitList(v) }, "bffs"),
            }),
          )
        : [];

  const patterns = {} as Record<InitPattern, boolean>;
  for (const pattern of INIT_PATTERNS) {
    const offered = patternOffered(cloud, tier, pattern);
    // The broker only exists once a service publishes, so it is only worth asking with services.
    const relevant = offered && (pattern !== "broker" || services.length > 0);
    patterns[pattern] = options[pattern] ?? (ask && relevant ? await ask.confirm({ message: PATTERN_QUESTION[pattern], default: true }) : relevant);
  }

  let publishes = parsePairs(options.publishes, "--publishes");
  let subscribes = parsePairs(options.subscribes, "--subscribes");
  const flagged = [...Object.keys(publishes), ...Object.keys(subscribes)];
  if (!patterns.broker && flagged.length > 0) throw new InitError("--publishes and --subscribes need the broker. Fix: drop --no-broker");
  const unknown = flagged.find((s) => !services.includes(s));
  if (unknown) throw new InitError(`"${unknown}" in --publishes/--subscribes is not one of the services (${services.join(", ") || "none"}). Fix: add it to --services`);
  if (patterns.broker && ask && options.publishes === undefined && options.subscribes === undefined) {
    publishes = {};
    subscribes = {};
    for (const service of services) {
      const events = splitList(
        await ask.input({
          message: `Events ${service} publishes (comma-separated, e.g. ${service}-created; empty for none)`,
          default: "",
          validate: (v) => schemaCheck({ services: [{ name: service, publishes: splitList(v) }] }, "services"),
        }),
      );
      if (events.length > 0) publishes[service] = events;
    }
    for (const service of services) {
      const available = [...new Set(Object.entries(publishes).flatMap(([publisher, events]) => (publisher === service ? [] : events)))];
      if (available.length === 0) continue;
      const events = splitList(
        await ask.input({
          message: `Events ${service} subscribes to (of ${available.join(", ")}; empty for none)`,
          default: "",
          validate: (v) => splitList(v).every((e) => available.includes(e)) || `choose among ${available.join(", ")}`,
        }),
      );
      if (events.length > 0) subscribes[service] = events;
    }
  }
  return { name, cloud, tier, environment, region, services, bffs, patterns, publishes, subscribes };
}

/** Attaches a comment on the line above a top-level or nested key. */
function commentKey(doc: Document, path: readonly (string | number)[], comment: string): void {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
  if (pair && isScalar(pair.key)) pair.key.commentBefore = ` ${comment}`;
}

function commentValue(doc: Document, path: readonly (string | number)[], comment: string): void {
  const node = doc.getIn(path, true) as YamlNode | undefined;
  if (node) node.comment = ` ${comment}`;
}

/** The answers as a commented landing-zone.yaml. */
export function renderSpecYaml(answers: InitAnswers): string {
  const { patterns } = answers;
  const spec: Record<string, unknown> = {
    name: answers.name,
    cloud: answers.cloud,
    region: answers.region,
    tier: answers.tier,
    environment: answers.environment,
    gateway: { auth: patterns.gatewayAuth ? "jwt" : "none" },
    ...(answers.bffs.length > 0 ? { bffs: [...answers.bffs] } : {}),
    auth: { sessions: patterns.sessions ? "redis" : "none", tokens: patterns.gatewayAuth ? "jwt" : "none" },
    ...(patterns.broker ? { messaging: { broker: "auto" } } : {}),
    logging: patterns.logging ? { stack: "elk", buffer: "redis", shipper: "filebeat" } : { stack: "none", buffer: "none" },
    // Zipkin runs in a cluster; without one, traces go to the cloud's own tracer.
    tracing: { backend: patterns.tracing ? (answers.tier === "caas" || answers.cloud === "kubernetes" ? "zipkin" : "cloud") : "none" },
    mesh: { kind: patterns.mesh ? "istio" : "none" },
    services: answers.services.map((name) => ({
      name,
      ...(answers.publishes[name]?.length ? { publishes: [...answers.publishes[name]!] } : {}),
      ...(answers.subscribes[name]?.length ? { subscribes: [...answers.subscribes[name]!] } : {}),
    })),
  };
  const doc = new Document(spec);
  doc.commentBefore =
    " msa-landing-zone spec, written by `mlz init`.\n" +
    " Check it: mlz validate <file> · see what it becomes: mlz plan <file> · draw it: mlz diagram <file> -o zone.svg\n" +
    " Every key with a default may be left out; schema/landing-zone.schema.json lists them all.";
  commentKey(doc, ["name"], "Short name (≤ 20 characters); prefixes stacks and resources.");
  commentValue(doc, ["cloud"], "aws | gcp | azure | kubernetes (an existing cluster)");
  commentValue(doc, ["tier"], "iaas (VMs) | caas (managed Kubernetes) | paas (managed app platform)");
  commentValue(doc, ["environment"], "dev | prod: sizing, redundancy and data protection follow it");
  commentKey(doc, ["gateway"], "The single entry point: routes /<service> to each exposed service.");
  commentValue(doc, ["gateway", "auth"], "jwt | authorizer (a dedicated auth service) | none");
  if (answers.bffs.length > 0) commentKey(doc, ["bffs"], "One backend-for-frontend per client channel; each is served at /<name>.");
  commentValue(doc, ["auth", "sessions"], "redis | memcached | none: the session store shared by scaled-out instances");
  if (patterns.broker) {
    commentKey(doc, ["messaging"], "Created once a service publishes an event; subscribers get a queue with a dead-letter queue.");
    commentValue(doc, ["messaging", "broker"], "auto picks the cloud's managed default");
  }
  commentValue(doc, ["logging", "stack"], patterns.logging ? "shippers push to a Redis buffer, Logstash pops into Elasticsearch/OpenSearch" : "elk | none");
  commentValue(doc, ["tracing", "backend"], "zipkin | jaeger | xray | cloud | none");
  commentValue(doc, ["mesh", "kind"], "istio (CaaS and existing clusters) | none");
  commentKey(
    doc,
    ["services"],
    "Each service may also set: port (8080), path (/<name>), database: { engine: postgres | mysql | key-value | document },\n" +
      " publishes: [event], subscribes: [event], replicas: { min, max }, config, secrets.",
  );
  // Short lists read best on one line: bffs: [web, mobile].
  for (const seq of [["bffs"], ...answers.services.flatMap((_, i) => [["services", i, "publishes"], ["services", i, "subscribes"]])]) {
    const node = doc.getIn(seq, true);
    if (isSeq(node)) node.flow = true;
  }
  return doc.toString({ flowCollectionPadding: false });
}

function isPromptCancel(error: unknown): boolean {
  return error instanceof Error && error.name === "ExitPromptError";
}

/** The terminal prompts; loaded on demand so other commands never pay for them. */
export async function terminalAsk(): Promise<Ask> {
  const prompts = await import("@inquirer/prompts");
  return {
    select: (q) => prompts.select({ message: q.message, choices: q.choices.map((c) => ({ value: c.value, name: c.name ?? c.value })), default: q.default }),
    input: (q) => prompts.input({ message: q.message, default: q.default, validate: q.validate }),
    confirm: (q) => prompts.confirm({ message: q.message, default: q.default }),
  };
}

/**
 * `mlz init`: asks (or takes from flags) what the landing zone needs and writes a commented spec.
 * Interactive when `ask` is given or stdin is a terminal, unless `--yes`. The file is validated and
 * planned before it is written, and an existing file is kept unless `--force`.
 */
export async function initCommand(file: string, options: InitOptions, io: Io, ask?: Ask): Promise<ExitCode> {
  if (!options.force && existsSync(file)) {
    io.err(`${file} already exists; nothing written. Fix: pass --force to overwrite it, or name another file\n`);
    return 1;
  }
  try {
    const interactive = !options.yes && (ask !== undefined || process.stdin.isTTY === true);
    const answers = await collectAnswers(file, options, interactive ? (ask ?? (await terminalAsk())) : undefined);
    const text = renderSpecYaml(answers);
    const spec = parseSpecText(text, file);
    planLandingZone(spec);
    writeOutputFile(file, text, { overwrite: options.force === true, fixes: { EEXIST: "pass --force to overwrite it, or name another file" } });
    io.out(`Wrote ${file} (${spec.cloud}/${spec.tier}, ${spec.environment}, ${spec.region}, ${spec.services.length} services). Next: mlz plan ${file}\n`);
    return 0;
  } catch (error) {
    if (error instanceof SpecError || error instanceof PlanError || error instanceof InitError || error instanceof OutputPathError) {
      io.err(`${error.message}\nNothing written.\n`);
      return 1;
    }
    if (isPromptCancel(error)) {
      io.err("Cancelled; nothing written.\n");
      return 1;
    }
    throw error;
  }
}
