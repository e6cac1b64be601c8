/** Who the micro-frontends' deploy roles trust in the Pulumi AWS landing zone, whatever pipelines the services use (issue 7). */
import { describe, expect, it } from "vitest";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, jsonInput, MOCK_ACCOUNT, MOCK_REGION, runProgram, single, type RegisteredResource } from "../harness.js";

const SPEC: LandingZoneInput = {
  name: "shop",
  region: MOCK_REGION,
  environment: "prod",
  gateway: { auth: "none" },
  mesh: { kind: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none", tokens: "none" },
  pipelines: { provider: "native", repositoryOwner: "acme" },
  bffs: ["web"],
  frontends: { shell: "web", fragments: ["catalog", "cart"] },
  services: [{ name: "orders" }],
};
const APPS = ["web", "catalog", "cart"];
const EXISTING_OIDC = `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

async function zone(spec: LandingZoneInput): Promise<RegisteredResource[]> {
  return (await runProgram(() => void new LandingZone("shop", { spec }))).resources;
}
const trustOf = (resources: RegisteredResource[], app: string) => (jsonInput(single(resources, "aws:iam/role:Role", `shop-frontends-${app}-deploy`), "assumeRolePolicy") as { Statement: unknown[] }).Statement;
const githubTrust = (federated: unknown, app: string) => [
  {
    Effect: "Allow",
    Principal: { Federated: federated },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": `repo:acme/${app}-ui:environment:prod` } },
  },
];

describe("micro-frontend deploy roles with native pipelines (Pulumi AWS)", () => {
  it("trust each app's own repository environment through the OIDC provider created beside the connection", async () => {
    const resources = await zone(SPEC);
    expect(byType(resources, "aws:codepipeline/pipeline:Pipeline").length).toBeGreaterThan(0);
    expect(single(resources, "aws:codestarconnections/connection:Connection").parent).toBe("shop");
    const oidc = single(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "shop-github-oidc");
    expect(oidc.inputs).toMatchObject({ url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] });
    for (const app of APPS) expect(trustOf(resources, app)).toEqual(githubTrust(oidc.outputs["arn"], app));
  });

  it("use the provider the spec names and create none", async () => {
    const resources = await zone({ ...SPEC, pipelines: { ...SPEC.pipelines, githubOidcProviderArn: EXISTING_OIDC } });
    expect(byType(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")).toEqual([]);
    for (const app of APPS) expect(trustOf(resources, app)).toEqual(githubTrust(EXISTING_OIDC, app));
  });

  it("trust GitHub without service pipelines too", async () => {
    const resources = await zone({ ...SPEC, pipelines: { ...SPEC.pipelines, perService: false } });
    expect(byType(resources, "aws:codestarconnections/connection:Connection")).toEqual([]);
    const oidc = single(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "shop-github-oidc");
    expect(trustOf(resources, "cart")).toEqual(githubTrust(oidc.outputs["arn"], "cart"));
  });

  it("trust the account without a repository owner, and create no OIDC provider", async () => {
    const resources = await zone({ ...SPEC, pipelines: { provider: "native" } });
    expect(byType(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")).toEqual([]);
    for (const app of APPS) {
      expect(trustOf(resources, app)).toEqual([{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MOCK_ACCOUNT}:root` }, Action: "sts:AssumeRole" }]);
    }
  });
});
