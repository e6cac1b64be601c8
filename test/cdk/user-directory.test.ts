import { App, Duration, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { UserDirectory, type UserDirectoryProps } from "../../lib/cdk/user-directory.js";

const STRICT = { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true };

function build(props?: UserDirectoryProps) {
  const app = new App({ context: STRICT });
  const stack = new Stack(app, "Users", { env: { account: "123456789012", region: "ap-northeast-2" } });
  const directory = new UserDirectory(stack, "Directory", props);
  app.synth(); // strict CloudFormation validation runs here
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  return { stack, directory, id, template: Template.fromStack(stack) };
}

describe("UserDirectory", () => {
  it("is an invite-only pool with a strong password policy, optional OTP MFA and enforced threat protection", () => {
    const { template } = build();
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ["email"],
      Policies: {
        PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }),
      },
      MfaConfiguration: "OPTIONAL",
      EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
      UserPoolTier: "PLUS",
      UserPoolAddOns: { AdvancedSecurityMode: "ENFORCED" },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: "verified_email", Priority: 1 }] },
    });
  });

  it("is deletion-protected and retained by default, and neither when retain is false", () => {
    build().template.hasResource("AWS::Cognito::UserPool", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain", Properties: Match.objectLike({ DeletionProtection: "ACTIVE" }) });
    build({ retain: false }).template.hasResource("AWS::Cognito::UserPool", { DeletionPolicy: "Delete", Properties: Match.objectLike({ DeletionProtection: "INACTIVE" }) });
  });

  it("drops to the Essentials plan without threat protection when asked, and audits when asked", () => {
    build({ threatProtection: "off" }).template.hasResourceProperties("AWS::Cognito::UserPool", { UserPoolTier: "ESSENTIALS", UserPoolAddOns: Match.absent() });
    build({ threatProtection: "audit" }).template.hasResourceProperties("AWS::Cognito::UserPool", { UserPoolTier: "PLUS", UserPoolAddOns: { AdvancedSecurityMode: "AUDIT" } });
  });

  it("has a public app client using the code grant with one-hour access tokens", () => {
    const { template, directory, id } = build({ callbackUrls: ["https://shop.example.com/callback", "http://localhost:3000/callback"] });
    template.hasResourceProperties("AWS::Cognito::UserPoolClient", {
      UserPoolId: { Ref: id(directory.userPool) },
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ["code"],
      AllowedOAuthScopes: ["openid", "email", "profile"],
      CallbackURLs: ["https://shop.example.com/callback", "http://localhost:3000/callback"],
      LogoutURLs: ["https://shop.example.com/callback", "http://localhost:3000/callback"],
      ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      AccessTokenValidity: 60,
      TokenValidityUnits: Match.objectLike({ AccessToken: "minutes" }),
      PreventUserExistenceErrors: "ENABLED",
      EnableTokenRevocation: true,
    });
  });

  it("keeps OAuth off (SRP sign-in only) without callback URLs instead of inventing one", () => {
    const { template } = build({ accessTokenValidity: Duration.minutes(30) });
    template.hasResourceProperties("AWS::Cognito::UserPoolClient", {
      AllowedOAuthFlowsUserPoolClient: false,
      AllowedOAuthFlows: Match.absent(),
      CallbackURLs: Match.absent(),
      AccessTokenValidity: 30,
    });
  });

  it("adds a hosted domain only when given a prefix", () => {
    build().template.resourceCountIs("AWS::Cognito::UserPoolDomain", 0);
    const { template, directory, id } = build({ domainPrefix: "shop-dev" });
    template.hasResourceProperties("AWS::Cognito::UserPoolDomain", { Domain: "shop-dev", UserPoolId: { Ref: id(directory.userPool) } });
  });

  it("exposes the pool's provider URL as the token issuer", () => {
    const { stack, directory, id } = build();
    expect(stack.resolve(directory.issuerUrl)).toEqual({ "Fn::GetAtt": [id(directory.userPool), "ProviderURL"] });
  });

  it.each([
    [{ callbackUrls: ["http://shop.example.com/callback"] }, /callbackUrls "http:\/\/shop\.example\.com\/callback" is not allowed\. Fix: use an https:\/\/ URL/],
    [{ callbackUrls: ["https://a.example.com"], logoutUrls: ["ftp://a.example.com"] }, /logoutUrls "ftp:\/\/a\.example\.com" is not allowed/],
    [{ logoutUrls: ["https://a.example.com"] }, /logoutUrls is set without callbackUrls/],
    [{ domainPrefix: "Shop_Dev" }, /domainPrefix "Shop_Dev" is not allowed\. Fix: use lowercase letters/],
    [{ domainPrefix: "my-cognito" }, /domainPrefix "my-cognito" is not allowed/],
  ] as const)("rejects %j", (props, message) => {
    expect(() => build(props as UserDirectoryProps)).toThrow(message);
  });
});
