import * as pulumi from "@pulumi/pulumi";

/** One Allow statement of an IAM policy document, resources as Pulumi inputs. */
export interface AllowStatement {
  /** Statement id, unique within its document. */
  readonly Sid?: string;
  readonly Action: readonly string[];
  readonly Resource: readonly pulumi.Input<string>[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string> | readonly pulumi.Input<string>[]>>>>;
}

/** An IAM policy document (JSON) allowing the statements. */
export function allowPolicyDocument(statements: readonly AllowStatement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements.map((s) => ({ Effect: "Allow", ...s })) });
}

/** Denies a resource's actions to every principal not tagged `<tagKey>` with one of `values`. */
export function denyUntagged(actions: readonly string[], resource: pulumi.Input<string>, tagKey: string, values: readonly string[]) {
  return { Sid: "OnlyDeclaredServices", Effect: "Deny", Principal: "*", Action: [...actions], Resource: resource, Condition: { StringNotEquals: { [`aws:PrincipalTag/${tagKey}`]: [...values] } } };
}

/**
 * One IAM policy document with every statement of `documents` (JSON policy documents), so a role
 * needs one inline policy where CDK writes its DefaultPolicy. Statement ids must stay unique.
 */
export function mergePolicyDocuments(documents: readonly pulumi.Input<string>[]): pulumi.Output<string> {
  return pulumi.all([...documents]).apply(mergePolicyTexts);
}

/** The plain merge of {@link mergePolicyDocuments}: statements in order, a repeated Sid refused. */
export function mergePolicyTexts(texts: readonly string[]): string {
  const statements = texts.flatMap((text) => {
    const { Statement } = JSON.parse(text) as { Statement: Record<string, unknown> | Record<string, unknown>[] };
    return Array.isArray(Statement) ? Statement : [Statement];
  });
  const sids = statements.map((s) => s["Sid"]).filter((sid): sid is string => typeof sid === "string");
  const repeated = sids.find((sid, i) => sids.indexOf(sid) !== i);
  if (repeated !== undefined) throw new Error(`mergePolicyDocuments: Sid "${repeated}" appears in more than one statement. Fix: give each statement of the merged documents its own Sid`);
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
