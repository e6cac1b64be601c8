import type { LandingZonePlan } from "../plan/types.js";
import type { ComponentSummary } from "../report/component-summary.js";

/**
 * The plan's Pulumi components with their resource counts, from the program run in-process under
 * `pulumi.runtime.setMocks` (no Pulumi CLI, no cloud call, no state: nothing is previewed or deployed).
 * Loaded on demand, so `mlz plan` on a CDK spec never loads @pulumi/*.
 */
export async function pulumiComponents(plan: LandingZonePlan): Promise<ComponentSummary[]> {
  const [{ createLandingZone }, { GCP_CONFIG, runProgram }, { summarizeComponents }] = await Promise.all([
    import("../pulumi/index.js"),
    import("../pulumi/testing/index.js"),
    import("../report/component-summary.js"),
  ]);
  const { resources } = await runProgram(async () => void (await createLandingZone(plan.spec.name, { spec: plan.spec })), plan.cloud === "gcp" ? { config: GCP_CONFIG } : {});
  return summarizeComponents(resources);
}
