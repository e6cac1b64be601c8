import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gitOpsFiles } from "../kubernetes/gitops.js";
import { PlanError, planLandingZone } from "../plan/planner.js";
import { githubWorkflowFiles } from "../plan/workflows.js";
import { loadSpecFile, SpecError } from "../spec/index.js";
import type { ExitCode, Io } from "./commands.js";

export interface WorkflowsOptions {
  /** Directory that receives one folder per repository. */
  readonly out: string;
  /** AWS account written into role ARNs instead of the `AWS_ACCOUNT_ID` repository variable. */
  readonly awsAccount?: string;
}

/**
 * Writes each service's GitHub Actions workflow (and, on an existing cluster, its GitOps `deploy/`
 * folder) under `<out>/<repository>/`, ready to commit into that repository. Nothing is written
 * when the spec or plan is rejected.
 */
export function workflowsCommand(file: string, options: WorkflowsOptions, io: Io): ExitCode {
  try {
    const spec = loadSpecFile(file);
    const plan = planLandingZone(spec);
    const files = githubWorkflowFiles(plan, file, options.awsAccount ? { awsAccountId: options.awsAccount } : {}, (service) => (plan.cloud === "kubernetes" ? gitOpsFiles(plan, service) : []));
    const out = resolve(options.out);
    for (const generated of files) {
      const target = join(out, generated.repository, generated.path);
      if (generated.keepExisting && existsSync(target)) {
        io.out(`kept    ${join(generated.repository, generated.path)}\n`);
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, generated.content);
      io.out(`wrote   ${join(generated.repository, generated.path)}\n`);
    }
    const variables = plan.cloud === "aws" && !options.awsAccount ? " Set the repository variable AWS_ACCOUNT_ID (or pass --aws-account)." : "";
    io.out(`${files.length} files for ${new Set(files.map((f) => f.repository)).size} repositories in ${out}.${variables} Create the GitHub environment "${plan.environment}"${plan.environment === "prod" ? " with required reviewers" : ""} in each repository.\n`);
    return 0;
  } catch (error) {
    if (error instanceof SpecError || error instanceof PlanError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
