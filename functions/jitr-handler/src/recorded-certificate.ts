/**
 * The certificate of a JITR event from cert-broker's issued-certificate record instead of
 * DescribeCertificate (docs/cert-lifecycle.md, "The issued-certificate record"). The record is
 * trusted only as far as it is proven: its PEM must hash (SHA-256 of the DER) to the event's
 * certificate id, which is how AWS IoT names the certificate it registered, and must be signed by
 * the operational CA. The status is the event's `PENDING_ACTIVATION`, believed only for a fresh event
 * (at most {@link RECORD_MAX_EVENT_AGE_MS} old) and for the ECU's latest issued certificate that this
 * function has not recorded yet (registry: `certificateSerial` is its serial, `certificateId` is not
 * its id), i.e. one this function never activated. Anything missing, stale or inconsistent is a
 * miss: the caller describes the certificate as before (a repeat, an older certificate, an
 * operator's status change after registration are all IoT's word).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { parseCertificate } from '@cv/crypto/x509';
import type { CaCertificates } from './caches.js';
import type { CertificateDescription, EcuRecord, EcuRegistry, IssuedCertificates } from './ports.js';

/** How old a JITR event may be for its `PENDING_ACTIVATION` to be believed without DescribeCertificate. */
export const RECORD_MAX_EVENT_AGE_MS = 300_000;
/** How far in the future an event's timestamp may be (clocks disagree). */
const MAX_CLOCK_SKEW_MS = 60_000;

/** Why the record was not used (logged; the certificate is described instead). */
export type RecordMiss =
  | 'event-status'
  | 'event-age'
  | 'event-account'
  | 'partition'
  | 'no-record'
  | 'record-mismatch'
  | 'digest-mismatch'
  | 'not-issued-by-ca'
  | 'ecu-unknown'
  | 'not-latest-issued'
  | 'already-recorded';

export interface RecordedEvent {
  readonly certificateId: string;
  readonly certificateStatus?: string | undefined;
  readonly timestamp?: number | string | null | undefined;
  readonly awsAccountId?: string | undefined;
}

export interface RecordLookupDeps {
  readonly issuedCertificates: IssuedCertificates;
  readonly registry: Pick<EcuRegistry, 'get'>;
  readonly caCertificates: Pick<CaCertificates, 'pem'>;
  readonly operationalCaCertificateId: string;
  /** Where the function runs: the certificate ARN is `arn:<partition>:iot:<region>:<accountId>:cert/<id>`. */
  readonly region: string;
  readonly accountId: string;
  readonly now: () => Date;
}

/** The ARN partition of a commercial, China or GovCloud region; `undefined` elsewhere (then: describe). */
export function partitionOf(region: string): string | undefined {
  if (/^cn-[a-z]+-\d+$/.test(region)) return 'aws-cn';
  if (/^us-gov-[a-z]+-\d+$/.test(region)) return 'aws-us-gov';
  if (/^[a-z]{2}-[a-z]+-\d+$/.test(region)) return 'aws';
  return undefined;
}

/**
 * Epoch ms of the event's `timestamp` (a number or decimal string; epoch ms as AWS IoT's events carry
 * it, or epoch seconds, told apart by size: below 1e11 is before 1973 in ms); `undefined` otherwise.
 */
function eventTimeMs(timestamp: RecordedEvent['timestamp']): number | undefined {
  let value: number | undefined;
  if (typeof timestamp === 'number' && Number.isFinite(timestamp)) value = timestamp;
  if (typeof timestamp === 'string' && /^\d{1,16}$/.test(timestamp)) value = Number(timestamp);
  if (value === undefined) return undefined;
  return value < 1e11 ? value * 1000 : value;
}

const THING_NAME = /^[A-HJ-NPR-Z0-9]{17}_([A-Za-z0-9-]{1,40})$/;

/**
 * The certificate's description from the issued-certificate record, with the ECU's registry row
 * (read once, consistently; the caller checks it as for a described certificate), or why not.
 * @example
 * const found = await describeFromRecord(event, deps);
 * const described = 'description' in found ? found.description : await iot.describeCertificate(id);
 */
export async function describeFromRecord(
  event: RecordedEvent,
  deps: RecordLookupDeps,
): Promise<
  { readonly description: CertificateDescription; readonly ecu: EcuRecord } | { readonly miss: RecordMiss }
> {
  if (event.certificateStatus !== 'PENDING_ACTIVATION') return { miss: 'event-status' };
  const at = eventTimeMs(event.timestamp);
  const age = at === undefined ? undefined : deps.now().getTime() - at;
  if (age === undefined || age > RECORD_MAX_EVENT_AGE_MS || age < -MAX_CLOCK_SKEW_MS)
    return { miss: 'event-age' };
  if (event.awsAccountId !== undefined && event.awsAccountId !== deps.accountId)
    return { miss: 'event-account' };
  const partition = partitionOf(deps.region);
  if (partition === undefined) return { miss: 'partition' };

  const record = await deps.issuedCertificates.get(event.certificateId);
  if (record === undefined) return { miss: 'no-record' };
  if (record.certificateId !== event.certificateId) return { miss: 'record-mismatch' };
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(record.certificatePem);
  } catch {
    return { miss: 'digest-mismatch' };
  }
  // The id AWS IoT gave the registered certificate is the SHA-256 of its DER: equal digests, same certificate.
  if (createHash('sha256').update(certificate.raw).digest('hex') !== event.certificateId) {
    return { miss: 'digest-mismatch' };
  }
  const parsed = parseCertificate(record.certificatePem);
  if (parsed.subjectCN !== record.thingName) return { miss: 'record-mismatch' };
  const ca = new X509Certificate(await deps.caCertificates.pem(deps.operationalCaCertificateId));
  if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) return { miss: 'not-issued-by-ca' };

  // Only the ECU's latest issued certificate, never recorded by this function (so never activated by it).
  const ecuId = THING_NAME.exec(parsed.subjectCN ?? '')?.[1];
  const ecu = ecuId === undefined ? undefined : await deps.registry.get(ecuId);
  if (ecu === undefined) return { miss: 'ecu-unknown' };
  if (ecu.certificateSerial !== parsed.serialNumber) return { miss: 'not-latest-issued' };
  if (ecu.certificateId === event.certificateId) return { miss: 'already-recorded' };
  return {
    ecu,
    description: {
      certificateId: event.certificateId,
      certificateArn: `arn:${partition}:iot:${deps.region}:${deps.accountId}:cert/${event.certificateId}`,
      caCertificateId: deps.operationalCaCertificateId,
      status: 'PENDING_ACTIVATION',
      certificatePem: record.certificatePem,
    },
  };
}
