/** Actions by which a principal publishes to or consumes from the broker or a saga's queues. */
const MESSAGING_ACTIONS = ["sns:Publish", "events:PutEvents", "sqs:ReceiveMessage"];

interface CfnTemplate {
  readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Properties?: Readonly<Record<string, unknown>> }>>;
}

/**
 * Every role of the templates granted a messaging action (`<stack>/<logical id>`), and those of them
 * without the `msa:service` tag the broker's and sagas' resource policies require.
 */
export function messagingRoles(templates: ReadonlyMap<string, CfnTemplate>): { checked: string[]; untagged: string[] } {
  const checked: string[] = [];
  const untagged: string[] = [];
  for (const [stack, t] of templates) {
    for (const policy of Object.values(t.Resources).filter((r) => r.Type === "AWS::IAM::Policy")) {
      const statements = (policy.Properties!["PolicyDocument"] as { Statement: { Effect: string; Action: string | string[] }[] }).Statement;
      if (!statements.some((s) => s.Effect === "Allow" && [s.Action].flat().some((a) => MESSAGING_ACTIONS.includes(a)))) continue;
      for (const { Ref: role } of policy.Properties!["Roles"] as { Ref: string }[]) {
        const tags = (t.Resources[role]?.Properties?.["Tags"] ?? []) as { Key: string; Value: string }[];
        checked.push(`${stack}/${role}`);
        if (!tags.some((tag) => tag.Key === "msa:service")) untagged.push(`${stack}/${role}`);
      }
    }
  }
  return { checked, untagged };
}
