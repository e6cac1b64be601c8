import type { LandingZonePlan } from "../plan/types.js";
import { renderTable } from "./table.js";

function formatSettings(settings: Readonly<Record<string, string | number | boolean>>): string {
  return Object.entries(settings)
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** The plan as a readable table: capability, implementation, key settings. */
export function renderPlan(plan: LandingZonePlan): string {
  const header = `${plan.name} · ${plan.cloud}/${plan.tier} · ${plan.environment} · ${plan.region} · ${plan.services.length} workloads`;
  const table = renderTable(
    ["CAPABILITY", "IMPLEMENTATION", "SETTINGS"],
    plan.decisions.map((d) => [d.capability, d.implementation, formatSettings(d.settings)]),
  );
  return `${header}\n\n${table}`;
}

/** The plan as JSON-ready data (the normalized spec is left out: `mlz validate --json` prints it). */
export function planToJson(plan: LandingZonePlan): Omit<LandingZonePlan, "spec"> {
  const { spec: _spec, ...rest } = plan;
  return rest;
}
