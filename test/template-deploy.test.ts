/**
 * Issue 14 on the packaged dev template: what a first deployment on an empty account needs, in an order
 * CloudFormation accepts, and the observability a platform team expects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnResource, CfnTemplate } from './template/iam.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The playbook's check names, read from classify.ts's PLAYBOOK table (docs/architecture.md §8). */
const PLAYBOOK_CHECKS = [
  ...(
    /export const PLAYBOOK[^{]*\{([^}]*)\}/.exec(
      readFileSync(join(root, 'functions/remediation-steps/src/classify.ts'), 'utf8'),
    )?.[1] ?? ''
  ).matchAll(/^\s*([A-Z_]+_CHECK):/gm),
].map((m) => m[1] as string);
let t: CfnTemplate;
const R = () => t.Resources ?? {};
const of = (type: string) => Object.entries(R()).filter(([, r]) => r.Type === type);
// biome-ignore lint/suspicious/noExplicitAny: template properties of many shapes, asserted field by field
const p = (r: CfnResource | undefined) => (r?.Properties ?? {}) as Record<string, any>;

beforeAll(() => {
  const path = join(root, '.serverless', 'cloudformation-template-update-stack.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`pnpm run package\` first`);
  t = JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
});

describe('first deployment on an empty account', () => {
  it('creates AWSIotLogsV2 (encrypted, with retention) before every subscription filter on it', () => {
    const [id, group] = of('AWS::Logs::LogGroup').find(([, r]) => p(r).LogGroupName === 'AWSIotLogsV2') ?? [];
    expect(id).toBeDefined();
    expect(p(group).RetentionInDays).toBeGreaterThan(0);
    expect(p(group).KmsKeyId).toEqual({ 'Fn::GetAtt': ['DataAtRestKey', 'Arn'] });
    const filters = of('AWS::Logs::SubscriptionFilter').filter(
      ([, r]) => p(r).LogGroupName === 'AWSIotLogsV2',
    );
    expect(filters.length).toBeGreaterThan(0);
    for (const [, f] of filters) expect([f.DependsOn].flat()).toContain(id);
    // The key policy lets CloudWatch Logs encrypt it.
    expect(JSON.stringify(p(R().DataAtRestKey).KeyPolicy)).toContain('log-group:AWSIotLogsV2');
  });

  it('turns AWS IoT v2 logging on at a level that records authorization failures', () => {
    const [[, logging] = []] = of('AWS::IoT::Logging');
    expect(['ERROR', 'WARN', 'INFO', 'DEBUG']).toContain(p(logging).DefaultLogLevel);
    expect(p(logging).RoleArn).toEqual({ 'Fn::GetAtt': ['IotLoggingRole', 'Arn'] });
  });

  it('enables every audit check the playbook handles, notifies the alert topic, and schedules them', () => {
    const [[, audit] = []] = of('AWS::IoT::AccountAuditConfiguration');
    const enabled = Object.entries(p(audit).AuditCheckConfigurations as Record<string, { Enabled: boolean }>)
      .filter(([, c]) => c.Enabled)
      .map(([k]) => k.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase());
    expect(enabled.sort()).toEqual([...PLAYBOOK_CHECKS].sort());
    expect(p(audit).AuditNotificationTargetConfigurations.Sns).toMatchObject({
      Enabled: true,
      TargetArn: { Ref: 'AlertTopic' },
    });
    const [[, scheduled] = []] = of('AWS::IoT::ScheduledAudit');
    expect(p(scheduled).Frequency).toBe('DAILY');
    expect([...p(scheduled).TargetCheckNames].sort()).toEqual([...PLAYBOOK_CHECKS].sort());
  });

  it('pins the mTLS domain to the version of the trust bundle object in a versioned, TLS-only bucket', () => {
    const mtls = p(R().CertBrokerDomainName).MutualTlsAuthentication;
    expect(mtls.TruststoreVersion).toEqual({ 'Fn::GetAtt': ['TrustBundleObject', 'VersionId'] });
    expect(JSON.stringify(mtls.TruststoreUri)).toContain('TruststoreBucket');
    expect(p(R().TruststoreBucket).VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p(R().TruststoreBucket).BucketEncryption).toBeDefined();
    expect(JSON.stringify(p(R().TruststoreBucketPolicy).PolicyDocument)).toContain(
      '"aws:SecureTransport":"false"',
    );
    expect(p(R().TrustBundleObject).Body).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(p(R().TrustBundleObjectFunction).Code.ZipFile).toContain('exports.handler');
  });

  it('keeps the Detect security profile off by default', () => {
    const [[, profile] = []] = of('AWS::IoT::SecurityProfile');
    expect(profile?.Condition).toBe('DetectSecurityProfileEnabled');
    expect(
      JSON.stringify(
        (t as { Conditions?: Record<string, unknown> }).Conditions?.DetectSecurityProfileEnabled,
      ),
    ).toContain('"detect-false"');
  });
});

describe('observability', () => {
  it('puts every queue behind a TLS-only policy', () => {
    const covered = new Set(
      of('AWS::SQS::QueuePolicy')
        .filter(([, r]) => JSON.stringify(p(r).PolicyDocument).includes('"aws:SecureTransport":"false"'))
        .flatMap(([, r]) => (p(r).Queues as { Ref: string }[]).map((q) => q.Ref)),
    );
    for (const [id] of of('AWS::SQS::Queue')) expect(covered.has(id), id).toBe(true);
  });

  it('gives the EventBridge rule a DLQ and retries, and every asynchronous function a failure destination', () => {
    for (const [, rule] of of('AWS::Events::Rule')) {
      for (const target of p(rule).Targets) {
        expect(target.DeadLetterConfig?.Arn).toBeDefined();
        expect(target.RetryPolicy?.MaximumRetryAttempts).toBeGreaterThan(0);
      }
    }
    const destined = of('AWS::Lambda::EventInvokeConfig')
      .filter(([, r]) => p(r).DestinationConfig?.OnFailure?.Destination)
      .map(([, r]) => p(r).FunctionName.Ref);
    for (const fn of [
      'JitrHandlerLambdaFunction',
      'TelemetryIngestLambdaFunction',
      'AuthzDetectorLambdaFunction',
    ]) {
      expect(destined, fn).toContain(fn);
    }
  });

  it('logs both APIs to log groups the data-at-rest key may encrypt, with REST stage throttling and X-Ray', () => {
    const stage = p(R().ApiGatewayStage);
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.AccessLogSetting.DestinationArn).toEqual({ 'Fn::GetAtt': ['RestApiAccessLogGroup', 'Arn'] });
    expect(stage.MethodSettings[0]).toMatchObject({ LoggingLevel: 'ERROR', DataTraceEnabled: false });
    expect(stage.MethodSettings[0].ThrottlingRateLimit).toBeGreaterThan(0);
    expect(p(R().HttpApiStage).AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'],
    });
    for (const id of ['RestApiAccessLogGroup', 'HttpApiLogGroup', 'RemediationStateMachineLogGroup']) {
      expect(String(p(R()[id]).LogGroupName), id).toContain('cv-security-dev-');
    }
    const [[, machine] = []] = of('AWS::StepFunctions::StateMachine');
    expect(p(machine).LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
  });

  it('names every log group encrypted with DataAtRestKey so that the key policy lets CloudWatch Logs use the key', () => {
    // `${X}` placeholders become <X> on both sides; `*` in a pattern is a glob.
    const text = (v: unknown) =>
      (typeof v === 'string' ? v : String((v as { 'Fn::Sub'?: unknown })?.['Fn::Sub'] ?? '')).replace(
        /\$\{([^}]+)\}/g,
        '<$1>',
      );
    const statement = (
      p(R().DataAtRestKey).KeyPolicy.Statement as {
        Sid?: string;
        Condition: { ArnLike: Record<string, unknown> };
      }[]
    ).find((st) => st.Sid === 'CloudWatchLogsEncryptsOwnLogGroups');
    const patterns = [statement?.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']]
      .flat()
      .map((a) => text(a).replace(/^.*:log-group:/, ''))
      .map(
        (g) =>
          new RegExp(
            `^${g
              .split('*')
              .map((x) => x.replace(/[.+?^$()|[\]\\{}]/g, '\\$&'))
              .join('.*')}$`,
          ),
      );
    expect(patterns.length).toBeGreaterThan(0);
    const encrypted = of('AWS::Logs::LogGroup').filter(([, r]) =>
      JSON.stringify(p(r).KmsKeyId).includes('DataAtRestKey'),
    );
    expect(encrypted.length).toBeGreaterThan(15);
    for (const [id, group] of encrypted) {
      const name = text(p(group).LogGroupName);
      expect(name, id).not.toBe('');
      expect(
        patterns.some((re) => re.test(name)),
        `${id} ${name}`,
      ).toBe(true);
    }
    // The framework's own API log group names would not match: the class of mistake this guards against.
    expect(patterns.some((re) => re.test('/aws/api-gateway/cv-security-dev'))).toBe(false);
    expect(patterns.some((re) => re.test('/aws/http-api/cv-security-dev'))).toBe(false);
  });

  it('alarms on the alert topic for every function, every dead-letter queue and failed remediations; one dashboard', () => {
    const alarms = of('AWS::CloudWatch::Alarm').map(([, r]) => p(r));
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: 'AlertTopic' }]);
    const watched = (metric: string) =>
      alarms.filter((a) => a.MetricName === metric).map((a) => JSON.stringify(a.Dimensions));
    for (const [id] of of('AWS::Lambda::Function')) {
      expect(
        watched('Errors').some((d) => d.includes(`"${id}"`)),
        id,
      ).toBe(true);
      // Queued by design (reserved concurrency, invoked asynchronously): throttles are expected, the
      // queue's age and dropped events are what matters.
      const queued = [
        'JitrHandlerLambdaFunction',
        'TelemetryIngestLambdaFunction',
        'AuthzDetectorLambdaFunction',
      ];
      for (const metric of queued.includes(id) ? ['AsyncEventAge', 'AsyncEventsDropped'] : ['Throttles']) {
        expect(
          watched(metric).some((d) => d.includes(`"${id}"`)),
          `${id} ${metric}`,
        ).toBe(true);
      }
      if (queued.includes(id))
        expect(
          watched('Throttles').some((d) => d.includes(`"${id}"`)),
          id,
        ).toBe(false);
    }
    const jitrAge = alarms.find(
      (a) =>
        a.MetricName === 'AsyncEventAge' &&
        JSON.stringify(a.Dimensions).includes('JitrHandlerLambdaFunction'),
    );
    // Half of its 6-hour maximum event age, in milliseconds (the metric's unit).
    expect(jitrAge).toMatchObject({ Statistic: 'Maximum', Threshold: 10_800_000 });
    for (const id of [
      'JitrDeadLetterQueue',
      'TelemetryRuleErrorQueue',
      'TelemetryIngestDLQ',
      'RemediationEventsDLQ',
      'AuthzDetectorDLQ',
    ]) {
      expect(
        watched('ApproximateNumberOfMessagesVisible').some((d) => d.includes(`"${id}"`)),
        id,
      ).toBe(true);
    }
    expect(watched('ExecutionsFailed')).toHaveLength(1);
    for (const m of ['PcaThrottling-dev', 'KmsThrottling-dev', 'JitrRefusals-dev', 'OcspFailures-dev'])
      expect(watched(m), m).toHaveLength(1);
    expect(of('AWS::CloudWatch::Dashboard')).toHaveLength(1);
  });

  it('reserves concurrency for telemetry-ingest', () => {
    expect(p(R().TelemetryIngestLambdaFunction).ReservedConcurrentExecutions).toBeGreaterThan(0);
  });

  it("caps jitr-handler at the stage's reserved concurrency, its events waiting up to 6 hours in Lambda's queue", () => {
    expect(p(R().JitrHandlerLambdaFunction).ReservedConcurrentExecutions).toBe(12);
    const invokeConfig = Object.values(R()).find(
      (r) =>
        r?.Type === 'AWS::Lambda::EventInvokeConfig' &&
        JSON.stringify(p(r).FunctionName).includes('JitrHandler'),
    );
    expect(p(invokeConfig).MaximumEventAgeInSeconds).toBe(21600);
    expect(p(invokeConfig).MaximumRetryAttempts).toBe(2);
  });
});
