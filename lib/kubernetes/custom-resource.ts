import { z } from "zod";
import { type ValidatableModel, validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/** The metadata every custom resource lib/kubernetes builds carries: a name, its namespace and labels. */
export const customResourceMetadata = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63),
  labels: z.record(z.string(), z.string()).optional(),
});

/**
 * A custom resource validated twice, through the same `validatedManifest` exit as every other
 * object: first against its operator's own CRD schema when a `@kubernetes-models` package has it
 * (pass the model: types, enums and required fields as the API server checks them), then against a
 * zod schema of the fields the landing zone sets and the values it insists on (strict, so a
 * misspelt field or a weakened setting fails at synthesis instead of being ignored by the API server).
 */
export function validatedCustomResource(schema: z.ZodType, object: ManifestObject | ValidatableModel): ManifestObject {
  const upstream = isModel(object) ? object : undefined;
  const manifest = (upstream ? upstream.toJSON() : object) as ManifestObject;
  return validatedManifest({
    validate: () => {
      upstream?.validate();
      const result = schema.safeParse(manifest);
      if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; "));
    },
    toJSON: () => manifest,
  });
}

function isModel(object: ManifestObject | ValidatableModel): object is ValidatableModel {
  return typeof object.validate === "function" && typeof object.toJSON === "function";
}
