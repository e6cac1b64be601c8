#!/usr/bin/env node
import { Command, Option } from "commander";
import { planCommand, synthCommand, validateCommand, type Io } from "../lib/cli/index.js";

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
  .addOption(new Option("--engine <engine>", "also check this engine implements every capability").choices(["cdk", "pulumi"]))
  .description("show what each capability becomes on the spec's cloud and tier")
  .action((spec: string, options: { json?: boolean; engine?: "cdk" | "pulumi" }) => {
    process.exitCode = planCommand(spec, options, io);
  });

program
  .command("synth")
  .argument("<spec>", "landing-zone.yaml")
  .option("-o, --out <dir>", "cloud assembly directory", "cdk.out")
  .description("synthesize the AWS CDK app (CloudFormation templates) for the spec")
  .action(async (spec: string, options: { out: string }) => {
    process.exitCode = await synthCommand(spec, options, io);
  });

await program.parseAsync();
