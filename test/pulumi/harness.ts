export * from "../../lib/pulumi/testing/index.js";
