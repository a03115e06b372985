/**
 * @cv/local-cloud: development and tests only. The AWS APIs the functions use, served on
 * loopback for the standard AWS SDK v3 (`AWS_ENDPOINT_URL`), and the MQTT gateway.
 */
export { AwsApiError, LocalCloudError, LocalCloudStartError } from './errors.js';
export {
  type AuthorizationFailure,
  DEFAULT_GATEWAY_PORT,
  type GatewayOptions,
  type IotRule,
  MAX_PAYLOAD_BYTES,
  MqttGateway,
  type ParsedRule,
  parseRuleSql,
  topicMatches,
} from './gateway.js';
export { type Credentials, type Denial, IamEnforcer } from './iam.js';
export { type IotRequestContext, isAllowed } from './iot-policy.js';
export {
  type BrokerHooks,
  type BrokerMessage,
  type Connection,
  type MessageProperties,
  MqttBroker,
  SubscriptionIndex,
  validTopicFilter,
} from './mqtt-broker.js';
export {
  attestationIssuerKeySha256,
  type CertificateAuthority,
  createCertificateAuthority,
  generateKeyPair,
  iotCertificateId,
  issueLeaf,
  pemOf,
  randomSerial,
  x509,
} from './pki.js';
export {
  AWS_DEFAULT_QUOTAS,
  gateCall,
  LAMBDA_CONCURRENCY,
  QuotaEnforcer,
  type QuotaOptions,
  type QuotaSpec,
  type QuotaStats,
  restOperation,
  throttlingError,
} from './quotas.js';
export {
  DEFAULT_PCA_ARN,
  type ExtraRoute,
  LocalCloud,
  type LocalCloudOptions,
  OPERATOR_ACCESS_KEY,
  signingAccessKey,
  signingService,
} from './server.js';
export type { IotCertificate, IotService, JitrEvent, PublishProperties } from './services/iot.js';
export type { KmsKeySeed } from './services/kms.js';
export type { ApiGatewayV2Service, S3Service } from './services/storage.js';
export { createTables, type TableNames, tableDefinitions } from './tables.js';
