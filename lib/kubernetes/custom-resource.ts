import { z } from "zod";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/** The metadata every custom resource lib/kubernetes builds carries: a name, its namespace and labels. */
export const customResourceMetadata = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63),
  labels: z.record(z.string(), z.string()).optional(),
});

/**
 * A custom resource without a kubernetes-models package, validated against a zod schema of the
 * fields lib/kubernetes sets (strict, so a misspelt field fails at synthesis instead of being
 * ignored by the API server), through the same `validatedManifest` exit as every other object.
 */
export function validatedCustomResource(schema: z.ZodType, object: ManifestObject): ManifestObject {
  return validatedManifest({
    validate: () => {
      const result = schema.safeParse(object);
      if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; "));
    },
    toJSON: () => object,
  });
}
