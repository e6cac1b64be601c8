import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand, type CommandResult } from "../command.js";

/**
 * The package as a consumer gets it: `npm pack` (what `files` and `exports` publish), unpacked into a
 * fresh project's node_modules beside this repository's dependencies (the peers a consumer brings),
 * then a CDK file and a Pulumi file that import constructs through the public subpaths, type-checked
 * with the consumer's own strict NodeNext settings and run.
 */
const root = resolve(".");
const consumer = mkdtempSync(join(tmpdir(), "mlz-consumer-"));
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

const CDK_FILE = `import { App, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { SessionStore, Network } from "msa-landing-zone/cdk";
import { planLandingZone } from "msa-landing-zone";

const plan = planLandingZone({ name: "consumer", region: "eu-west-1" });
const app = new App();
const stack = new Stack(app, "Existing", { env: { account: "111111111111", region: plan.region } });
const network = new Network(stack, "Network", { availabilityZones: [...plan.network.availabilityZones] });
const apps = new ec2.SecurityGroup(stack, "Apps", { vpc: network.vpc });
const sessions = new SessionStore(stack, "Sessions", { vpc: network.vpc, allowFrom: [apps] });
const endpoint: string = sessions.endpoint;
const template = app.synth().getStackByName("Existing").template as { Resources: Record<string, { Type: string }> };
console.log(JSON.stringify({ endpoint: typeof endpoint, types: [...new Set(Object.values(template.Resources).map((r) => r.Type))] }));
`;

const PULUMI_FILE = `import type * as pulumi from "@pulumi/pulumi";
import { SessionStore } from "msa-landing-zone/pulumi/aws";
import { createLandingZone } from "msa-landing-zone/pulumi";

export function sessions(): pulumi.Output<string> {
  return new SessionStore("sessions", { vpcId: "vpc-0123", subnetIds: ["subnet-a", "subnet-b"], allowedSecurityGroupIds: ["sg-app"] }).endpoint;
}
export const zone: typeof createLandingZone = createLandingZone;
`;

/** The command's stdout, or a thrown error with its output when it fails. */
async function succeed(command: string, args: readonly string[], cwd?: string): Promise<string> {
  const result: CommandResult = await runCommand(command, args, cwd ? { cwd } : {});
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

beforeAll(async () => {
  await succeed("npm", ["run", "build"], root);
  // --ignore-scripts: prepack would build a second time.
  const tarball = (await succeed("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", consumer], root)).trim().split("\n").pop()!;
  const modules = join(consumer, "node_modules");
  mkdirSync(join(modules, "msa-landing-zone"), { recursive: true });
  await succeed("tar", ["-xzf", join(consumer, tarball), "-C", join(modules, "msa-landing-zone"), "--strip-components=1"]);
  for (const entry of readdirSync(join(root, "node_modules"))) {
    if (entry !== "msa-landing-zone" && !entry.startsWith(".")) symlinkSync(join(root, "node_modules", entry), join(modules, entry));
  }
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, outDir: "out", types: ["node"] }, include: ["*.ts"] }),
  );
  writeFileSync(join(consumer, "cdk-app.ts"), CDK_FILE);
  writeFileSync(join(consumer, "pulumi-program.ts"), PULUMI_FILE);
}, 180_000);

describe("the packed package in a consumer project", () => {
  it("publishes the built entry points, the schema and the examples, and no sources or tests", async () => {
    const files = (await succeed("tar", ["-tzf", join(consumer, readdirSync(consumer).find((f) => f.endsWith(".tgz"))!)])).split("\n");
    expect(files).toEqual(expect.arrayContaining(["package/dist/lib/cdk/index.js", "package/dist/lib/cdk/index.d.ts", "package/dist/lib/pulumi/aws/index.js", "package/schema/landing-zone.schema.json", "package/examples/shop/landing-zone.yaml"]));
    expect(files.some((f) => f.startsWith("package/test/") || (f.startsWith("package/lib/") && f.endsWith(".ts")))).toBe(false);
  });

  it("type-checks a CDK app and a Pulumi program importing constructs through /cdk and /pulumi/aws", async () => {
    const tsc = await runCommand(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], { cwd: consumer });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  });

  it("runs the compiled CDK app: the constructs synthesize from the installed package", async () => {
    const result = await runCommand(process.execPath, ["out/cdk-app.js"], { cwd: consumer });
    expect(result.status, result.stderr).toBe(0);
    const { endpoint, types } = JSON.parse(result.stdout) as { endpoint: string; types: string[] };
    expect(endpoint).toBe("string");
    expect(types).toEqual(expect.arrayContaining(["AWS::EC2::VPC", "AWS::ElastiCache::ReplicationGroup", "AWS::SecretsManager::Secret"]));
  });

  it("runs the mlz binary of the package", async () => {
    const bin = (JSON.parse(readFileSync(join(consumer, "node_modules/msa-landing-zone/package.json"), "utf8")) as { bin: Record<string, string> }).bin["mlz"]!;
    const result = await runCommand(process.execPath, [join(consumer, "node_modules/msa-landing-zone", bin), "validate", join(root, "examples/shop/landing-zone.yaml")]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("valid (aws/caas, prod");
  });
});
