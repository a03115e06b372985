/** Options of {@link awsClientConfig}. */
export interface AwsClientOptions {
  /** Region; when omitted the SDK resolves it itself (from `AWS_REGION` in Lambda). */
  region?: string | undefined;
  /** Attempts including the first; default 3. */
  maxAttempts?: number;
  /** Milliseconds to establish a connection before giving up (default 2000). */
  connectionTimeoutMs?: number;
  /** Milliseconds to wait for a response (default 10000), below every function's timeout. */
  requestTimeoutMs?: number;
}

/** The subset of an AWS SDK v3 client configuration set here. */
export interface AwsClientConfig {
  region?: string;
  retryMode: 'adaptive';
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}

/**
 * Configuration for an AWS SDK v3 client: adaptive retries (client-side rate limiting when
 * throttled), bounded attempts and timeouts.
 *
 * Endpoints are deliberately not set here: the SDK itself honours `AWS_ENDPOINT_URL` and
 * `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_DYNAMODB`) for local stacks, and
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`.
 *
 * @example
 * const kms = new KMSClient(awsClientConfig({ region: process.env.AWS_REGION }));
 */
export function awsClientConfig(opts: AwsClientOptions = {}): AwsClientConfig {
  return {
    ...(opts.region ? { region: opts.region } : {}),
    retryMode: 'adaptive',
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? 2_000,
      requestTimeout: opts.requestTimeoutMs ?? 10_000,
    },
  };
}
