import { Deployment } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { namespaceManifests, renderYaml, serviceWorkload, validatedManifest } from "../../lib/kubernetes/index.js";
import { prodPlan } from "./fixtures.js";

describe("validatedManifest", () => {
  it("returns the plain object of a valid model", () => {
    const manifest = validatedManifest(new Service({ metadata: { name: "a", namespace: "n" }, spec: { type: "ClusterIP" } }));
    expect(manifest).toEqual({ apiVersion: "v1", kind: "Service", metadata: { name: "a", namespace: "n" }, spec: { type: "ClusterIP" } });
    expect(manifest).not.toBeInstanceOf(Service);
  });

  it("throws on an invalid object, naming it and the schema error", () => {
    expect(() => validatedManifest(new Service({ metadata: { name: "a", namespace: "n" }, spec: { type: "Public" as "ClusterIP" } }))).toThrow(
      /Service n\/a is not a valid v1 object: .*spec\/type must be equal to one of the allowed values/,
    );
    expect(() => validatedManifest(new Deployment({ metadata: { name: "d" }, spec: { replicas: "two" as unknown as number, selector: {}, template: {} } }))).toThrow(
      /Deployment d is not a valid apps\/v1 object: .*spec\/replicas must be integer/,
    );
    expect(() => validatedManifest(new PeerAuthentication({ metadata: { name: "default" }, spec: { mtls: { mode: "ON" as "STRICT" } } }))).toThrow(
      /PeerAuthentication default .*mtls\/mode must be equal to one of the allowed values/,
    );
  });
});

describe("renderYaml", () => {
  const objects = [...namespaceManifests(prodPlan), ...serviceWorkload(prodPlan, prodPlan.services[0]!, { secretName: "orders-secrets" })];
  const yaml = renderYaml(objects);

  it("renders one document per object, in order, that parses back to the same objects", () => {
    const documents = parseAllDocuments(yaml);
    expect(documents).toHaveLength(objects.length);
    expect(documents.map((d) => d.toJS())).toEqual(objects);
  });

  it("quotes strings a YAML 1.1 parser (kubectl) would read as booleans or numbers", () => {
    expect(yaml).toContain('FEATURE_X: "on"');
    const configMap = parseAllDocuments(yaml, { version: "1.1" }).map((d) => d.toJS()).find((o) => o.kind === "ConfigMap");
    expect(configMap.data.FEATURE_X).toBe("on");
  });

  it("renders nothing for no objects", () => {
    expect(renderYaml([])).toBe("");
  });

  it("matches the rendered workload snapshot", () => {
    expect(yaml).toMatchSnapshot();
  });
});
