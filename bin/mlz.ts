#!/usr/bin/env node
import { Command, Option } from "commander";
import { planCommand, synthCommand, validateCommand, type Io } from "../lib/cli/commands.js";

const io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
const program = new Command("mlz").description("msa-landing-zone: validate, plan and synthesize a microservice landing zone").showHelpAfterError();

program
  .command("validate")
  .argument("<spec>", "landing-zone.yaml")
  .option("--json", "print the normalized spec as JSON")
  .description("check a spec; every problem is listed with its path and fix")
  .action((spec: string, options: { json?: boolean }) => {
    process.exitCode = validateCommand(spec, options, io);
  });

program
  .command("plan")
  .argument("<spec>", "landing-zone.yaml")
  .option("--json", "print the plan as JSON")
  .addOption(new Option("--engine <engine>", "plan for this engine: check it implements every capability, and list its CDK stacks or Pulumi components (default: cdk on aws, pulumi elsewhere)").choices(["cdk", "pulumi"]))
  .option("--no-resources", "skip listing the CDK stacks (a synthesis) or Pulumi components (a run under mocks) with their resource counts")
  .description("show what each capability becomes on the spec's cloud and tier, the stacks it becomes and warnings")
  .action(async (spec: string, options: { json?: boolean; engine?: "cdk" | "pulumi"; resources: boolean }) => {
    process.exitCode = await planCommand(spec, options, io);
  });

program
  .command("synth")
  .argument("<spec>", "landing-zone.yaml")
  .option("-o, --out <dir>", "cloud assembly directory", "cdk.out")
  .description("synthesize the AWS CDK app (CloudFormation templates) for the spec")
  .action(async (spec: string, options: { out: string }) => {
    process.exitCode = await synthCommand(spec, options, io);
  });

program
  .command("workflows")
  .argument("<spec>", "landing-zone.yaml")
  .option("-o, --out <dir>", "directory receiving one folder per repository", "workflows")
  .option("--aws-account <id>", "AWS account in the role ARNs (default: the AWS_ACCOUNT_ID repository variable)")
  .option("--azure-pipelines", "write each service's azure-pipelines.yml (Azure native pipelines) instead of GitHub workflows")
  .option("--azure-subscription <id>", "the Azure landing zone's subscription, whose hash ends the registry and app names (--azure-pipelines, and GitHub workflows on App Service)")
  .description("write each service's GitHub Actions workflow (OIDC, no stored keys) into <out>/<repository>/.github/workflows")
  .action(async (spec: string, options: { out: string; awsAccount?: string; azurePipelines?: boolean; azureSubscription?: string }) => {
    const { workflowsCommand } = await import("../lib/cli/workflows.js");
    process.exitCode = workflowsCommand(spec, options, io);
  });

program
  .command("init")
  .argument("[file]", "spec file to write", "landing-zone.yaml")
  .option("--name <name>", "landing zone name")
  .addOption(new Option("--cloud <cloud>", "target cloud").choices(["aws", "gcp", "azure", "kubernetes"]))
  .addOption(new Option("--tier <tier>", "service model").choices(["iaas", "caas", "paas"]))
  .addOption(new Option("--environment <environment>", "sizing and protection profile").choices(["dev", "prod"]))
  .option("--region <region>", "region (default: the cloud's default)")
  .option("--services <names>", "comma-separated service names")
  .option("--bffs <names>", "comma-separated BFF names, one per client channel")
  .option("--publishes <pairs>", "comma-separated service:event pairs")
  .option("--subscribes <pairs>", "comma-separated service:event pairs")
  .option("--sessions", "Redis session store").option("--no-sessions")
  .option("--logging", "ELK logging with a Redis buffer").option("--no-logging")
  .option("--broker", "message broker").option("--no-broker")
  .option("--mesh", "Istio service mesh").option("--no-mesh")
  .option("--tracing", "distributed tracing").option("--no-tracing")
  .option("--gateway-auth", "JWT authentication at the gateway").option("--no-gateway-auth")
  .option("-y, --yes", "take defaults for everything not given as a flag (implied when stdin is not a terminal)")
  .option("-f, --force", "overwrite an existing file")
  .description("write a commented landing-zone spec, asking for what is not given as a flag")
  .action(async (file: string, options: import("../lib/cli/init.js").InitOptions) => {
    const { initCommand } = await import("../lib/cli/init.js");
    process.exitCode = await initCommand(file, options, io);
  });

program
  .command("diagram")
  .argument("<spec>", "landing-zone.yaml")
  .option("-o, --out <file>", "output file: .svg (rendered), .mmd (Mermaid) or .dot (Graphviz); default Mermaid on stdout")
  .description("draw the landing zone: clients, BFFs, gateway, services, data stores, broker topics, logging, tracing")
  .action(async (spec: string, options: { out?: string }) => {
    const { diagramCommand } = await import("../lib/cli/diagram.js");
    process.exitCode = await diagramCommand(spec, options, io);
  });

program
  .command("diff")
  .argument("<old>", "the spec as deployed")
  .argument("<new>", "the changed spec")
  .option("--json", "print the changes as JSON")
  .description("which stacks and resources a spec change touches; exit 2 when a stateful resource would be replaced or deleted")
  .action(async (oldSpec: string, newSpec: string, options: { json?: boolean }) => {
    const { diffCommand } = await import("../lib/cli/diff.js");
    process.exitCode = await diffCommand(oldSpec, newSpec, options, io);
  });

await program.parseAsync();
