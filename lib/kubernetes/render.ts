import { stringify } from "yaml";
import type { ManifestObject } from "./types.js";

/** What every kubernetes-models / @kubernetes-models/istio class offers. */
export interface ValidatableModel {
  validate(): void;
  toJSON(): unknown;
}

/**
 * The single exit for every object lib/kubernetes builds: validates the model against its schema
 * and returns it as a plain manifest, so an invalid object fails at synthesis, not at apply time.
 */
export function validatedManifest(model: ValidatableModel): ManifestObject {
  const manifest = model.toJSON() as ManifestObject;
  try {
    model.validate();
  } catch (error) {
    const where = `${manifest.kind} ${manifest.metadata?.namespace ? `${manifest.metadata.namespace}/` : ""}${manifest.metadata?.name ?? "(unnamed)"}`;
    throw new Error(`${where} is not a valid ${manifest.apiVersion} object: ${(error as Error).message}`, { cause: error });
  }
  return manifest;
}

/** Multi-document YAML, one document per object, in the given (apply) order. */
export function renderYaml(objects: readonly ManifestObject[]): string {
  // YAML 1.1 quoting, because kubectl's parser reads unquoted on/yes/no as booleans and breaks ConfigMaps.
  return objects.map((object) => stringify(object, { version: "1.1", lineWidth: 0 })).join("---\n");
}
