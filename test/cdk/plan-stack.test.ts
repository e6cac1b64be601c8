import { App, Fn, Stack, aws_sqs as sqs } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../lib/plan/planner.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { PlanStack } from "../../stacks/plan-stack.js";

class ProbeStack extends PlanStack {}

const plan = planLandingZone(loadSpecFile("examples/shop/landing-zone.yaml"), { engine: "cdk" });

function queueAndReader(stack: Stack) {
  const queue = new sqs.CfnQueue(stack, "Queue");
  new sqs.CfnQueuePolicy(stack, "Policy", { queues: [queue.ref], policyDocument: { Statement: [{ Resource: Fn.getAtt(queue.logicalId, "Arn").toString() }] } });
  return queue;
}

describe("PlanStack logical IDs (computed once per element)", () => {
  it("are CDK's own: the same path gives the same ID as in a plain Stack", () => {
    const app = new App();
    const ours = new ProbeStack(app, "Ours", { plan });
    const plain = new Stack(app, "Plain");
    const [a, b] = [queueAndReader(ours), queueAndReader(plain)];
    expect(ours.getLogicalId(a)).toBe(plain.getLogicalId(b));
    expect(ours.getLogicalId(a)).toBe(ours.getLogicalId(a));
    expect(Object.keys(Template.fromStack(ours).toJSON().Resources)).toEqual(Object.keys(Template.fromStack(plain).toJSON().Resources));
  });

  it("still honour a rename or an override made after the ID was first read, in the element and in its references", () => {
    const app = new App();
    const stack = new ProbeStack(app, "Ours", { plan });
    const renamed = queueAndReader(stack);
    const overridden = new sqs.CfnQueue(stack, "Other");
    stack.renameLogicalId(stack.getLogicalId(renamed), "Orders");
    void stack.resolve(overridden.logicalId);
    overridden.overrideLogicalId("Payments");
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources("AWS::SQS::Queue")).sort()).toEqual(["Orders", "Payments"]);
    template.hasResourceProperties("AWS::SQS::QueuePolicy", { Queues: [{ Ref: "Orders" }], PolicyDocument: { Statement: [{ Resource: { "Fn::GetAtt": ["Orders", "Arn"] } }] } });
  });
});
