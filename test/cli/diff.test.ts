import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mlz } from "./mlz-binary.js";
import { parse, stringify } from "yaml";
import { diffTemplates, renderDiff } from "../../lib/cli/diff.js";

const EXAMPLE = "examples/shop/landing-zone.yaml";
const scratch = mkdtempSync(join(tmpdir(), "mlz-diff-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Spec = Record<string, unknown> & { services: Record<string, unknown>[]; network: Record<string, unknown> };

/** The example spec changed by `edit`, written to a scratch file. */
function variant(name: string, edit: (spec: Spec) => void): string {
  const spec = parse(readFileSync(EXAMPLE, "utf8")) as Spec;
  edit(spec);
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, stringify(spec));
  return file;
}


describe("mlz diff (the real binary)", () => {
  it("reports only the changed service's stack for a configuration change, with no data loss, and exits 0", async () => {
    const changed = variant("config", (spec) => {
      spec.services.find((s) => s["name"] === "payments")!["config"] = { PROVIDER: "acme" };
    });
    const run = await mlz("diff", EXAMPLE, changed, "--json");
    expect(run.code, run.stderr).toBe(0);
    const diff = JSON.parse(run.stdout) as { stacks: { stackName: string; change: string }[]; destructive: unknown[] };
    expect(diff.stacks.map((s) => s.stackName)).toEqual(["shop-prod-svc-payments"]);
    expect(diff.destructive).toEqual([]);
  });

  it("detects a queue with messages deleted in dev, lists it as data loss and exits 2", async () => {
    const dev = (spec: Spec) => {
      spec["environment"] = "dev";
    };
    const before = variant("dev", dev);
    const after = variant("dev-unsubscribed", (spec) => {
      dev(spec);
      const payments = spec.services.find((s) => s["name"] === "payments")!;
      payments["subscribes"] = [];
    });
    const run = await mlz("diff", before, after);
    expect(run.code, run.stderr).toBe(2);
    // The queue is payments' own, in its stack.
    expect(run.stdout).toMatch(/shop-dev-svc-payments +remove +Subscriptions\S*Queue\S* +AWS::SQS::Queue +DATA LOSS/i);
    expect(run.stdout).toContain("would be replaced or deleted, losing data: shop-dev-svc-payments/Subscriptions");
  });

  it("shows the same change in prod as retained, not lost, and exits 0", async () => {
    const after = variant("unsubscribed", (spec) => {
      spec.services.find((s) => s["name"] === "payments")!["subscribes"] = [];
    });
    const run = await mlz("diff", EXAMPLE, after);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/shop-prod-svc-payments +orphan +Subscriptions\S*Queue\S* +AWS::SQS::Queue +kept \(retained\)/i);
    expect(run.stdout).toContain("No stateful resource is replaced or deleted.");
  });

  it("follows a replacement into the stacks that read it: a new network range replaces the platform's security groups", async () => {
    const changed = variant("cidr", (spec) => {
      spec.network["cidr"] = "10.1.0.0/16";
    });
    const run = await mlz("diff", EXAMPLE, changed, "--json");
    const diff = JSON.parse(run.stdout) as { stacks: { stackName: string; resources: { type: string; change: string }[] }[] };
    const platform = diff.stacks.find((s) => s.stackName === "shop-prod-platform")!;
    expect(platform.resources).toEqual(expect.arrayContaining([{ logicalId: expect.any(String), type: "AWS::EC2::SecurityGroup", change: "replace", stateful: false }]));
  });


  it("rejects an invalid spec with its problems and no stack trace", async () => {
    const run = await mlz("diff", EXAMPLE, "test/fixtures/invalid.yaml");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Invalid landing-zone spec test/fixtures/invalid.yaml");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("diffTemplates", () => {
  it("says so when nothing changes", async () => {
    const same = new Map([["s", { Resources: { Q: { Type: "AWS::SQS::Queue", Properties: { QueueName: "a" } } } }]]);
    const diff = await diffTemplates(same, same);
    expect(diff).toEqual({ stacks: [], destructive: [] });
    expect(renderDiff(diff)).toBe("No changes: every stack's template is the same.");
  });

  const queue = { Type: "AWS::SQS::Queue", Properties: { QueueName: "a" } };
  it("treats a removed queue as data loss, a retained one as orphaned, and a new one as harmless", async () => {
    const removed = await diffTemplates(new Map([["s", { Resources: { Q: queue } }]]), new Map([["s", { Resources: {} }]]));
    expect(removed.destructive).toMatchObject([{ stackName: "s", logicalId: "Q", change: "remove", stateful: true }]);
    const orphaned = await diffTemplates(new Map([["s", { Resources: { Q: { ...queue, DeletionPolicy: "Retain" } } }]]), new Map([["s", { Resources: {} }]]));
    expect(orphaned.stacks[0]!.resources).toMatchObject([{ logicalId: "Q", change: "orphan", stateful: true }]);
    expect(orphaned.destructive).toEqual([]);
    const added = await diffTemplates(new Map([["s", { Resources: {} }]]), new Map([["s", { Resources: { Q: queue } }]]));
    expect(added.stacks).toMatchObject([{ stackName: "s", change: "update", resources: [{ change: "add" }] }]);
    expect(added.destructive).toEqual([]);
  });

  it("carries a replacement through an SSM parameter to the stack that reads it", async () => {
    const producer = (name: string) => ({
      Resources: { Q: { ...queue, Properties: { QueueName: name } }, P: { Type: "AWS::SSM::Parameter", Properties: { Name: "/q", Type: "String", Value: { "Fn::GetAtt": ["Q", "Arn"] } } } },
    });
    const consumer = {
      Parameters: { QueueArn: { Type: "AWS::SSM::Parameter::Value<String>", Default: "/q" } },
      Resources: { Mapping: { Type: "AWS::Lambda::EventSourceMapping", Properties: { EventSourceArn: { Ref: "QueueArn" }, FunctionName: "f" } } },
    };
    const diff = await diffTemplates(
      new Map<string, object>([["producer", producer("a")], ["consumer", consumer]]),
      new Map<string, object>([["producer", producer("b")], ["consumer", consumer]]),
    );
    expect(diff.stacks.map((s) => s.stackName)).toEqual(["consumer", "producer"]);
    expect(diff.stacks[0]!.resources).toMatchObject([{ logicalId: "Mapping", change: "replace", stateful: false }]);
  });

  it("flags a replaced queue (a new name) as data loss", async () => {
    const diff = await diffTemplates(new Map([["s", { Resources: { Q: queue } }]]), new Map([["s", { Resources: { Q: { ...queue, Properties: { QueueName: "b" } } } }]]));
    expect(diff.destructive).toMatchObject([{ logicalId: "Q", change: "replace" }]);
  });
});
