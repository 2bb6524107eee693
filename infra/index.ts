/**
 * The package's public face: the components, their argument types and the pure builders, for
 * stacks that deploy the gateway their own way. (The stack program itself is main.ts.)
 */
export { AiGateway, type AiGatewayArgs } from "./components/ai-gateway";
export { GatewayImage, type GatewayImageArgs, type GatewayImageBuildArgs } from "./components/gateway-image";
export { GatewayConfig, type GatewayConfigArgs } from "./components/gateway-config";
export { GatewayDeployment, type GatewayDeploymentArgs } from "./components/gateway-deployment";
export { GatewayAutoscaler, type GatewayAutoscalerArgs } from "./components/gateway-autoscaler";
export { Redis, type RedisArgs, type RedisInClusterArgs } from "./components/redis";
export { AlertRules, type AlertRulesArgs } from "./components/alert-rules";
export { GatewayDashboard, type GatewayDashboardArgs, DASHBOARD_SIDECAR_LABELS } from "./components/grafana-dashboard";
export { IngressTuning, type IngressTuningArgs, type IngressTlsArgs, type ControllerTuningArgs } from "./components/ingress-tuning";
export { GatewayNetworkPolicy, type GatewayNetworkPolicyArgs, type PeerPodsArgs } from "./components/network-policy";

export { buildAlertRuleGroups, DEFAULT_ALERT_THRESHOLDS, EXTERNAL_METRICS, type AlertRule, type RuleGroup, type AlertThresholds } from "./builders/alert-rules";
export { buildGatewayDashboard, type Dashboard, type DashboardPanel } from "./builders/grafana-dashboard";
export { buildAdapterRules, buildHpaBehavior, buildHpaMetrics, PODS_METRIC_NAME } from "./builders/autoscaling";
export { buildGatewayConfigDocument, upstreamKeyEnvName, SECRET_ENV, type GatewayConfigDocument } from "./builders/gateway-config-doc";
export { buildIngressAnnotations, buildControllerTuningData, proxyReadTimeoutFor } from "./builders/ingress";
export { componentLabels, selectorLabels } from "./builders/labels";
export { buildGatewayPodSpec, buildGatewayPodTemplate } from "./builders/pod-spec";
export { deriveShutdownGraceMs, shutdownTiming, terminationGracePeriodFor } from "./builders/shutdown";

export type { GatewayConfigInput } from "../gateway/src/config/schema";
export type { StackOutputs } from "./stack";
