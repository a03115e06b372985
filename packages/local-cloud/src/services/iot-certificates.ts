/** AWS IoT certificates and CA certificates. */
import { randomUUID } from 'node:crypto';
import { AwsApiError } from '../errors.js';
import { x509 } from '../pki.js';
import { epochSeconds, jsonBody, type Route } from '../wire.js';
import type { IotService } from './iot.js';
import { type IotRoute, param as p } from './iot-route.js';
import { type CertificateStatus, parseCertificate } from './iot-types.js';

export function certificateRoutes(iot: IotService, r: IotRoute): Route[] {
  return [
    r('GET', '/certificates/{certificateId}', 'DescribeCertificate', (_req, params) => {
      const c = iot.certificate(p(params, 'certificateId'));
      return {
        body: {
          certificateDescription: {
            certificateArn: c.certificateArn,
            certificateId: c.certificateId,
            ...(c.caCertificateId ? { caCertificateId: c.caCertificateId } : {}),
            status: c.status,
            certificatePem: c.certificatePem,
            ownedBy: iot.account,
            creationDate: epochSeconds(c.creationDate),
            lastModifiedDate: epochSeconds(c.lastModifiedDate),
            customerVersion: c.customerVersion,
            generationId: randomUUID(),
            validity: { notBefore: epochSeconds(c.notBefore), notAfter: epochSeconds(c.notAfter) },
            certificateMode: 'DEFAULT',
          },
        },
      };
    }),
    r('PUT', '/certificates/{certificateId}', 'UpdateCertificate', (req, params) => {
      const c = iot.certificate(p(params, 'certificateId'));
      const next = req.query.get('newStatus') ?? '';
      if (!['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_ACTIVATION'].includes(next)) {
        throw new AwsApiError('InvalidRequestException', `newStatus ${next} is not valid`);
      }
      if (c.status === 'REVOKED' && next !== 'REVOKED') {
        throw new AwsApiError(
          'CertificateStateException',
          'Certificate is revoked and cannot be changed.',
          406,
        );
      }
      c.status = next as CertificateStatus;
      c.lastModifiedDate = new Date();
      c.customerVersion += 1;
      return { body: {} };
    }),
    r('GET', '/certificates', 'ListCertificates', () => ({
      body: {
        certificates: [...iot.certificates.values()].map((c) => ({
          certificateArn: c.certificateArn,
          certificateId: c.certificateId,
          status: c.status,
          creationDate: epochSeconds(c.creationDate),
          certificateMode: 'DEFAULT',
        })),
      },
    })),
    r('POST', '/certificate/register', 'RegisterCertificate', async (req) => {
      const body = jsonBody(req) as {
        certificatePem?: string;
        caCertificatePem?: string;
        status?: string;
        setAsActive?: boolean;
      };
      const pem = String(body.certificatePem ?? '');
      const cert = parseCertificate(pem);
      const ca = await iot.findIssuingCa(cert);
      if (!ca)
        throw new AwsApiError(
          'CertificateValidationException',
          'The certificate is not signed by a registered CA.',
        );
      const status =
        (body.status as CertificateStatus | undefined) ??
        (req.query.get('setAsActive') === 'true' ? 'ACTIVE' : 'INACTIVE');
      const c = iot.registerCertificate(pem, ca.certificateId, status);
      return { body: { certificateArn: c.certificateArn, certificateId: c.certificateId } };
    }),
    r('POST', '/certificate/register-no-ca', 'RegisterCertificateWithoutCA', (req) => {
      const body = jsonBody(req) as { certificatePem?: string; status?: string };
      const pem = String(body.certificatePem ?? '');
      parseCertificate(pem);
      const c = iot.registerCertificate(
        pem,
        undefined,
        (body.status as CertificateStatus | undefined) ?? 'INACTIVE',
      );
      return { body: { certificateArn: c.certificateArn, certificateId: c.certificateId } };
    }),
    r('GET', '/cacertificate/{certificateId}', 'DescribeCACertificate', (_req, params) => {
      const ca = iot.caCertificates.get(p(params, 'certificateId'));
      if (!ca) throw new AwsApiError('ResourceNotFoundException', 'The CA certificate does not exist', 404);
      const cert = new x509.X509Certificate(ca.certificatePem);
      return {
        body: {
          certificateDescription: {
            certificateArn: ca.certificateArn,
            certificateId: ca.certificateId,
            status: ca.status,
            certificatePem: ca.certificatePem,
            ownedBy: iot.account,
            creationDate: epochSeconds(ca.creationDate),
            autoRegistrationStatus: ca.autoRegistrationStatus,
            lastModifiedDate: epochSeconds(ca.creationDate),
            customerVersion: 1,
            generationId: randomUUID(),
            validity: { notBefore: epochSeconds(cert.notBefore), notAfter: epochSeconds(cert.notAfter) },
            certificateMode: 'DEFAULT',
          },
        },
      };
    }),
    r('POST', '/cacertificate', 'RegisterCACertificate', (req) => {
      const body = jsonBody(req) as { caCertificate?: string };
      const ca = iot.registerCaCertificate(String(body.caCertificate ?? ''), {
        autoRegistration: req.query.get('allowAutoRegistration') === 'true',
        active: req.query.get('setAsActive') === 'true',
      });
      return { body: { certificateArn: ca.certificateArn, certificateId: ca.certificateId } };
    }),
  ];
}
