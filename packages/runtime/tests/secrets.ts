import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Real secrets made fresh for each test run: private keys in several PEM flavours and a signed JWT. */
export function makeSecrets() {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: 'user-1', scope: 'cv/commands', exp: 1_900_000_000 }));
  const signature = createHmac('sha256', randomBytes(32)).update(`${header}.${payload}`).digest('base64url');
  return {
    pkcs8Pem: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    sec1Pem: ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    pkcs1Pem: rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    encryptedPem: rsa.privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString(),
    publicPem: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwt: `${header}.${payload}.${signature}`,
    opaque: randomBytes(24).toString('hex'),
  };
}

/** The distinctive inner part of a PEM (a line of its base64 body), which must never be printed. */
export function pemBody(pem: string): string {
  const line = pem.split('\n')[2];
  if (line === undefined) throw new Error('PEM too short');
  return line;
}
