import { App, Stack, aws_ssm as ssm } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { CLOUDFORMATION_LIMITS, TemplateLimitsSynthesizer, templateLimitProblems, templateUsage } from "../../lib/cdk/template-limits.js";
import { MAX_RULES_PER_LOAD_BALANCER } from "../../lib/plan/load-balancers.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";

interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Parameters?: Record<string, { Default?: string }>;
  Outputs?: Record<string, unknown>;
}

describe("templateLimitProblems", () => {
  const usage = { resources: 10, outputs: 0, parameters: 3, dynamicReferences: 1, templateBytes: 2_000, imports: 0 };

  it("reports a limit reached at 80%, naming the stack, the count, the limit and the fix", () => {
    expect(templateLimitProblems("shop-prod-platform", usage)).toEqual([]);
    expect(templateLimitProblems("shop-prod-platform", { ...usage, resources: 399 })).toEqual([]);
    expect(templateLimitProblems("shop-prod-platform", { ...usage, resources: 400, dynamicReferences: 48 })).toEqual([
      "shop-prod-platform: 400 resources reach 80% of CloudFormation's limit of 500. Fix: move per-service resources into the services' own stacks, or split the shared part that grew into a stack of its own",
      "shop-prod-platform: 48 dynamicReferences reach 80% of CloudFormation's limit of 60. Fix: reference fewer secrets in this stack: give each service its secrets in its own stack",
    ]);
    expect(templateLimitProblems("x", { ...usage, templateBytes: 800_000 })[0]).toMatch(/800000 templateBytes reach 80% of CloudFormation's limit of 1000000/);
  });

  it("refuses an imported export only where imports are forbidden", () => {
    expect(templateLimitProblems("svc", { ...usage, imports: 1 })).toEqual([]);
    expect(templateLimitProblems("svc", { ...usage, imports: 1 }, { forbidImports: true })).toEqual([
      "svc: imports 1 CloudFormation export(s), which would pin the exporting stack. Fix: read the value from its SSM parameter",
    ]);
  });

  it("measures a template's text", () => {
    const text = JSON.stringify({ Resources: { A: {}, B: { P: "{{resolve:secretsmanager:x}}", Q: { "Fn::ImportValue": "e" } } }, Outputs: { O: {} } });
    expect(templateUsage(text)).toEqual({ resources: 2, outputs: 1, parameters: 0, dynamicReferences: 1, templateBytes: text.length, imports: 1 });
  });
});

describe("TemplateLimitsSynthesizer", () => {
  const stackWith = (parameters: number) => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, "Crowded", { synthesizer: new TemplateLimitsSynthesizer() });
    for (let i = 0; i < parameters; i++) new ssm.StringParameter(stack, `P${i}`, { stringValue: String(i) });
    return app;
  };

  it("fails synthesis at 80% of a limit with the stack, the count and the fix", () => {
    expect(() => stackWith(398).synth()).not.toThrow();
    // Plus the bootstrap-version rule's parameter: 400 resources.
    expect(() => stackWith(400).synth()).toThrow(/Template over CloudFormation's limits:\n {2}- Crowded: 400 resources reach 80% of CloudFormation's limit of 500\. Fix: move per-service resources/);
  });
});

/**
 * 200 services per tier. CDK's built-in CloudFormation schema validation is off here
 * (`builtinCloudFormationValidation: false`): it grows superlinearly with the number of stacks and
 * adds minutes, while this test is about sizes, which the library checks itself on every synth.
 */
describe("a landing zone of 200 services", () => {
  const base = loadSpecFile("examples/aws-iaas/landing-zone.yaml");
  const services = Array.from({ length: 200 }, (_, i) => ({
    ...base.services[0]!,
    name: `svc-${i}`,
    path: `/svc-${i}`,
    secrets: ["API_KEY"],
    config: { FEATURE: `f${i}` },
    publishes: i % 10 === 0 ? [`event-${i}`] : [],
    subscribes: i % 10 === 1 ? [`event-${i - 1}`] : [],
  }));

  it.each(["iaas", "caas", "paas"] as const)("stays inside every CloudFormation limit on %s, its gateway rules split under the listener quota", (tier) => {
    const spec: LandingZoneSpec = { ...base, tier, mesh: { ...base.mesh, kind: tier === "caas" ? "istio" : "none" }, bffs: [], services };
    const app = new App({ builtinCloudFormationValidation: false });
    const zone = new LandingZone(app, "Big", { spec, account: "111111111111" });
    const stacks = app.synth().stacks;
    // Four shared stacks, and per service its delivery stack (registry) and its own stack.
    expect(stacks).toHaveLength(404);
    for (const stack of stacks) {
      const text = JSON.stringify(stack.template);
      const template = stack.template as CfnTemplate;
      expect(Object.keys(template.Resources).length, stack.stackName).toBeLessThan(CLOUDFORMATION_LIMITS.resources);
      expect(Object.keys(template.Outputs ?? {}).length, stack.stackName).toBeLessThan(CLOUDFORMATION_LIMITS.outputs);
      expect(Object.keys(template.Parameters ?? {}).length, stack.stackName).toBeLessThan(CLOUDFORMATION_LIMITS.parameters);
      expect((text.match(/\{\{resolve:/g) ?? []).length, stack.stackName).toBeLessThanOrEqual(CLOUDFORMATION_LIMITS.dynamicReferences);
      expect(text.length, stack.stackName).toBeLessThan(CLOUDFORMATION_LIMITS.templateBytes);
      if (stack.stackName.includes("-svc-")) expect(text, stack.stackName).not.toContain("Fn::ImportValue");
    }

    // Routes are spread over load balancers so none holds more rules than the planner's quota; on paas
    // each environment's host rule counts beside its path rule, so a load balancer takes half as many.
    const perLoadBalancerRoutes = tier === "paas" ? [45, 45, 45, 45, 20] : [MAX_RULES_PER_LOAD_BALANCER, MAX_RULES_PER_LOAD_BALANCER, 20];
    expect(zone.plan.gateway.loadBalancers.map((lb) => lb.routes.length)).toEqual(perLoadBalancerRoutes);
    const perLoadBalancer = new Map<string, number>();
    for (const stack of stacks.filter((s) => s.stackName.includes("-svc-"))) {
      const template = stack.template as CfnTemplate;
      const parameterName = (value: unknown) => template.Parameters![(value as { Ref: string }).Ref]!.Default!;
      const attachments =
        tier === "paas"
          ? // Beanstalk's host rule and the bundle's path rule per environment, on the shared load balancer it names.
            Object.values(template.Resources)
              .filter((r) => r.Type === "AWS::ElasticBeanstalk::Environment")
              .flatMap((r) => {
                const name = parameterName((r.Properties!.OptionSettings as { OptionName: string; Value: unknown }[]).find((o) => o.OptionName === "SharedLoadBalancer")!.Value);
                return [name, name];
              })
          : Object.values(template.Resources)
              .filter((r) => r.Type === "AWS::ElasticLoadBalancingV2::ListenerRule")
              .map((r) => parameterName(r.Properties!.ListenerArn));
      for (const name of attachments) perLoadBalancer.set(name, (perLoadBalancer.get(name) ?? 0) + 1);
    }
    expect(perLoadBalancer.size).toBe(perLoadBalancerRoutes.length);
    for (const [listener, rules] of perLoadBalancer) expect(rules, listener).toBeLessThanOrEqual(MAX_RULES_PER_LOAD_BALANCER);
  }, 180_000);
});
