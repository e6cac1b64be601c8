import type { CloudSupport } from "../types.js";

/** What the Pulumi engine implements on gcp, per capability. Extend when a component lands with its tests. */
export const PULUMI_GCP_SUPPORT: CloudSupport = {};
