import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { plannedBeanstalkBundle } from "../../../lib/plan/beanstalk-release.js";
import { shortHash } from "../../../lib/plan/naming.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

/** examples/shop (databases, an event store, a read model, an orchestrated saga) on a hosted tier, with a fixed fleet size: replicas.min == replicas.max. */
function shopOn(tier: "iaas" | "paas"): LandingZoneSpec {
  const shop = loadSpecFile("examples/shop/landing-zone.yaml");
  return { ...shop, tier, mesh: { ...shop.mesh, kind: "none" }, services: shop.services.map((s) => ({ ...s, replicas: { min: 2, max: 2 } })) };
}

type Setting = { namespace: string; name: string; value: string };
type Statement = { Sid: string; Action: string[]; Resource: string[]; Condition?: unknown };

describe("a Beanstalk service's environment, as the Pulumi program deploys it (examples/shop on paas)", () => {
  const spec = shopOn("paas");
  const plan = planLandingZone(spec);
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => {
      new LandingZone("shop", { spec });
    }));
  });
  const settings = (service: string) => single(resources, "aws:elasticbeanstalk/environment:Environment", `shop-${service}-environment`).inputs["settings"] as Setting[];
  const statements = (service: string) => (jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-service`), "policy") as { Statement: Statement[] }).Statement;

  it("runs the planned bundle, whose compose file hands the container every environment property the service is given", () => {
    const bundle = plannedBeanstalkBundle(plan, plan.services.find((s) => s.name === "orders")!);
    // The bundle object is keyed by its files' hash: the environment runs exactly the planned files.
    expect(single(resources, "aws:s3/bucketObjectv2:BucketObjectv2", "shop-orders-bundle").inputs["key"]).toBe(`orders/${shortHash(JSON.stringify(Object.entries(bundle).sort()), 16)}.zip`);
    const app = (parse(bundle["docker-compose.yml"]!) as { services: Record<string, { environment: Record<string, string> }> }).services["app"]!.environment;
    const given = settings("orders")
      .filter((s) => s.namespace === "aws:elasticbeanstalk:application:environment" || s.namespace === "aws:elasticbeanstalk:application:environmentsecrets")
      .map((s) => s.name);
    expect(given).toEqual(expect.arrayContaining(["DATABASE_HOST", "DATABASE_SECRET_ARN", "SAGA_PLACE_ORDER_STATE_MACHINE_ARN", "SAGA_PLACE_ORDER_COMMAND_QUEUE_URL"]));
    expect(given.filter((name) => !(name in app)).sort()).toEqual(["LOG_BUFFER_HOST", "LOG_BUFFER_PORT", "MSA_IMAGE", "MSA_SERVICE", "REDIS_PASSWORD"]);
  });

  it("names the registry's namespace to the container and lets the instances look services up only there", () => {
    expect(settings("orders").find((s) => s.name === "SERVICE_DISCOVERY_NAMESPACE")?.value).toBe("prod.shop.internal");
    for (const service of ["orders", "payments", "web"]) {
      expect(statements(service).filter((s) => s.Action.includes("servicediscovery:DiscoverInstances")), service).toEqual([
        { Sid: "Discover", Effect: "Allow", Action: ["servicediscovery:DiscoverInstances"], Resource: ["*"], Condition: { StringEquals: { "servicediscovery:NamespaceName": "prod.shop.internal" } } },
      ]);
    }
    expect(byType(resources, "aws:servicediscovery/httpNamespace:HttpNamespace").map((n) => n.inputs["name"])).toEqual(["prod.shop.internal"]);
  });

  it("keeps one instance fewer than the fleet in service during a rolling update when min equals max", () => {
    const value = (namespace: string, name: string) => settings("orders").find((s) => s.namespace === namespace && s.name === name)?.value;
    expect(value("aws:autoscaling:asg", "MaxSize")).toBe("2");
    expect(value("aws:autoscaling:updatepolicy:rollingupdate", "MinInstancesInService")).toBe("1");
  });
});

describe("a VM service's boot, as the Pulumi program deploys it (examples/shop on iaas)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => {
      new LandingZone("shop", { spec: shopOn("iaas") });
    }));
  });
  const userData = (service: string) => Buffer.from(single(resources, "aws:ec2/launchTemplate:LaunchTemplate", `shop-${service}-instances`).inputs["userData"] as string, "base64").toString("utf8");
  const actions = (service: string) =>
    (jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-service`), "policy") as { Statement: Statement[] }).Statement.flatMap((s) => s.Action);

  it("reads configuration by path only for a service that has some, and grants the read exactly there", () => {
    expect(userData("inventory")).not.toContain("get-parameters-by-path");
    expect(actions("inventory").filter((a) => a === "ssm:GetParameters" || a === "ssm:GetParametersByPath")).toEqual([]);
    expect(userData("orders")).toContain("aws ssm get-parameters-by-path --region 'us-east-1' --path '/msa/shop/prod/config/orders/'");
    expect(actions("orders")).toEqual(expect.arrayContaining(["ssm:GetParameters", "ssm:GetParametersByPath"]));
  });

  it("assigns each secret before writing it, so a failed read stops the boot", () => {
    expect(userData("orders")).toMatch(/^value="\$\(aws secretsmanager get-secret-value .*"; printf 'SIGNING_KEY=%s\\n' "\$value" >> \/etc\/msa\/service\.env$/m);
  });
});
