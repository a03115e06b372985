/**
 * The ECU side (issue 13): an ECU's temporary credentials come from the IoT credential provider, bound to its thing
 * name (`credentials-iot:ThingName`), with EcuCredentialProviderRole. Evaluated with iam-simulate against that role
 * and the KMS key policies of the packaged template: ECU A cannot decrypt a command for ECU B, and cannot generate a
 * telemetry data key under B's encryption context.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, evaluate, type IamRequest, type Principal } from '../src/index.js';
import { packagedTemplate } from './support.js';

const { template } = packagedTemplate();
const role = template.role('EcuCredentialProviderRole');
const commandKey = template.getAtt('CommandEncryptionKey', 'Arn', 'test');
const telemetryKey = template.getAtt('TelemetryKey', 'Arn', 'test');
const dataKey = template.getAtt('DataAtRestKey', 'Arn', 'test');

const ecu = (thingName: string): Principal => ({
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.arn.split('/').pop()}/${thingName}`,
  policies: role.policies,
  variables: { 'credentials-iot:ThingName': thingName },
});

function kms(action: string, key: string, context: Record<string, string>): IamRequest {
  return {
    action,
    resource: key,
    context: {
      'kms:CallerAccount': ACCOUNT,
      'kms:EncryptionContextKeys': Object.keys(context),
      ...Object.fromEntries(Object.entries(context).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
    },
    origin: 'ECU',
  };
}

const allowed = async (principal: Principal, request: IamRequest) =>
  (await evaluate(request, principal, template.resourcePolicy(request.resource))).allowed;

const A = '1HGCM82633A004352_gw-0001';
const B = '1HGCM82633A004352_tcu-0002';
const JTI = '3b241101-e2bb-4255-8caf-4136c566a962';

describe('ECU credentials (EcuCredentialProviderRole, bound to the thing name)', () => {
  it('decrypt a command addressed to their own thing ({ aud: own thing, jti })', async () => {
    expect(await allowed(ecu(A), kms('kms:Decrypt', commandKey, { aud: A, jti: JTI }))).toBe(true);
  });

  it("cannot decrypt a command for another ECU: A's credentials on B's { aud, jti } are denied", async () => {
    const verdict = await evaluate(
      kms('kms:Decrypt', commandKey, { aud: B, jti: JTI }),
      ecu(A),
      template.resourcePolicy(commandKey),
    );
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(/condition not met/);
    expect(await allowed(ecu(B), kms('kms:Decrypt', commandKey, { aud: B, jti: JTI }))).toBe(true);
  });

  it('cannot decrypt a command whose context adds a key, drops aud, or names the thing in another case', async () => {
    for (const context of <Array<Record<string, string>>>[
      { aud: A, jti: JTI, extra: 'x' },
      { jti: JTI },
      { aud: A.toLowerCase(), jti: JTI },
      { aud: `${A} `, jti: JTI },
      { aud: `${A}*`, jti: JTI },
    ]) {
      expect(await allowed(ecu(A), kms('kms:Decrypt', commandKey, context)), JSON.stringify(context)).toBe(
        false,
      );
    }
  });

  it("generate a telemetry data key under their own { thing, kind } context, and never under B's", async () => {
    for (const kind of ['telemetry', 'command-result']) {
      expect(await allowed(ecu(A), kms('kms:GenerateDataKey', telemetryKey, { thing: A, kind }))).toBe(true);
      expect(await allowed(ecu(A), kms('kms:GenerateDataKey', telemetryKey, { thing: B, kind }))).toBe(false);
    }
  });

  it('cannot generate a telemetry data key with another kind, an extra key, or no thing', async () => {
    for (const context of <Array<Record<string, string>>>[
      { thing: A, kind: 'command' },
      { thing: A, kind: 'telemetry', aud: A },
      { kind: 'telemetry' },
    ]) {
      expect(
        await allowed(ecu(A), kms('kms:GenerateDataKey', telemetryKey, context)),
        JSON.stringify(context),
      ).toBe(false);
    }
  });

  it('can do nothing else with the keys: no telemetry Decrypt, no command Encrypt, no direct use of the data-at-rest key', async () => {
    const denied = [
      kms('kms:Decrypt', telemetryKey, { thing: A, kind: 'telemetry' }),
      kms('kms:Encrypt', commandKey, { aud: A, jti: JTI }),
      kms('kms:GenerateDataKey', commandKey, { aud: A, jti: JTI }),
      kms('kms:Decrypt', dataKey, {}),
      kms('kms:Sign', template.getAtt('CommandSigningKey', 'Arn', 'test'), {}),
    ];
    for (const request of denied) {
      expect(await allowed(ecu(A), request), `${request.action} on ${request.resource}`).toBe(false);
    }
  });

  it('for any two distinct thing names, the one cannot decrypt or generate under the other (property)', async () => {
    const thing = fc.stringMatching(/^[A-Za-z0-9:_-]{1,128}$/);
    await fc.assert(
      fc.asyncProperty(thing, thing, async (a, b) => {
        fc.pre(a !== b);
        expect(await allowed(ecu(a), kms('kms:Decrypt', commandKey, { aud: b, jti: JTI }))).toBe(false);
        expect(
          await allowed(ecu(a), kms('kms:GenerateDataKey', telemetryKey, { thing: b, kind: 'telemetry' })),
        ).toBe(false);
        expect(await allowed(ecu(a), kms('kms:Decrypt', commandKey, { aud: a, jti: JTI }))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("the check is not vacuous: a role whose Decrypt lacks the aud condition lets A decrypt B's command", async () => {
    const loose: Principal = {
      ...ecu(A),
      policies: role.policies.map((p) => ({
        ...p,
        document: {
          ...p.document,
          Statement: p.document.Statement.map((s) =>
            s.Sid === 'DecryptOwnCommands' ? { ...s, Condition: undefined } : s,
          ),
        },
      })),
    };
    expect(await allowed(loose, kms('kms:Decrypt', commandKey, { aud: B, jti: JTI }))).toBe(true);
  });
});
