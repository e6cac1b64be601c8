import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";

type Resource = { Type: string; Properties: Record<string, unknown>; UpdatePolicy?: { AutoScalingRollingUpdate?: Record<string, unknown> } };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type OptionSetting = { Namespace: string; OptionName: string; Value: unknown };

/** examples/shop (databases, an event store, a read model, an orchestrated saga) on a hosted tier, with a fixed fleet size: replicas.min == replicas.max. */
function synth(tier: "iaas" | "paas"): { templates: Map<string, { Resources: Record<string, Resource> }>; directory: string } {
  const shop = loadSpecFile("examples/shop/landing-zone.yaml");
  const spec: LandingZoneSpec = { ...shop, tier, mesh: { ...shop.mesh, kind: "none" }, services: shop.services.map((s) => ({ ...s, replicas: { min: 2, max: 2 } })) };
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), `msa-hosted-env-${tier}-`)) });
  new LandingZone(app, "Shop", { spec, account: "111111111111" });
  const assembly = app.synth();
  return { templates: new Map(assembly.stacks.map((s) => [s.stackName, s.template])), directory: assembly.directory };
}

const resources = (template: { Resources: Record<string, Resource> }, type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
const statements = (template: { Resources: Record<string, Resource> }) =>
  resources(template, "AWS::IAM::Policy").flatMap((p) => (p.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement);
const actions = (template: { Resources: Record<string, Resource> }) => statements(template).flatMap((s) => ([] as string[]).concat(s.Action));

describe("a Beanstalk service's environment, as the CDK app deploys it (examples/shop on paas)", () => {
  let templates: Map<string, { Resources: Record<string, Resource> }>;
  let directory: string;
  beforeAll(() => {
    ({ templates, directory } = synth("paas"));
  });
  const orders = () => templates.get("shop-prod-svc-orders")!;
  const options = () => resources(orders(), "AWS::ElasticBeanstalk::Environment")[0]!.Properties["OptionSettings"] as OptionSetting[];
  /** The compose file of the bundle the environment's version points at, from the asset staged in the cloud assembly. */
  const compose = () => {
    const version = resources(orders(), "AWS::ElasticBeanstalk::ApplicationVersion")[0]!;
    const key = (version.Properties["SourceBundle"] as { S3Key: string }).S3Key;
    const file = readFileSync(join(directory, `asset.${key.replace(/\.zip$/, "")}`, "docker-compose.yml"), "utf8");
    return parse(file) as { services: Record<string, { environment: Record<string, string> }> };
  };

  it("hands the container every environment property the service is given, its database and saga included", () => {
    const app = compose().services["app"]!.environment;
    const given = options()
      .filter((o) => o.Namespace === "aws:elasticbeanstalk:application:environment" || o.Namespace === "aws:elasticbeanstalk:application:environmentsecrets")
      .map((o) => o.OptionName);
    expect(given).toEqual(expect.arrayContaining(["DATABASE_HOST", "DATABASE_SECRET_ARN", "SAGA_PLACE_ORDER_STATE_MACHINE_ARN", "SAGA_PLACE_ORDER_COMMAND_QUEUE_URL"]));
    // Only the platform's image and Filebeat's buffer settings stay with the platform.
    expect(given.filter((name) => !(name in app)).sort()).toEqual(["LOG_BUFFER_HOST", "LOG_BUFFER_PORT", "MSA_IMAGE", "MSA_SERVICE", "REDIS_PASSWORD"]);
    for (const name of given.filter((n) => n in app)) expect(app[name], name).toBe(`\${${name}}`);
  });

  it("names the registry's namespace to the container and lets the instances look services up only there", () => {
    expect(options().find((o) => o.OptionName === "SERVICE_DISCOVERY_NAMESPACE")?.Value).toBe("prod.shop.internal");
    expect(compose().services["app"]!.environment).toHaveProperty("SERVICE_DISCOVERY_NAMESPACE", "${SERVICE_DISCOVERY_NAMESPACE}");
    for (const service of ["orders", "payments", "web"]) {
      const discover = statements(templates.get(`shop-prod-svc-${service}`)!).filter((s) => ([] as string[]).concat(s.Action).includes("servicediscovery:DiscoverInstances"));
      expect(discover, service).toEqual([{ Sid: "Discover", Effect: "Allow", Action: "servicediscovery:DiscoverInstances", Resource: "*", Condition: { StringEquals: { "servicediscovery:NamespaceName": "prod.shop.internal" } } }]);
    }
  });

  it("keeps one instance fewer than the fleet in service during a rolling update when min equals max", () => {
    const value = (namespace: string, name: string) => options().find((o) => o.Namespace === namespace && o.OptionName === name)?.Value;
    expect(value("aws:autoscaling:asg", "MaxSize")).toBe("2");
    expect(value("aws:autoscaling:updatepolicy:rollingupdate", "MinInstancesInService")).toBe("1");
  });
});

describe("a VM service's boot, as the CDK app deploys it (examples/shop on iaas)", () => {
  let templates: Map<string, { Resources: Record<string, Resource> }>;
  beforeAll(() => {
    ({ templates } = synth("iaas"));
  });
  const userData = (service: string) => JSON.stringify(resources(templates.get(`shop-prod-svc-${service}`)!, "AWS::EC2::LaunchTemplate")[0]!.Properties["LaunchTemplateData"]);

  it("reads configuration by path only for a service that has some, and grants the read exactly there", () => {
    // inventory has no configuration: a by-path read would stop its boot under set -e, without the permission.
    expect(userData("inventory")).not.toContain("get-parameters-by-path");
    expect(actions(templates.get("shop-prod-svc-inventory")!).filter((a) => a === "ssm:GetParameters" || a === "ssm:GetParametersByPath")).toEqual([]);
    expect(userData("orders")).toContain("aws ssm get-parameters-by-path");
    expect(actions(templates.get("shop-prod-svc-orders")!)).toEqual(expect.arrayContaining(["ssm:GetParameters", "ssm:GetParametersByPath"]));
  });

  it("assigns each secret before writing it, so a failed read stops the boot", () => {
    expect(userData("orders")).toContain(`value=\\"$(aws secretsmanager get-secret-value`);
    expect(userData("orders")).not.toMatch(/printf '[A-Z_]+=%s\\\\\\\\n' \\"\$\(/);
  });

  it("keeps one instance fewer than the fleet in service during a rolling replacement when min equals max", () => {
    const group = resources(templates.get("shop-prod-svc-orders")!, "AWS::AutoScaling::AutoScalingGroup")[0]!;
    expect(group.Properties).toMatchObject({ MinSize: "2", MaxSize: "2" });
    expect(group.UpdatePolicy!.AutoScalingRollingUpdate).toMatchObject({ MinInstancesInService: 1, MaxBatchSize: 1 });
  });
});
