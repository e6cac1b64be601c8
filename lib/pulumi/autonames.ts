import * as pulumi from "@pulumi/pulumi";
import { fittedAutoname, type NameKind } from "../plan/naming.js";

/** Resource types whose names are short enough for long zone and service names to break an autoname: the input naming each, and its rule. */
export type AutonamedTypes = Readonly<Record<string, { readonly property: string; readonly kind: NameKind }>>;

/**
 * A resource transformation giving each resource of `types` that has no name of its own a fitted
 * one where its autoname would pass the cloud's limit (`fittedAutoname`): a zone and service name
 * the spec allows must not fail `pulumi up`. Names that fit keep autonaming.
 */
export function autonameFitter(types: AutonamedTypes): pulumi.ResourceTransformation {
  return ({ type, name, props, opts }) => {
    const rule = types[type];
    if (!rule || props[rule.property] !== undefined || props[`${rule.property}Prefix`] !== undefined) return undefined;
    const fitted = fittedAutoname(rule.kind, name, pulumi.getProject(), pulumi.getStack());
    return fitted === undefined ? undefined : { props: { ...props, [rule.property]: fitted }, opts };
  };
}
