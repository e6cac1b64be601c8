import type { LandingZoneSpec } from "../spec/types.js";
import type { ServicePlan } from "./types.js";

/** Client tokens (JWT) checked at the gateway (design b of the seed). */
export interface TokenValidationPlan {
  /** `user-pool`: the landing zone creates the identity provider (Cognito); `external`: `issuer` issues the tokens. */
  readonly provider: "user-pool" | "external";
  /** Token issuer (`iss`), when external. */
  readonly issuer?: string;
  /** Signing keys of the issuer, when not found through OpenID discovery. */
  readonly jwksUri?: string;
  /** Accepted audiences; empty means any (Kubernetes) or the user pool's client (AWS). */
  readonly audiences: readonly string[];
}

/** The gateway delegates each call to a dedicated auth service (design c of the seed). */
export interface AuthorizerPlan {
  /** The auth service, one of the plan's services. */
  readonly service: string;
  /** The auth service's own route prefix; its routes are not checked, so clients can sign in. */
  readonly servicePath: string;
  /** Prefix of the check: the gateway asks `GET <authorizePath><original path>` with the caller's Authorization header; 2xx allows. */
  readonly authorizePath: string;
  /** Seconds a gateway may reuse an answer for the same token (AWS); 0 asks every time. */
  readonly cacheSeconds: number;
  /** Seconds the check may take before the call is denied. */
  readonly timeoutSeconds: number;
}

/** How callers are checked; absent when the gateway checks no one. */
export interface AuthPlan {
  readonly tokens?: TokenValidationPlan;
  readonly authorizer?: AuthorizerPlan;
}

/** The request header the gateway forwards to the auth service, and caches answers by. */
export const AUTHORIZATION_HEADER = "authorization";
/** Path the auth service answers checks under, below its own route prefix. */
export const AUTHORIZE_PATH = "/authorize";
/** Seconds the check may take: well under API Gateway's 10-second authorizer limit. */
export const AUTHORIZER_TIMEOUT_SECONDS = 3;

export function planAuth(spec: LandingZoneSpec, services: readonly ServicePlan[]): AuthPlan | undefined {
  const { auth, gateway } = spec;
  if (gateway.auth === "none") return undefined;
  if (gateway.auth === "jwt") {
    return {
      tokens: {
        provider: auth.issuer ? "external" : "user-pool",
        ...(auth.issuer ? { issuer: auth.issuer } : {}),
        ...(auth.jwksUri ? { jwksUri: auth.jwksUri } : {}),
        audiences: auth.audiences,
      },
    };
  }
  const service = services.find((s) => s.name === auth.service);
  // validate.ts guarantees the service for gateway.auth: authorizer.
  if (!service) throw new Error(`planAuth: auth.service "${auth.service}" is not a service. Fix: declare it under services`);
  const servicePath = service.path.replace(/\/+$/, "");
  return {
    authorizer: {
      service: service.name,
      servicePath: servicePath === "" ? "/" : servicePath,
      authorizePath: `${servicePath}${AUTHORIZE_PATH}`,
      cacheSeconds: gateway.authorizerCacheSeconds,
      timeoutSeconds: AUTHORIZER_TIMEOUT_SECONDS,
    },
  };
}

/**
 * The Lambda REQUEST authorizer (HTTP API payload 2.0, simple responses) both engines deploy: it
 * asks `AUTHORIZE_URL` + the request path with the caller's Authorization header and fails closed.
 */
export const AUTHORIZER_HANDLER_SOURCE = `"use strict";
exports.handler = async (event) => {
  const authorization = event.headers && event.headers.${AUTHORIZATION_HEADER};
  if (!authorization) return { isAuthorized: false };
  try {
    const response = await fetch(process.env.AUTHORIZE_URL + (event.rawPath || "/"), {
      headers: { ${AUTHORIZATION_HEADER}: authorization },
      redirect: "manual",
      signal: AbortSignal.timeout(${AUTHORIZER_TIMEOUT_SECONDS * 1000}),
    });
    return { isAuthorized: response.status >= 200 && response.status < 300 };
  } catch (error) {
    console.error(JSON.stringify({ message: "authorize call failed", error: error && error.name }));
    return { isAuthorized: false };
  }
};
`;

/** An IAM policy statement as JSON, the form both engines accept. */
export interface PolicyStatementJson {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
}

/**
 * The authorizer function's only permissions: write its own log group, and manage its network
 * interfaces in the VPC (the Describe calls work only on "*").
 */
export function authorizerPolicyStatements(arns: { readonly partition: string; readonly region: string; readonly account: string; readonly logGroupArn: string }): PolicyStatementJson[] {
  return [
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${arns.logGroupArn}:*` },
    { Sid: "DescribeNetwork", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
    {
      Sid: "ManageNetworkInterfaces",
      Effect: "Allow",
      Action: ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
      Resource: `arn:${arns.partition}:ec2:${arns.region}:${arns.account}:*/*`,
    },
  ];
}
