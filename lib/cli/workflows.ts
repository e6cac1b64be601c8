import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { frontendGitOpsFiles, gitOpsFiles } from "../kubernetes/gitops.js";
import { PlanError, planLandingZone } from "../plan/planner.js";
import { azurePipelineFiles } from "../plan/azure-delivery.js";
import { AZURE_FRONTEND_VARIABLES, AZURE_SERVICE_VARIABLES, frontendWorkflowFiles, GCP_FRONTEND_VARIABLES, GCP_SERVICE_VARIABLES, githubWorkflowFiles, type GeneratedFile } from "../plan/workflows.js";
import { loadSpecFile, SpecError } from "../spec/index.js";
import type { ExitCode, Io } from "./commands.js";
import { OutputPathError, writeOutputFile } from "./output-path.js";
import type { LandingZonePlan } from "../plan/types.js";
import type { Cloud } from "../spec/types.js";

export interface WorkflowsOptions {
  /** Directory that receives one folder per repository. */
  readonly out: string;
  /** AWS account written into role ARNs instead of the `AWS_ACCOUNT_ID` repository variable. */
  readonly awsAccount?: string;
  /** Write each service's `azure-pipelines.yml` (Azure native pipelines) instead of GitHub workflows. */
  readonly azurePipelines?: boolean;
  /** Subscription of the Azure landing zone, whose hash ends the registry's and apps' names (Azure DevOps pipelines, and GitHub workflows on App Service). */
  readonly azureSubscription?: string;
}

/** Repository variables of the micro-frontends' workflows, on the clouds where stack outputs set them (AWS's read SSM parameters). */
const FRONTEND_VARIABLES: Partial<Record<Cloud, Readonly<Record<string, string>>>> = { gcp: GCP_FRONTEND_VARIABLES, azure: AZURE_FRONTEND_VARIABLES };

/** The sentence naming the repository variables each micro-frontend's workflow reads; empty when it reads none. */
function frontendVariables(plan: LandingZonePlan): string {
  const variables = plan.frontends ? FRONTEND_VARIABLES[plan.cloud] : undefined;
  return variables ? ` In each micro-frontend's repository set the variables ${Object.entries(variables).map(([variable, from]) => `${variable} (${from})`).join(", ")}.` : "";
}

function writeAzurePipelines(plan: LandingZonePlan, file: string, options: WorkflowsOptions, io: Io): ExitCode {
  if (!options.azureSubscription) throw new PlanError(["--azure-pipelines needs --azure-subscription: the registry's and apps' names end in a hash of the subscription. Fix: pass --azure-subscription <subscription id>"]);
  // The micro-frontends deploy from GitHub whichever pipelines the services use.
  const files = [...azurePipelineFiles(plan, file, { subscriptionId: options.azureSubscription }), ...frontendWorkflowFiles(plan, file)];
  const out = resolve(options.out);
  for (const generated of files) {
    const target = join(out, generated.repository, generated.path);
    writeOutputFile(target, generated.content);
    io.out(`wrote   ${join(generated.repository, generated.path)}\n`);
  }
  const azure = plan.azureDelivery!;
  const environment = azure.services[0]?.environment ?? plan.environment;
  io.out(
    `${files.length} files in ${out}. In Azure DevOps project "${azure.project}": create per service a workload identity federation service connection named as in each pipeline (its identity's client id is the stack's output), ` +
      `and the environment "${environment}"${azure.services.some((s) => s.approval) ? " with an Approvals check" : ""}.${frontendVariables(plan)}\n`,
  );
  return 0;
}

/**
 * The GitHub files of the plan; on a cloud whose services do not build from GitHub (native
 * pipelines, or none), the micro-frontends' workflows alone: the apps deploy from GitHub regardless.
 */
function workflowFiles(plan: LandingZonePlan, file: string, options: WorkflowsOptions): GeneratedFile[] {
  const workflowOptions = { ...(options.awsAccount ? { awsAccountId: options.awsAccount } : {}), ...(options.azureSubscription ? { azureSubscriptionId: options.azureSubscription } : {}) };
  // On an existing cluster GitHub Actions builds the services whatever the provider (Argo CD deploys).
  const gitOps = plan.cloud === "kubernetes";
  if (!gitOps && plan.frontends && plan.delivery?.provider !== "github-actions") return frontendWorkflowFiles(plan, file, workflowOptions);
  return githubWorkflowFiles(
    plan,
    file,
    workflowOptions,
    (service) => (gitOps ? gitOpsFiles(plan, service) : []),
    (app) => (gitOps ? frontendGitOpsFiles(plan, app) : []),
  );
}

/**
 * Writes each service's and micro-frontend's GitHub Actions workflow (and, on an existing cluster,
 * its GitOps `deploy/` folder) under `<out>/<repository>/`, ready to commit into that repository. Nothing is written
 * when the spec or plan is rejected.
 */
export function workflowsCommand(file: string, options: WorkflowsOptions, io: Io): ExitCode {
  try {
    const spec = loadSpecFile(file);
    const plan = planLandingZone(spec);
    if (options.azurePipelines) return writeAzurePipelines(plan, file, options, io);
    const files = workflowFiles(plan, file, options);
    const out = resolve(options.out);
    for (const generated of files) {
      const target = join(out, generated.repository, generated.path);
      if (generated.keepExisting && existsSync(target)) {
        io.out(`kept    ${join(generated.repository, generated.path)}\n`);
        continue;
      }
      writeOutputFile(target, generated.content);
      io.out(`wrote   ${join(generated.repository, generated.path)}\n`);
    }
    const azureServices = plan.cloud === "azure" && plan.delivery?.provider === "github-actions"
      ? ` In each service's repository set the variables ${Object.entries(AZURE_SERVICE_VARIABLES).map(([variable, from]) => `${variable} (${from})`).join(", ")}.`
      : "";
    const gcpServices = plan.cloud === "gcp" && plan.delivery?.provider === "github-actions"
      ? ` In each service's repository set the variables ${Object.entries(GCP_SERVICE_VARIABLES).map(([variable, from]) => `${variable} (${from})`).join(", ")}.`
      : "";
    const variables = (plan.cloud === "aws" && !options.awsAccount ? " Set the repository variable AWS_ACCOUNT_ID (or pass --aws-account)." : "") + frontendVariables(plan) + gcpServices + azureServices;
    io.out(`${files.length} files for ${new Set(files.map((f) => f.repository)).size} repositories in ${out}.${variables} Create the GitHub environment "${plan.environment}"${plan.environment === "prod" ? " with required reviewers" : ""} in each repository.\n`);
    return 0;
  } catch (error) {
    if (error instanceof SpecError || error instanceof PlanError || error instanceof OutputPathError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
