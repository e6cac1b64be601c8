import type { CloudSupport } from "../types.js";

/** What the CDK engine implements on AWS. Extend when a construct lands with its tests. */
export const CDK_AWS_SUPPORT: CloudSupport = {
  caas: ["network", "compute", "registry", "gateway", "bff", "discovery", "config", "sessions", "tokens", "mesh", "logging", "broker"],
};
