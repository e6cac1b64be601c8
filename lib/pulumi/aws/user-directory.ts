import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface UserDirectoryArgs {
  /**
   * Physical name of the user pool.
   * @default - the component name
   */
  readonly userPoolName?: string;
  /**
   * Deletion protection on the user pool and `protect` on it (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on the user pool.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly userPool?: (args: aws.cognito.UserPoolArgs) => void;
    readonly client?: (args: aws.cognito.UserPoolClientArgs) => void;
  };
}

/**
 * The identity provider that issues the clients' JWTs: a Cognito user pool (email sign-in, strong
 * passwords, optional TOTP MFA) and an app client without a secret; the gateway validates its tokens.
 *
 * @example
 * const users = new UserDirectory("shop-users", { retain: true });
 * // users.issuerUrl and users.clientId feed a JWT authorizer
 */
export class UserDirectory extends pulumi.ComponentResource {
  readonly userPoolId: pulumi.Output<string>;
  readonly userPoolArn: pulumi.Output<string>;
  /** App client id: the audience a JWT authorizer accepts. */
  readonly clientId: pulumi.Output<string>;
  /** Token issuer (`https://cognito-idp.<region>.amazonaws.com/<pool id>`). */
  readonly issuerUrl: pulumi.Output<string>;
  readonly nodes: { readonly userPool: aws.cognito.UserPool; readonly client: aws.cognito.UserPoolClient };

  constructor(name: string, args: UserDirectoryArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:UserDirectory", name, {}, opts);
    const retain = args.retain ?? false;
    const userPoolArgs: aws.cognito.UserPoolArgs = {
      name: args.userPoolName ?? name,
      usernameAttributes: ["email"],
      autoVerifiedAttributes: ["email"],
      passwordPolicy: { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: true, temporaryPasswordValidityDays: 3 },
      mfaConfiguration: "OPTIONAL",
      softwareTokenMfaConfiguration: { enabled: true },
      accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
      deletionProtection: retain ? "ACTIVE" : "INACTIVE",
      tags: { ...args.tags },
    };
    args.transform?.userPool?.(userPoolArgs);
    const userPool = new aws.cognito.UserPool(`${name}-pool`, userPoolArgs, { parent: this, protect: retain, retainOnDelete: retain });

    const clientArgs: aws.cognito.UserPoolClientArgs = {
      name: `${name}-client`,
      userPoolId: userPool.id,
      // Browser and mobile clients cannot keep a secret; SRP keeps the password off the wire.
      generateSecret: false,
      explicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      preventUserExistenceErrors: "ENABLED",
      enableTokenRevocation: true,
      accessTokenValidity: 60,
      idTokenValidity: 60,
      refreshTokenValidity: 30,
      tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
    };
    args.transform?.client?.(clientArgs);
    const client = new aws.cognito.UserPoolClient(`${name}-client`, clientArgs, { parent: this });

    const region = aws.getRegionOutput({}, { parent: this }).region;
    this.userPoolId = userPool.id;
    this.userPoolArn = userPool.arn;
    this.clientId = client.id;
    this.issuerUrl = pulumi.interpolate`https://cognito-idp.${region}.amazonaws.com/${userPool.id}`;
    this.nodes = { userPool, client };
    this.registerOutputs({ userPoolId: this.userPoolId, userPoolArn: this.userPoolArn, clientId: this.clientId, issuerUrl: this.issuerUrl });
  }
}
