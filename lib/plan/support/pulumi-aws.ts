import type { CloudSupport } from "../types.js";

/** What the Pulumi engine implements on AWS. Extend when a component lands with its tests. */
export const PULUMI_AWS_SUPPORT: CloudSupport = {
  caas: ["network", "compute", "registry", "gateway", "bff", "discovery", "config", "sessions", "logging", "broker"],
};
