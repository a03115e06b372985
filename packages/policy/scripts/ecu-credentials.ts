// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless Framework variables are literal ${...} strings
import { renderCredentialProviderResources } from '../src/index.js';

/** The credential-provider resources of this service, as serverless/resources/ecu-credentials.yml holds them. */
export function ecuCredentialResources(): ReturnType<typeof renderCredentialProviderResources> {
  return renderCredentialProviderResources({
    roleAliasName: '${self:service}-${sls:stage}-ecu',
    commandEncryptionKeyArn: { 'Fn::GetAtt': ['CommandEncryptionKey', 'Arn'] },
    telemetryKeyArn: { 'Fn::GetAtt': ['TelemetryKey', 'Arn'] },
    credentialDurationSeconds: 3600,
  });
}
