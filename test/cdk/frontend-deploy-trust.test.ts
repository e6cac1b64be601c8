/** Who the micro-frontends' deploy roles trust, whatever pipelines the services use (issue 7). */
import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { DeliveryStack } from "../../stacks/delivery-stack.js";
import { FrontendsEdgeStack } from "../../stacks/frontends-edge-stack.js";
import { FrontendsStack } from "../../stacks/frontends-stack.js";
import { CDK_CONTEXT, ofType, type CfnTemplate } from "./delivery-fixture.js";

const shop = loadSpecFile("examples/shop/landing-zone.yaml");
const OIDC_PARAMETER = "/msa/shop/prod/delivery/github-oidc-provider-arn";
const EXISTING_OIDC = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";

/** The delivery stack (when needed) and the frontends stacks, strictly validated. */
function synth(spec: LandingZoneSpec) {
  const plan = planLandingZone(spec, { engine: "cdk" });
  const app = new App({ context: CDK_CONTEXT, builtinCloudFormationValidation: true });
  const env = { account: "111111111111", region: plan.region };
  if (DeliveryStack.isNeeded(plan)) new DeliveryStack(app, "Delivery", { plan, env, stackName: "shop-prod-delivery" });
  const edge = new FrontendsEdgeStack(app, "Edge", { plan, env: { ...env, region: "us-east-1" }, stackName: "shop-prod-frontends-edge" });
  new FrontendsStack(app, "Frontends", { plan, env, stackName: "shop-prod-frontends", webAclArn: edge.webAcl.webAclArn });
  const stacks = new Map(app.synth().stacks.map((s) => [s.stackName, s.template as CfnTemplate]));
  return { delivery: stacks.get("shop-prod-delivery"), frontends: stacks.get("shop-prod-frontends")! };
}

const trustOf = (t: CfnTemplate, app: string) => {
  const [, role] = ofType(t, "AWS::IAM::Role").find(([, r]) => r.Properties!.RoleName === `shop-prod-ui-${app}-deploy`)!;
  return (role.Properties!.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement;
};
const parameterRef = (t: CfnTemplate, name: string) => ({ Ref: Object.entries(t.Parameters ?? {}).find(([, p]) => p.Default === name)![0] });
const githubTrust = (federated: unknown, app: string) => [
  {
    Action: "sts:AssumeRoleWithWebIdentity",
    Effect: "Allow",
    Principal: { Federated: federated },
    Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": `repo:acme-shop/${app}-ui:environment:prod` } },
  },
];

describe("micro-frontend deploy roles with native pipelines (CDK)", () => {
  it("trust each app's own repository environment through the OIDC provider the delivery stack creates beside the connection", () => {
    const { delivery, frontends } = synth(shop);
    for (const app of ["web", "catalog", "cart"]) expect(trustOf(frontends, app)).toEqual(githubTrust(parameterRef(frontends, OIDC_PARAMETER), app));
    expect(ofType(delivery!, "AWS::CodeStarConnections::Connection")).toHaveLength(1);
    const providers = ofType(delivery!, "AWS::IAM::OIDCProvider");
    expect(providers).toHaveLength(1);
    expect(providers[0]![1].Properties).toMatchObject({ Url: "https://token.actions.githubusercontent.com", ClientIdList: ["sts.amazonaws.com"] });
    const parameters = ofType(delivery!, "AWS::SSM::Parameter").map(([, p]) => p.Properties!);
    expect(parameters).toContainEqual(expect.objectContaining({ Name: OIDC_PARAMETER, Value: { Ref: providers[0]![0] } }));
    expect(parameters.map((p) => p.Name).sort()).toEqual(["/msa/shop/prod/delivery/connection-arn", OIDC_PARAMETER]);
  });

  it("use the provider the spec names, and the delivery stack then holds only the connection", () => {
    const { delivery, frontends } = synth({ ...shop, pipelines: { ...shop.pipelines, githubOidcProviderArn: EXISTING_OIDC } });
    for (const app of ["web", "catalog", "cart"]) expect(trustOf(frontends, app)).toEqual(githubTrust(EXISTING_OIDC, app));
    expect(ofType(delivery!, "AWS::IAM::OIDCProvider")).toHaveLength(0);
    expect(ofType(delivery!, "AWS::CodeStarConnections::Connection")).toHaveLength(1);
  });

  it("trust GitHub without service pipelines too: the delivery stack then holds only the OIDC provider, and the frontends deploy after it", () => {
    const spec = { ...shop, pipelines: { ...shop.pipelines, perService: false } };
    const { delivery, frontends } = synth(spec);
    expect(trustOf(frontends, "cart")).toEqual(githubTrust(parameterRef(frontends, OIDC_PARAMETER), "cart"));
    expect(ofType(delivery!, "AWS::IAM::OIDCProvider")).toHaveLength(1);
    expect(ofType(delivery!, "AWS::CodeStarConnections::Connection")).toHaveLength(0);
    const zone = new LandingZone(new App(), "Shop", { spec, account: "111111111111" });
    expect(zone.frontendsStack!.dependencies).toContain(zone.deliveryStack);
  });

  it("trust the account without a repository owner, and need no delivery stack", () => {
    const { repositoryOwner: _owner, ...pipelines } = shop.pipelines;
    const spec = { ...shop, pipelines: { ...pipelines, perService: false } };
    expect(DeliveryStack.isNeeded(planLandingZone(spec, { engine: "cdk" }))).toBe(false);
    const { delivery, frontends } = synth(spec);
    expect(delivery).toBeUndefined();
    for (const app of ["web", "catalog", "cart"]) {
      expect(trustOf(frontends, app)).toEqual([{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { AWS: "arn:aws:iam::111111111111:root" } }]);
    }
    expect(JSON.stringify(frontends)).not.toContain("token.actions.githubusercontent.com");
  });
});
