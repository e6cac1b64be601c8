import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations, aws_s3 as s3 } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { LANDING_ZONE_APP_CONTEXT } from "../../lib/cdk/app-context.js";
import { addCompliancePacks, COMPLIANCE_PACKS } from "../../lib/cdk/compliance.js";
import { assertCompliant, ComplianceError, readValidationReport, type AcknowledgedFinding, type ComplianceFinding } from "../../lib/report/compliance-report.js";

/** Every AWS example, as written. */
const AWS_EXAMPLES = readdirSync("examples", { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({ file: `examples/${entry.name}/landing-zone.yaml`, raw: parseYaml(readFileSync(`examples/${entry.name}/landing-zone.yaml`, "utf8")) as Record<string, unknown> }))
  .filter((example) => example.raw.cloud === "aws");

const shop = AWS_EXAMPLES.find((e) => e.file === "examples/shop/landing-zone.yaml")!.raw;
const iaas = AWS_EXAMPLES.find((e) => e.file === "examples/aws-iaas/landing-zone.yaml")!.raw;
const paas = AWS_EXAMPLES.find((e) => e.file === "examples/aws-paas/landing-zone.yaml")!.raw;
const services = (raw: Record<string, unknown>) => raw.services as Record<string, unknown>[];

/**
 * What the packs check: each AWS example as written (every tier) and in the other environment, and
 * specs that take the branches the examples do not (every option the other way, the other database
 * engines and broker, the auth service on VMs), so no spec a user can write meets an unreviewed rule.
 */
const CASES: readonly { readonly name: string; readonly raw: Record<string, unknown> }[] = [
  ...AWS_EXAMPLES.flatMap(({ file, raw }) => [
    { name: `${file} (${String(raw.environment)}, tier ${String(raw.tier)})`, raw },
    { name: `${file} (${raw.environment === "prod" ? "dev" : "prod"}, tier ${String(raw.tier)})`, raw: { ...raw, environment: raw.environment === "prod" ? "dev" : "prod" } },
  ]),
  {
    name: "caas with the auth service, GitHub Actions, a custom CDN domain, no WAF, no flow logs, no sessions, no log buffer",
    raw: {
      ...shop,
      network: { cidr: "10.0.0.0/16", zones: 3, flowLogs: false },
      gateway: { auth: "authorizer", waf: false },
      auth: { sessions: "none", service: "orders" },
      logging: { stack: "elk", buffer: "none", shipper: "fluent-bit" },
      monitoring: { alarmEmail: "ops@example.com" },
      pipelines: { perService: true, provider: "github-actions", repositoryOwner: "acme-shop" },
      frontends: { shell: "web", fragments: ["cart"], domainName: "shop.example.com", certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/12345678-1234-1234-1234-123456789012" },
    },
  },
  {
    name: "caas with MySQL, a document table and EventBridge",
    raw: {
      ...shop,
      messaging: { broker: "eventbridge" },
      services: services(shop).map((s) => (s.database ? { ...s, database: { engine: (s.database as { engine: string }).engine === "postgres" ? "mysql" : "document" } } : s)),
    },
  },
  {
    name: "iaas with per-service pipelines (native)",
    raw: { ...iaas, pipelines: { perService: true, provider: "native", repositoryOwner: "acme-shop" } },
  },
  {
    name: "iaas with per-service GitHub Actions delivery, dev",
    raw: { ...iaas, environment: "dev", pipelines: { perService: true, provider: "github-actions", repositoryOwner: "acme-shop" } },
  },
  {
    name: "paas with per-service pipelines (native)",
    raw: { ...paas, pipelines: { perService: true, provider: "native", repositoryOwner: "acme-shop" } },
  },
  {
    name: "paas with per-service GitHub Actions delivery, dev",
    raw: { ...paas, environment: "dev", pipelines: { perService: true, provider: "github-actions", repositoryOwner: "acme-shop" } },
  },
  {
    name: "iaas with the auth service, no service discovery, in us-east-1",
    raw: { ...iaas, region: "us-east-1", gateway: { auth: "authorizer", waf: true }, auth: { sessions: "redis", service: "orders" }, discovery: { enabled: false } },
  },
];

type Resource = { Type: string; Metadata?: { "aws:cdk:path"?: string; cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } };
interface Synthesized {
  /** Exit status and error output of `mlz synth`. */
  readonly status: number | null;
  readonly stderr: string;
  readonly findings: ComplianceFinding[];
  readonly acknowledged: AcknowledgedFinding[];
  /** Every resource of every template, by construct path. */
  readonly resources: Map<string, Resource>;
}

const scratch = mkdtempSync(join(tmpdir(), "mlz-compliance-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `mlz synth` in a child process, so a long synthesis never blocks the test worker. */
function mlzSynth(file: string, out: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node_modules/.bin/tsx", ["bin/mlz.ts", "synth", file, "--out", out]);
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

/** Synthesizes a spec with the real `mlz synth` (strict validation, both packs) and reads what it wrote. */
async function synthesize(raw: Record<string, unknown>): Promise<Synthesized> {
  const dir = mkdtempSync(join(scratch, "case-"));
  const file = join(dir, "landing-zone.yaml");
  writeFileSync(file, JSON.stringify(raw));
  const out = join(dir, "cdk.out");
  const { status, stderr } = await mlzSynth(file, out);
  const resources = new Map<string, Resource>();
  for (const template of existsSync(out) ? readdirSync(out).filter((f) => f.endsWith(".template.json")) : []) {
    for (const resource of Object.values((JSON.parse(readFileSync(join(out, template), "utf8")) as { Resources?: Record<string, Resource> }).Resources ?? {})) {
      const path = resource.Metadata?.["aws:cdk:path"];
      if (path) resources.set(path, resource);
    }
  }
  return { status, stderr, ...readValidationReport(out), resources };
}

/** Two syntheses at a time (the CI machine's two cores), started as the file loads; each case awaits its own. */
const pending: (() => void)[] = [];
let running = 0;
function limited<T>(task: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const start = () => {
      running++;
      task()
        .then(resolve, reject)
        .finally(() => {
          running--;
          pending.shift()?.();
        });
    };
    if (running < 2) start();
    else pending.push(start);
  });
}
const syntheses = new Map(CASES.map((c) => [c.name, limited(() => synthesize(c.raw))]));

const isNag = (id: string) => COMPLIANCE_PACKS.some((pack) => id.startsWith(`${pack}::`));
/** A rule id without its pack and its bracketed finding: `AwsSolutions::AwsSolutions-IAM5[Action::s3:*]` → `IAM5`. */
const family = (id: string) => id.replace(/^[^:]+::/, "").replace(/\[.*$/, "").replace(/^(AwsSolutions|NIST\.800\.53\.R5)-/, "");
const GENERIC_REASON = /^(n\/?a|none|todo|tbd|ok|fine|false positive|suppressed?|not (needed|required|applicable)|by design|accepted|intended)\.?$/i;

describe.each(CASES)("mlz synth with cdk-nag over $name", ({ name }) => {
  let synthesized: Synthesized;
  beforeAll(async () => {
    synthesized = await syntheses.get(name)!;
  }, 600_000);

  it("leaves no finding of either pack or of the CloudFormation validation unacknowledged", () => {
    // On failure, mlz synth's error lists every finding by rule id and construct path.
    expect(synthesized.status, synthesized.stderr).toBe(0);
    expect(synthesized.findings.map((f) => `${f.ruleId} (${f.severity}) at ${f.path}: ${f.description}`)).toEqual([]);
  });

  it("ran both packs, which found what the constructs acknowledge", () => {
    const plugins = new Set(synthesized.acknowledged.map((a) => a.plugin));
    for (const pack of COMPLIANCE_PACKS) expect(plugins, pack).toContain(pack);
  });

  it("acknowledges each finding on the resource or the construct that owns it, never on a stack", () => {
    const stacks = new Set([...synthesized.resources.keys()].map((path) => path.split("/").slice(0, 2).join("/")));
    for (const a of synthesized.acknowledged.filter((a) => isNag(a.acknowledgedId))) {
      expect(stacks.has(a.acknowledgedAt) || !a.acknowledgedAt.includes("/"), `${a.acknowledgedId} at ${a.acknowledgedAt}`).toBe(false);
      expect(a.path.startsWith(`${a.acknowledgedAt}/`) || a.path === a.acknowledgedAt, `${a.acknowledgedId}: ${a.path} under ${a.acknowledgedAt}`).toBe(true);
      // At most the owning construct's own resource and its policy (a role and its default policy).
      const covered = [...synthesized.resources].filter(([path, r]) => (path === a.acknowledgedAt || path.startsWith(`${a.acknowledgedAt}/`)) && r.Metadata?.cdk_nag?.rules_to_suppress.some((s) => s.id === a.acknowledgedId));
      expect(covered.length, `${a.acknowledgedId} at ${a.acknowledgedAt} covers ${covered.map(([p]) => p).join(", ")}`).toBeLessThanOrEqual(2);
    }
  });

  it("writes every acknowledgement, with its reason, into the resource's Metadata.cdk_nag", () => {
    const acknowledged = synthesized.acknowledged.filter((a) => isNag(a.acknowledgedId));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      const written = synthesized.resources.get(a.path)?.Metadata?.cdk_nag?.rules_to_suppress ?? [];
      expect(written, `${a.acknowledgedId} at ${a.path}`).toContainEqual({ id: a.acknowledgedId, reason: a.reason });
    }
  });

  it("gives every written acknowledgement a specific reason: 40 characters or more, no placeholder, none reused across unrelated rules", () => {
    const written = [...synthesized.resources].flatMap(([path, r]) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((rule) => ({ path, ...rule })));
    expect(written.length).toBeGreaterThan(0);
    const families = new Map<string, Set<string>>();
    for (const { path, id, reason } of written) {
      expect(typeof reason, `${id} at ${path}`).toBe("string");
      expect(reason.trim().length, `${id} at ${path}: "${reason}"`).toBeGreaterThanOrEqual(40);
      expect(reason, `${id} at ${path}`).not.toMatch(GENERIC_REASON);
      expect(reason, `${id} at ${path}: an unresolved token`).not.toMatch(/\$\{Token\[|\[object Object\]|undefined/);
      families.set(reason, (families.get(reason) ?? new Set()).add(family(id)));
    }
    // One reason may answer one finding that both packs report (AwsSolutions-S1 and NIST's S3BucketLoggingEnabled), no more.
    for (const [reason, ids] of families) expect([...ids], `reused reason: "${reason}"`).toHaveLength(Math.min(ids.size, 2));
  });
});

describe("the compliance checks on a construct that breaks the rules", () => {
  function badApp(acknowledge: boolean): { outdir: string; path: string } {
    const outdir = mkdtempSync(join(scratch, "bad-"));
    const app = new App({ outdir, context: { ...LANDING_ZONE_APP_CONTEXT, "@aws-cdk/core:failSynthOnValidationErrors": false } });
    const stack = new Stack(app, "Bad", { env: { account: "111111111111", region: "eu-west-1" } });
    // No access logs, no TLS-only policy, no versioning, no replication, no KMS key.
    const bucket = new s3.Bucket(stack, "Plain");
    if (acknowledge) Validations.of(bucket.node.defaultChild!).acknowledge({ id: "AwsSolutions::AwsSolutions-S1", reason: "A test bucket whose reads nobody audits; this acknowledgement must hide exactly S1." });
    addCompliancePacks(app);
    app.synth();
    return { outdir, path: (bucket.node.defaultChild as s3.CfnBucket).node.path };
  }

  it("reports it through both packs, with rule id and construct path, and fails the synthesis", () => {
    const { outdir, path } = badApp(false);
    const { findings } = readValidationReport(outdir);
    const rules = findings.filter((f) => f.path === path).map((f) => f.ruleId);
    expect(rules).toEqual(expect.arrayContaining(["AwsSolutions-S1", "AwsSolutions-S10", "NIST.800.53.R5-S3BucketLoggingEnabled", "NIST.800.53.R5-S3BucketSSLRequestsOnly", "NIST.800.53.R5-S3BucketVersioningEnabled", "NIST.800.53.R5-S3DefaultEncryptionKMS"]));
    expect(() => assertCompliant(outdir)).toThrow(ComplianceError);
    expect(() => assertCompliant(outdir)).toThrow(new RegExp(`AwsSolutions-S10 \\(error\\) at ${path}`));
  });

  it("hides exactly the acknowledged finding, and writes it with its reason into the template", () => {
    const { outdir, path } = badApp(true);
    const { findings, acknowledged } = readValidationReport(outdir);
    const rules = findings.filter((f) => f.path === path).map((f) => f.ruleId);
    expect(rules).not.toContain("AwsSolutions-S1");
    expect(rules).toContain("AwsSolutions-S10");
    expect(acknowledged.filter((a) => a.path === path).map((a) => [a.ruleId, a.acknowledgedId])).toEqual([["AwsSolutions-S1", "AwsSolutions::AwsSolutions-S1"]]);
    const template = JSON.parse(readFileSync(join(outdir, "Bad.template.json"), "utf8")) as { Resources: Record<string, Resource> };
    const written = Object.values(template.Resources).find((r) => r.Type === "AWS::S3::Bucket")!.Metadata?.cdk_nag?.rules_to_suppress;
    expect(written).toEqual([{ id: "AwsSolutions::AwsSolutions-S1", reason: "A test bucket whose reads nobody audits; this acknowledgement must hide exactly S1." }]);
  });
});
