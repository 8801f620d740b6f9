export { gatewayConfigSchema, RESERVED_PATHS } from './schema.ts';
export type { GatewayConfig, GatewayConfigInput, RouteConfig, LimitsConfig, Protocol } from './schema.ts';
export { parseConfig, parseConfigText, assertConfig, formatProblems, ConfigError } from './load.ts';
export type { ConfigProblem, ConfigResult } from './load.ts';
