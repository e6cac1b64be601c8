import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { allowPolicyDocument, mergePolicyDocuments, mergePolicyTexts } from "../../../lib/pulumi/aws/policy-document.js";
import { runProgram } from "../harness.js";

const settled = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

describe("mergePolicyDocuments", () => {
  it("keeps every statement of every document, in order, in one document", async () => {
    let merged: unknown;
    await runProgram(async () => {
      const text = await settled(
        mergePolicyDocuments([
          allowPolicyDocument([{ Sid: "ReadOwnSecrets", Action: ["secretsmanager:GetSecretValue"], Resource: [pulumi.output("arn:secret")] }]),
          // A single statement object is valid IAM JSON too.
          JSON.stringify({ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "sns:Publish", Resource: "arn:topic" } }),
        ]),
      );
      merged = JSON.parse(text);
    });
    expect(merged).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "ReadOwnSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["arn:secret"] },
        { Effect: "Allow", Action: "sns:Publish", Resource: "arn:topic" },
      ],
    });
  });

  it("refuses two statements with one Sid, which IAM would reject", () => {
    const doc = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Read", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:bucket/*" }] });
    expect(() => mergePolicyTexts([doc, doc])).toThrow('mergePolicyDocuments: Sid "Read" appears in more than one statement. Fix: give each statement of the merged documents its own Sid');
  });
});
