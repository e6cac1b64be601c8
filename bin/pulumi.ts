/**
 * Pulumi program (Pulumi.yaml `main`): reads the spec named by config `msa:spec`
 * (default examples/shop/landing-zone.yaml), builds its landing zone and exports its outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { createLandingZone } from "../lib/pulumi/index.js";
import { loadSpecFile } from "../lib/spec/parse.js";

const DEFAULT_SPEC = "examples/shop/landing-zone.yaml";

const config = new pulumi.Config("msa");
const spec = loadSpecFile(config.get("spec") ?? DEFAULT_SPEC);
const zone = await createLandingZone(spec.name, { spec });

// Stack outputs; a part the spec leaves out exports nothing.
export const gatewayUrl = zone.outputs["gatewayUrl"];
export const clusterName = zone.outputs["clusterName"];
export const sessionEndpoint = zone.outputs["sessionEndpoint"];
export const logDashboardsUrl = zone.outputs["logDashboardsUrl"];
export const topicArns = zone.outputs["topicArns"];
