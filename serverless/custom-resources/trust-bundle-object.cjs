'use strict';
// CloudFormation custom resource Custom::TrustBundleObject (serverless/resources/truststore.yml):
// writes the attestation trust bundle to the versioned truststore bucket and returns the object's
// VersionId, which the mTLS domain pins. Delete removes every version of the key only when
// PurgeOnDelete is "true" (stages that do not retain their data), so the bucket can go too.
// Inlined as the function's ZipFile by serverless/plugins/cv-packaging.cjs: keep it under 4 KiB
// and on the AWS SDK the Lambda runtime ships.

async function handle(event, deps) {
  const p = event.ResourceProperties ?? {};
  const physicalId = `s3://${p.Bucket}/${p.Key}`;
  let status = 'SUCCESS';
  let reason = 'OK';
  let data = {};
  try {
    if (typeof p.Bucket !== 'string' || typeof p.Key !== 'string' || typeof p.Body !== 'string') {
      throw new Error('Bucket, Key and Body are required strings');
    }
    if (event.RequestType === 'Delete') {
      if (p.PurgeOnDelete === 'true' && event.PhysicalResourceId === physicalId)
        await deps.purge(p.Bucket, p.Key);
    } else {
      const versionId = await deps.put(p.Bucket, p.Key, p.Body);
      if (!versionId) throw new Error('the bucket returned no VersionId: is versioning on?');
      data = { VersionId: versionId, Key: p.Key };
    }
  } catch (error) {
    status = 'FAILED';
    reason = `${error?.name ?? 'Error'}: ${String(error?.message ?? '')
      .split('\n')[0]
      .slice(0, 200)}`;
  }
  const body = JSON.stringify({
    Status: status,
    Reason: reason,
    PhysicalResourceId:
      event.RequestType === 'Create' && status === 'FAILED'
        ? physicalId
        : (event.PhysicalResourceId ?? physicalId),
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data,
  });
  await deps.respond(event.ResponseURL, body);
  return { status, data };
}

// The SDK is loaded inside the calls, so a load failure still reaches CloudFormation as FAILED
// instead of leaving the stack waiting for an answer.
function awsDeps() {
  let sdk;
  const s3sdk = () => {
    sdk ??= require('@aws-sdk/client-s3');
    return sdk;
  };
  let client;
  const s3 = {
    send: (command) => {
      client ??= new (s3sdk().S3Client)({});
      return client.send(command);
    },
  };
  return {
    put: async (Bucket, Key, Body) =>
      (
        await s3.send(
          new (s3sdk().PutObjectCommand)({ Bucket, Key, Body, ContentType: 'application/x-pem-file' }),
        )
      ).VersionId,
    purge: async (Bucket, Key) => {
      for (let page = 0; page < 100; page++) {
        const list = await s3.send(new (s3sdk().ListObjectVersionsCommand)({ Bucket, Prefix: Key }));
        const objects = [...(list.Versions ?? []), ...(list.DeleteMarkers ?? [])]
          .filter((v) => v.Key === Key)
          .map((v) => ({ Key, VersionId: v.VersionId }));
        if (objects.length === 0) return;
        await s3.send(
          new (s3sdk().DeleteObjectsCommand)({ Bucket, Delete: { Objects: objects, Quiet: true } }),
        );
      }
    },
    respond: async (url, body) => {
      const response = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
      if (!response.ok) throw new Error(`CloudFormation response PUT failed: ${response.status}`);
    },
  };
}

exports.handle = handle;
exports.handler = async (event) => {
  const result = await handle(event, awsDeps());
  // biome-ignore lint/suspicious/noConsole: the custom resource's one structured log line (no bundle content)
  console.log(
    JSON.stringify({
      requestType: event.RequestType,
      resource: event.LogicalResourceId,
      status: result.status,
    }),
  );
};
