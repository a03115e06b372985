'use strict';

const fs = require('node:fs');
const path = require('node:path');

const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

/**
 * Project-specific packaging steps the framework and its plugins have no setting for.
 * Runs on the compiled template just before it is saved, i.e. after
 * serverless-iam-roles-per-function has created the per-function roles.
 *
 * 1. Every log group of the template without a key is encrypted with the DataAtRestKey
 *    CMK (the framework's Lambda log groups have no KmsKeyId setting in serverless.yml).
 *    The key policy lets CloudWatch Logs use the key only for log groups whose name
 *    contains `<service>-<stage>-`, so other log groups must be named that way.
 * 2. Every role of a function with active tracing may write X-Ray segments
 *    (serverless-iam-roles-per-function builds roles without them; these two actions
 *    support no resource scoping).
 * 3. The framework's shared default role is dropped when no resource uses it, so the
 *    template holds exactly one role per function.
 * 4. `serverless package` also runs while serverless.yml lists no function yet:
 *    serverless-esbuild then skips bundling but still copies its (never created) work
 *    folder and fails with ENOENT.
 * 6. Resources with `Metadata: { cv:inlineCode: <file> }` get that file as `Code.ZipFile` (custom
 *    resources that need no bundle).
 * 7. Subscription filters on `AWSIotLogsV2` depend on the log group when this stack creates it, so
 *    CloudFormation creates the log group first on an empty account.
 * 8. The REST API's stage is a resource of its own (access log, execution log at ERROR, X-Ray, stage
 *    throttling): the framework only sets these through API calls after a deployment, which the template
 *    checkers never see. The framework's empty REST API `Policy` is dropped.
 * 9. Lint hygiene the CloudFormation validator asks for: a DependsOn already implied by a Ref/GetAtt
 *    in the same resource is dropped (W3005), and the framework's retained Lambda versions get the
 *    matching UpdateReplacePolicy (W3011).
 * 5. `serverless invoke local` loads our ES module bundles (`.mjs`): the framework only
 *    tries `<handler>`, `<handler>.js` and `<handler>.cjs`, so a `.cjs` shim that imports
 *    the bundle is written next to it. Listed after serverless-esbuild in serverless.yml
 *    so that this hook runs after the bundle is built. The shim turns on source maps in the
 *    CLI's process (stack traces name the TypeScript sources, as `--enable-source-maps` does
 *    in Lambda) and prints an authorizer's `Unauthorized` (API Gateway's 401) as that outcome,
 *    without a stack trace: it is an expected denial, not a crash.
 * 6. Deployed bundles alias `@aws-sdk/credential-provider-node` to the environment-only provider
 *    (custom.esbuild.alias in serverless.yml); `serverless invoke local` runs with the developer's
 *    credentials (profiles, SSO) or the local cloud's, so it bundles the SDK's full default chain.
 *    Done in the constructor: serverless-esbuild reads custom.esbuild in its `initialize` hook.
 */
