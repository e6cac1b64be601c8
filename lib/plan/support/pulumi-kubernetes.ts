import type { CloudSupport } from "../types.js";

/** What the Pulumi engine implements on kubernetes. Extend when a component lands with its tests. */
export const PULUMI_KUBERNETES_SUPPORT: CloudSupport = {};
