/** What the hosted tiers' delivery tests share: the delivery stacks synthesized on their own, and readers of their templates. */
import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { pascalCase, stackName } from "../../lib/plan/naming.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";
import { DeliveryStack } from "../../stacks/delivery-stack.js";
import { ServiceDeliveryStack } from "../../stacks/service-delivery-stack.js";
import { ServiceStack } from "../../stacks/service-stack.js";

export const CDK_CONTEXT = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> }).context;

export type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string };
export interface CfnTemplate {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
}

/** The delivery stacks and the orders service's stack on their own, strictly validated. */
export function synthDelivery(spec: LandingZoneSpec): Map<string, CfnTemplate> {
  const plan = planLandingZone(spec, { engine: "cdk" });
  const app = new App({ context: CDK_CONTEXT, builtinCloudFormationValidation: true });
  const env = { account: "111111111111", region: plan.region };
  const name = (part: string) => stackName(plan.name, plan.environment, part);
  if (DeliveryStack.isNeeded(plan)) new DeliveryStack(app, "Delivery", { plan, env, stackName: name("delivery") });
  for (const service of plan.services) new ServiceDeliveryStack(app, `Delivery${pascalCase(service.name)}`, { plan, env, stackName: name(`delivery-${service.name}`), serviceName: service.name });
  new ServiceStack(app, "SvcOrders", { plan, env, stackName: name("svc-orders"), serviceName: "orders" });
  return new Map(app.synth().stacks.map((stack) => [stack.stackName, stack.template as CfnTemplate]));
}

export const ofType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
export const policiesOf = (t: CfnTemplate, roleId: string) =>
  ofType(t, "AWS::IAM::Policy")
    .filter(([, p]) => JSON.stringify(p.Properties!.Roles ?? []).includes(roleId))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
export const deployProjectOf = (t: CfnTemplate, service: string, env: string) => ofType(t, "AWS::CodeBuild::Project").find(([, p]) => p.Properties!.Name === `shop-${env}-${service}-deploy`)![1];
export const environmentOf = (project: Resource) =>
  Object.fromEntries((project.Properties!.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] }).EnvironmentVariables.map((v) => [v.Name, v.Value]));
export const roleIdOf = (project: Resource) => (project.Properties!.ServiceRole as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]!;
export const buildSpecOf = (project: Resource) => String((project.Properties!.Source as { BuildSpec: string }).BuildSpec);
