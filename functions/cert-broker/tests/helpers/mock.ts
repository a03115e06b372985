import { type AwsStub, mockClient } from 'aws-sdk-client-mock';

/**
 * `mockClient` for any SDK client class. aws-sdk-client-mock 4.1.0's generics are compiled
 * against another @smithy/types than SDK 3.1164.0, so the class and commands are passed
 * `as never`; at run time it stubs the class prototype's `send`, which is what matters.
 */
// biome-ignore lint/suspicious/noExplicitAny: the stub is deliberately untyped (see above)
export type AnyStub = AwsStub<any, any, any>;

export function mockAws(client: unknown): AnyStub {
  return mockClient(client as never) as unknown as AnyStub;
}
