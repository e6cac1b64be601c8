import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import program from "../../bin/pulumi.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { byType, childrenOf, runProgram, type RegisteredResource } from "./harness.js";

async function run(specFile: string): Promise<{ resources: RegisteredResource[]; outputs: Record<string, unknown> }> {
  let outputs: Record<string, unknown> = {};
  const { resources } = await runProgram(
    async () => {
      outputs = await program();
    },
    { config: { "msa:spec": specFile } },
  );
  return { resources, outputs };
}

describe("the Pulumi program (bin/pulumi.ts)", () => {
  it("builds the CDK example spec, unchanged, with the same parts as the CDK landing zone", async () => {
    const spec = loadSpecFile("examples/shop/landing-zone.yaml");
    const { resources, outputs } = await run("examples/shop/landing-zone.yaml");
    const parts = childrenOf(resources, "shop").map((r) => r.type);
    expect(parts).toEqual(
      expect.arrayContaining([
        "msa:aws:Network",
        "msa:aws:KubernetesPlatform",
        "msa:aws:ApiGateway",
        "msa:aws:SessionStore",
        "msa:aws:LogPipeline",
        "msa:aws:MessageBroker",
        "msa:aws:Monitoring",
        "msa:aws:ContainerInsights",
        "msa:aws:Tracing",
      ]),
    );
    const workloads = childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:ServiceWorkload").map((r) => r.name);
    expect(workloads).toEqual([...spec.services.map((s) => `shop-${s.name}`), ...spec.bffs.map((b) => `shop-${b.name}`)]);
    // gateway.auth: jwt → a Cognito pool behind a JWT authorizer; mesh.kind: istio → Istio's charts.
    expect(byType(resources, "aws:cognito/userPool:UserPool")).toHaveLength(1);
    expect(byType(resources, "aws:apigatewayv2/authorizer:Authorizer").map((a) => a.inputs["authorizerType"])).toEqual(["JWT"]);
    expect(byType(resources, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["name"])).toEqual(expect.arrayContaining(["istio-base", "istiod"]));
    // The example's application patterns: databases, the read model, the event store and the saga.
    expect(parts).toEqual(expect.arrayContaining(["msa:aws:ServiceDatabase", "msa:aws:EventStore", "msa:aws:SagaOrchestrator"]));
    expect(byType(resources, "aws:rds/instance:Instance").map((r) => r.inputs["identifier"])).toEqual(["shop-prod-orders"]);
    expect(byType(resources, "aws:dynamodb/table:Table").map((r) => r.inputs["name"]).sort()).toEqual(["shop-prod-inventory", "shop-prod-order-history-read", "shop-prod-payments-events"]);
    expect(Object.keys(outputs).sort()).toEqual(["alarmTopicArn", "clusterName", "frontendsUrl", "gatewayUrl", "logDashboardsUrl", "sagaStateMachineArns", "sessionEndpoint", "topicArns"]);
    // pipelines and frontends: a registry and pipeline per service and BFF, one CDN.
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:ServiceDelivery")).toHaveLength(spec.services.length + spec.bffs.length);
    expect(byType(resources, "aws:codepipeline/pipeline:Pipeline")).toHaveLength(spec.services.length + spec.bffs.length);
    expect(byType(resources, "aws:cloudfront/distribution:Distribution")).toHaveLength(1);
  });

  it("builds the existing-cluster example through the kubernetes landing zone", async () => {
    const { resources, outputs } = await run("examples/kubernetes/landing-zone.yaml");
    expect(byType(resources, "msa:kubernetes:LandingZone").map((r) => r.name)).toEqual(["shop"]);
    expect(resources.some((r) => r.type.startsWith("aws:"))).toBe(false);
    // pipelines: Argo CD syncs each service from its repository.
    expect(byType(resources, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["chart"])).toContain("argo-cd");
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(["namespace", "ingressClass", "sessionEndpoint", "kibanaService", "kafkaBootstrapServers"]));
  });

  it("refuses an invalid spec file with every problem listed, as a RunError (Pulumi prints it without a stack), before anything is registered", async () => {
    const error = await run("test/fixtures/invalid.yaml").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^Invalid landing-zone spec test\/fixtures\/invalid.yaml \(\d+ problems\)/);
  });

  it("refuses a spec the planner rejects as a RunError naming the fix", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "msa-program-")), "landing-zone.yaml");
    writeFileSync(file, "name: shop\ncloud: gcp\nregion: asia-northeast3\ntracing: { backend: xray }\nservices:\n  - name: orders\n");
    const error = await run(file).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('tracing.backend "xray" exists only on aws. Fix: use zipkin, jaeger or cloud');
  });
});
