import * as pulumi from "@pulumi/pulumi";

/** One Allow statement of an IAM policy document, resources as Pulumi inputs. */
export interface AllowStatement {
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
