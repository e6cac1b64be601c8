import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Each entry point is loaded in a fresh child process with a module-load hook (`module.register`,
 * resolve hook) that records every module URL the ESM loader resolves, plus the CommonJS modules in
 * `require.cache` at the end, so a package loaded only through another package's `require` counts
 * too. The assertions name packages, so an engine import added anywhere below an entry point fails.
 */

// The hook runs on the loader thread; it reports each resolved URL over a port and answers "flush"
// once every earlier report is on its way, so the child knows it has them all.
const HOOKS = `
let port;
export function initialize(data) {
  port = data.port;
  port.on("message", (m) => { if (m === "flush") port.postMessage({ flushed: true }); });
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage({ url: result.url });
  return result;
}`;

/** The child: registers the hook, runs `body` (which imports the entry point), prints the packages loaded. */
function childSource(body: string): string {
  return `
import { createRequire, register } from "node:module";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const urls = [];
let flushed;
const done = new Promise((resolve) => (flushed = resolve));
port1.on("message", (m) => (m.flushed ? flushed() : urls.push(m.url)));
register("data:text/javascript,${encodeURIComponent(HOOKS)}", { data: { port: port2 }, transferList: [port2] });
${body}
port1.postMessage("flush");
await done;
port1.close();
const files = [...urls, ...Object.keys(createRequire(import.meta.url).cache)];
process.stdout.write(JSON.stringify(files.map((f) => decodeURIComponent(f))));
`;
}

const moduleUrl = (path: string) => JSON.stringify(pathToFileURL(resolve(path)).href);

/** Runs `body` in a child with the recorder; returns the module files (URLs or paths) it loaded. */
async function filesLoadedBy(body: string): Promise<string[]> {
  // Asynchronous, so the test worker keeps answering vitest while the child loads an engine.
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", childSource(body)], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
  });
  return JSON.parse(stdout) as string[];
}

/** The npm packages among `files`. */
function packagesOf(files: readonly string[]): string[] {
  return [...new Set(files.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1] ?? []))].sort();
}

const packagesLoadedBy = async (body: string) => packagesOf(await filesLoadedBy(body));

const pulumiPackages = (packages: readonly string[]) => packages.filter((p) => p.startsWith("@pulumi/"));

describe("entry points load only their own engine", () => {
  it("the spec + plan root (lib/index.ts) loads neither aws-cdk-lib nor any @pulumi package", async () => {
    const packages = await packagesLoadedBy(`await import(${moduleUrl("lib/index.ts")});`);
    expect(packages).toContain("zod");
    expect(packages).not.toContain("aws-cdk-lib");
    expect(packages).not.toContain("constructs");
    expect(pulumiPackages(packages)).toEqual([]);
  });

  it("the CDK entry point (lib/cdk/index.ts) loads aws-cdk-lib and no @pulumi package", async () => {
    const packages = await packagesLoadedBy(`await import(${moduleUrl("lib/cdk/index.ts")});`);
    expect(packages).toContain("aws-cdk-lib");
    expect(pulumiPackages(packages)).toEqual([]);
  });

  it("the Pulumi AWS entry point (lib/pulumi/aws/index.ts) loads @pulumi/aws and neither aws-cdk-lib nor another cloud", async () => {
    const packages = await packagesLoadedBy(`await import(${moduleUrl("lib/pulumi/aws/index.ts")});`);
    expect(packages).toContain("@pulumi/aws");
    expect(packages).not.toContain("aws-cdk-lib");
    expect(packages).not.toContain("@pulumi/azure-native");
    expect(packages).not.toContain("@pulumi/gcp");
  });

  it("the manifest builders (lib/kubernetes/index.ts) load each kubernetes-models kind on its own, never an API group's barrel", async () => {
    const files = await filesLoadedBy(`await import(${moduleUrl("lib/kubernetes/index.ts")});`);
    const kinds = files.filter((f) => /node_modules\/(@kubernetes-models\/(istio|argo-cd|cert-manager|cloudnative-pg|strimzi-kafka-operator)|kubernetes-models)\//.test(f));
    for (const kind of ["kubernetes-models/apps/v1/Deployment.js", "cert-manager/cert-manager.io/v1/Certificate.js", "strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaUser.js"]) {
      expect(kinds.some((f) => f.endsWith(kind)), kind).toBe(true);
    }
    // A group barrel (kubernetes-models/v1/index.js, ...) loads every kind of the group: ~300 ms and ~20 MiB per process.
    expect(kinds.filter((f) => /\/index\.js$/.test(f))).toEqual([]);
  });

  it("compliance packs without checks load no cdk-nag rule; with checks, both packs' rules", async () => {
    const rulesLoadedWith = async (check: boolean) =>
      (
        await filesLoadedBy(`
const { App } = await import("aws-cdk-lib");
const { addCompliancePacks } = await import(${moduleUrl("lib/cdk/compliance.ts")});
addCompliancePacks(new App(), { check: ${check} });
`)
      ).filter((f) => /node_modules\/cdk-nag\/lib\/(packs|rules)\//.test(f));
    // Every synthesis without checks (mlz synth --no-validate, the bench) would otherwise pay ~150 ms loading ~270 rule modules.
    expect(await rulesLoadedWith(false)).toEqual([]);
    const withChecks = await rulesLoadedWith(true);
    expect(withChecks.some((f) => f.endsWith("cdk-nag/lib/packs/aws-solutions.js"))).toBe(true);
    expect(withChecks.some((f) => f.endsWith("cdk-nag/lib/packs/nist-800-53-r5.js"))).toBe(true);
  });

  it("createLandingZone for an AWS spec, run under mocks, loads @pulumi/aws and neither aws-cdk-lib nor another cloud", async () => {
    const spec = {
      name: "shop",
      cloud: "aws",
      environment: "dev",
      tracing: { backend: "none" },
      monitoring: { dashboards: false, alarms: false },
      pipelines: { perService: false },
      services: [{ name: "orders", publishes: ["order-placed"] }, { name: "payments", subscribes: ["order-placed"] }],
    };
    const packages = await packagesLoadedBy(`
const { runProgram } = await import(${moduleUrl("test/pulumi/harness.ts")});
const { createLandingZone } = await import(${moduleUrl("lib/pulumi/index.ts")});
const { resources } = await runProgram(async () => { await createLandingZone("shop", { spec: ${JSON.stringify(spec)} }); });
if (!resources.some((r) => r.type === "msa:aws:LandingZone")) throw new Error("no msa:aws:LandingZone was registered");
`);
    expect(packages).toContain("@pulumi/aws");
    expect(packages).not.toContain("aws-cdk-lib");
    expect(packages).not.toContain("@pulumi/azure-native");
    expect(packages).not.toContain("@pulumi/gcp");
  });
});
