import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { ServiceRepositories } from "../../lib/cdk/service-repositories.js";
import { ecrLifecyclePolicy } from "../../lib/plan/delivery.js";

function repositories(retain?: boolean) {
  const stack = new Stack(new App(), "Registry");
  const construct = new ServiceRepositories(stack, "Repositories", { repositories: { orders: "shop-orders", payments: "shop-payments" }, ...(retain === undefined ? {} : { retain }) });
  return { construct, template: Template.fromStack(stack) };
}

describe("ServiceRepositories", () => {
  it("gives each service a private repository: scanned on push, immutable tags, KMS, the lifecycle document the Pulumi components write", () => {
    const { construct, template } = repositories();
    expect([...construct.repositories.keys()]).toEqual(["orders", "payments"]);
    const found = Object.values(template.findResources("AWS::ECR::Repository"));
    expect(found.map((r) => r["Properties"].RepositoryName)).toEqual(["shop-orders", "shop-payments"]);
    for (const repository of found) {
      expect(repository["Properties"]).toMatchObject({
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: "IMMUTABLE",
        EncryptionConfiguration: { EncryptionType: "KMS" },
        LifecyclePolicy: { LifecyclePolicyText: ecrLifecyclePolicy() },
      });
    }
    expect(JSON.parse(ecrLifecyclePolicy()).rules[0]).toMatchObject({ selection: { countType: "imageCountMoreThan", countNumber: 30 }, action: { type: "expire" } });
  });

  it("empties and deletes the repositories with the stack by default, and keeps them with their images when retained", () => {
    const deleted = Object.values(repositories().template.findResources("AWS::ECR::Repository"));
    expect(deleted.every((r) => r["DeletionPolicy"] === "Delete" && r["Properties"].EmptyOnDelete === true)).toBe(true);
    const kept = Object.values(repositories(true).template.findResources("AWS::ECR::Repository"));
    expect(kept.every((r) => r["DeletionPolicy"] === "Retain" && r["Properties"].EmptyOnDelete === false)).toBe(true);
  });
});