class CvPackaging {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.fullCredentialChainForInvokeLocal();
    this.hooks = {
      'package:createDeploymentArtifacts': () => this.allowNoFunctions(),
      'before:aws:package:finalize:saveServiceState': () => this.finalizeTemplate(),
      'before:invoke:local:invoke': () => this.shimEsmHandler(),
      // Before invoke local's own loadEnvVars (core plugins' hooks on an event run first).
      initialize: () => this.localStageEnvironment(),
    };
  }

  /**
   * Stage `local` (`serverless invoke local --stage local`): the functions' environment holds
   * CloudFormation references (!Ref table, !GetAtt key ARN, CA id) that only exist after a
   * deployment. They are resolved from .local-cloud/state.json, written by `pnpm run local-cloud`,
   * and the SDK is pointed at the local cloud (AWS_ENDPOINT_URL and dummy credentials).
   */
  async localStageEnvironment() {
    const commands = this.serverless.processedInput?.commands ?? [];
    if (commands.join(' ') !== 'invoke local') return;
    const options = this.options;
    if ((options.stage ?? this.serverless.service.provider.stage) !== 'local') return;
    // CV_LOCAL_CLOUD_STATE: another state file (`local-cloud --state`, test/invoke-local.test.ts).
    const path =
      process.env.CV_LOCAL_CLOUD_STATE ??
      require('node:path').join(this.serverless.serviceDir, '.local-cloud/state.json');
    const start = 'start it in another terminal with `sh scripts/toolchain.sh pnpm run local-cloud`';
    let state;
    try {
      state = JSON.parse(require('node:fs').readFileSync(path, 'utf8'));
    } catch {
      throw new Error(`stage local: the local cloud is not running (no ${path}): ${start}`);
    }
    // A state file outlives a local cloud that was killed: ask the endpoint before invoking.
    try {
      const response = await fetch(`${state.endpoint}/__admin/state`, { signal: AbortSignal.timeout(3000) });
      if (!response.ok) throw new Error(String(response.status));
      await response.arrayBuffer();
    } catch {
      throw new Error(
        `stage local: the local cloud is not running (nothing answers at ${state.endpoint}; ${path} is left from an earlier run): ${start}`,
      );
    }
    const resolve = (name, value) => {
      if (value === null || typeof value !== 'object') return value;
      const key =
        value.Ref !== undefined
          ? `Ref:${value.Ref}`
          : value['Fn::GetAtt']
            ? `GetAtt:${[].concat(value['Fn::GetAtt']).join('.')}`
            : undefined;
      if (key && state.resolve[key] !== undefined) return state.resolve[key];
      throw new Error(`stage local: no local value for ${name} (${JSON.stringify(value)})`);
    };
    const fix = (env) => {
      if (!env) return;
      for (const [name, value] of Object.entries(env)) env[name] = resolve(name, value);
    };
    fix(this.serverless.service.provider.environment);
    const fn = this.serverless.service.getFunction(options.function);
    fn.environment = { ...(fn.environment ?? {}), ...state.env };
    // The local cloud enforces IAM: the function signs with the access key it maps to the function's role.
    const accessKey = state.functionAccessKeys?.[options.function];
    if (accessKey !== undefined) fn.environment.AWS_ACCESS_KEY_ID = accessKey;
    fix(fn.environment);
  }

  fullCredentialChainForInvokeLocal() {
    const commands = this.serverless.processedInput?.commands ?? [];
    if (commands.join(' ') !== 'invoke local') return;
    const alias = this.serverless.service.custom?.esbuild?.alias;
    if (alias) delete alias['@aws-sdk/credential-provider-node'];
  }

  allowNoFunctions() {
    if (this.serverless.service.getAllFunctions().length > 0) return;
    fs.mkdirSync(path.join(this.serverless.serviceDir, '.esbuild', '.serverless'), { recursive: true });
  }

  shimEsmHandler() {
    const fn = this.serverless.service.getFunction(this.serverless.processedInput.options.function);
    const dot = fn.handler.lastIndexOf('.');
    const [modulePath, name] = [fn.handler.slice(0, dot), fn.handler.slice(dot + 1)];
    const bundle = path.join(this.serverless.config.servicePath, `${modulePath}.mjs`);
    if (!fs.existsSync(bundle)) return;
    const url = JSON.stringify(require('node:url').pathToFileURL(bundle).href);
    const key = JSON.stringify(name);
    const shim = `// Written by serverless/plugins/cv-packaging.cjs for \`serverless invoke local\`.
process.setSourceMapsEnabled(true);
exports[${key}] = async (event, context) => {
  const handler = (await import(${url}))[${key}];
  try {
    return await handler(event, context);
  } catch (error) {
    // A Lambda authorizer answers API Gateway's 401 by failing with exactly "Unauthorized".
    if (error instanceof Error && error.constructor === Error && error.message === 'Unauthorized') {
      error.stack = 'expected denial: API Gateway answers 401 Unauthorized (the reason is in the log line above)';
    }
    throw error;
  }
};
`;
    fs.writeFileSync(path.join(this.serverless.config.servicePath, `${modulePath}.cjs`), shim);
  }

  finalizeTemplate() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    this.encryptLogGroups(resources);
    this.allowTracing(resources);
    this.dropUnusedDefaultRole(resources);
    this.inlineCode(resources);
    this.orderIotLogSubscriptions(resources);
    this.restApiStage(resources);
    this.tidyDependencies(resources);
  }

  tidyDependencies(resources) {
    for (const resource of Object.values(resources)) {
      if (resource.Type === 'AWS::Lambda::Version' && resource.DeletionPolicy === 'Retain') {
        resource.UpdateReplacePolicy ??= 'Retain';
      }
      if (resource.DependsOn === undefined) continue;
      const body = JSON.stringify(resource.Properties ?? {});
      const implied = (id) =>
        body.includes(`{"Ref":"${id}"}`) ||
        body.includes(`"Fn::GetAtt":["${id}",`) ||
        body.includes(`\${${id}.`) ||
        body.includes(`\${${id}}`);
      const kept = [].concat(resource.DependsOn).filter((id) => !implied(id));
      if (kept.length === 0) delete resource.DependsOn;
      else resource.DependsOn = kept;
    }
  }

  inlineCode(resources) {
    for (const resource of Object.values(resources)) {
      const file = resource.Metadata?.['cv:inlineCode'];
      if (typeof file !== 'string') continue;
      const code = fs.readFileSync(path.join(this.serverless.serviceDir, file), 'utf8');
      if (code.length > 4096) throw new Error(`${file}: ${code.length} characters, more than ZipFile's 4096`);
      resource.Properties.Code = { ZipFile: code };
    }
  }

  orderIotLogSubscriptions(resources) {
    const logGroupId = Object.keys(resources).find(
      (id) =>
        resources[id].Type === 'AWS::Logs::LogGroup' &&
        resources[id].Properties?.LogGroupName === 'AWSIotLogsV2',
    );
    if (!logGroupId) return;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::Logs::SubscriptionFilter') continue;
      if (resource.Properties?.LogGroupName !== 'AWSIotLogsV2') continue;
      resource.DependsOn = [...new Set([...[].concat(resource.DependsOn ?? []), logGroupId])];
    }
  }

  restApiStage(resources) {
    const api = resources.ApiGatewayRestApi;
    if (!api) return;
    if (api.Properties?.Policy === '') delete api.Properties.Policy;
    const deploymentId = Object.keys(resources).find(
      (id) => resources[id].Type === 'AWS::ApiGateway::Deployment',
    );
    const limits = this.serverless.service.custom?.userApiStage ?? {};
    if (!deploymentId || !resources.RestApiAccessLogGroup) return;
    const stageName = resources[deploymentId].Properties.StageName;
    delete resources[deploymentId].Properties.StageName;
    resources.ApiGatewayStage = {
      Type: 'AWS::ApiGateway::Stage',
      DependsOn: ['RestApiExecutionLogGroup', ...(resources.ApiGatewayAccount ? ['ApiGatewayAccount'] : [])],
      Properties: {
        RestApiId: { Ref: 'ApiGatewayRestApi' },
        DeploymentId: { Ref: deploymentId },
        StageName: stageName,
        TracingEnabled: true,
        AccessLogSetting: {
          DestinationArn: { 'Fn::GetAtt': ['RestApiAccessLogGroup', 'Arn'] },
          Format: JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            resourcePath: '$context.resourcePath',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            userSub: '$context.authorizer.principalId',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        },
        MethodSettings: [
          {
            ResourcePath: '/*',
            HttpMethod: '*',
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
            MetricsEnabled: true,
            ThrottlingRateLimit: Number(limits.rateLimit),
            ThrottlingBurstLimit: Number(limits.burstLimit),
          },
        ],
      },
    };
    // The admin API's stage (serverless/resources/admin-api.yml) logs through the same account role.
    if (resources.AdminApiStage && resources.ApiGatewayAccount) {
      const deps = [].concat(resources.AdminApiStage.DependsOn ?? []);
      resources.AdminApiStage.DependsOn = [...new Set([...deps, 'ApiGatewayAccount'])];
    }
    // Whatever referred to the stage through the deployment now waits for the stage resource.
    for (const [id, resource] of Object.entries(resources)) {
      if (id === 'ApiGatewayStage' || resource.Type === 'AWS::ApiGateway::Deployment') continue;
      const deps = [].concat(resource.DependsOn ?? []);
      if (deps.includes(deploymentId)) resource.DependsOn = [...new Set([...deps, 'ApiGatewayStage'])];
    }
  }

  encryptLogGroups(resources) {
    if (!resources.DataAtRestKey) return;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::Logs::LogGroup') continue;
      resource.Properties = resource.Properties || {};
      if (resource.Properties.KmsKeyId === undefined) {
        resource.Properties.KmsKeyId = { 'Fn::GetAtt': ['DataAtRestKey', 'Arn'] };
      }
    }
  }

  allowTracing(resources) {
    for (const fn of Object.values(resources)) {
      if (fn.Type !== 'AWS::Lambda::Function') continue;
      if (fn.Properties?.TracingConfig?.Mode !== 'Active') continue;
      const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0];
      const role = roleId && resources[roleId];
      const statements = role?.Properties?.Policies?.[0]?.PolicyDocument?.Statement;
      if (!Array.isArray(statements)) continue;
      const present = statements.some((s) => [s.Action].flat().includes(XRAY_ACTIONS[0]));
      if (!present) statements.push({ Effect: 'Allow', Action: XRAY_ACTIONS, Resource: '*' });
    }
  }

  dropUnusedDefaultRole(resources) {
    const id = this.serverless.providers.aws.naming.getRoleLogicalId();
    if (!resources[id]) return;
    const others = Object.entries(resources).filter(([key]) => key !== id);
    if (!JSON.stringify(others).includes(`"${id}"`)) delete resources[id];
  }
}

module.exports = CvPackaging;
