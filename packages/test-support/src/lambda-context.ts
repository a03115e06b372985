import type { Context } from 'aws-lambda';

/** What varies between the functions' test contexts; everything else is the runtime's usual shape. */
export interface LambdaContextOptions {
  readonly functionName: string;
  readonly region?: string;
  readonly account?: string;
  readonly awsRequestId?: string;
  readonly memoryLimitInMB?: string;
  readonly remainingTimeMs?: number;
  readonly callbackWaitsForEmptyEventLoop?: boolean;
  readonly logStreamName?: string;
}

/**
 * A Lambda context as the runtime passes it to a handler.
 * @example const ctx = lambdaContext({ functionName: 'cv-security-dev-commandSender' });
 */
export function lambdaContext(options: LambdaContextOptions): Context {
  const {
    functionName,
    region = 'eu-west-1',
    account = '111122223333',
    awsRequestId = 'c0ffee00-0000-4000-8000-000000000001',
    memoryLimitInMB = '256',
    remainingTimeMs = 30_000,
    callbackWaitsForEmptyEventLoop = true,
    logStreamName = '2026/11/25/[$LATEST]0123456789abcdef',
  } = options;
  return {
    callbackWaitsForEmptyEventLoop,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB,
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName,
    getRemainingTimeInMillis: () => remainingTimeMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
