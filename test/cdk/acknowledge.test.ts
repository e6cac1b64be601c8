import { App, Stack, Validations, aws_sqs as sqs } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { acknowledge, addCompliancePacks } from "../../lib/cdk/compliance.js";

const ACKNOWLEDGED = "aws:cdk:acknowledged-rules";
const rule = { id: "AwsSolutions::AwsSolutions-SQS3", reason: "The queue is itself a dead-letter queue, so it has none of its own." };

function queueIn(context: Record<string, unknown>) {
  const app = new App({ context: { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true, ...context } });
  const stack = new Stack(app, "Queues");
  return { app, stack, queue: new sqs.Queue(stack, "DeadLetters", { enforceSSL: true }) };
}

describe("acknowledge", () => {
  it("records the acknowledgement without a call stack when the app turns stack traces off, and restores Error.stackTraceLimit", () => {
    const { queue } = queueIn({ "aws:cdk:disable-stack-trace": true });
    const limit = Error.stackTraceLimit;
    acknowledge(queue, rule);
    expect(Error.stackTraceLimit).toBe(limit);
    const entries = queue.node.metadata.filter((m) => m.type === ACKNOWLEDGED);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.data).toEqual({ [rule.id]: rule.reason });
    // CDK's one-line note for an empty capture, instead of the frames.
    expect(entries[0]!.trace).toEqual([expect.stringContaining("no user code in 0 frames")]);
  });

  it("records the same entry as Validations.acknowledge, call stack included, when stack traces are on", () => {
    const ours = queueIn({}).queue;
    const cdks = queueIn({}).queue;
    acknowledge(ours, rule);
    Validations.of(cdks).acknowledge(rule);
    const entryOf = (q: sqs.Queue) => q.node.metadata.find((m) => m.type === ACKNOWLEDGED)!;
    expect(entryOf(ours).data).toEqual(entryOf(cdks).data);
    expect(entryOf(ours).trace?.join("\n")).toContain("acknowledge.test.ts");
  });

  it("still writes the acknowledgement, with its reason, into the resource's Metadata.cdk_nag", () => {
    const { app, stack, queue } = queueIn({ "aws:cdk:disable-stack-trace": true });
    acknowledge(queue.node.defaultChild!, rule);
    addCompliancePacks(app, { check: false });
    const [resource] = Object.values(Template.fromStack(stack).findResources("AWS::SQS::Queue")) as { Metadata?: { cdk_nag?: { rules_to_suppress?: unknown[] } } }[];
    expect(resource!.Metadata?.cdk_nag?.rules_to_suppress).toEqual([rule]);
  });
});
