/**
 * The Pulumi program (Pulumi.yaml `main`). Reads the stack config once, deploys, and exports the
 * outputs other stacks read: `new pulumi.StackReference("org/ai-gateway/prod").getOutput("serviceUrl")`.
 */
import { loadStackConfig } from "./config";
import { deployStack } from "./stack";

const { outputs } = deployStack(loadStackConfig());

export const namespace = outputs.namespace;
export const serviceName = outputs.serviceName;
export const serviceUrl = outputs.serviceUrl;
export const adminServiceUrl = outputs.adminServiceUrl;
export const ingressHost = outputs.ingressHost;
export const ingressUrl = outputs.ingressUrl;
export const imageReference = outputs.imageReference;
export const adapterRulesYaml = outputs.adapterRulesYaml;
