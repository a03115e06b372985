import type { TrustPlacesPort } from './ports.js';

export type PublishOutcome = 'published' | 'unchanged';

/**
 * Publishes a trust bundle to its three places, all or nothing: a new truststore object version (S3), the domain
 * pinned to it, then the broker's SSM parameter; `after` (the suppliers table write) runs last. When a step fails,
 * the steps before it are undone in reverse order (the domain re-pinned to its previous version, the new object
 * version deleted, the previous bundle written back) and the step's error is rethrown: the places are as they were.
 * If an undo fails too, the error still propagates (the places may then disagree); a re-run converges, because the
 * bundle is rendered from the suppliers table and an already-published bundle is `unchanged`.
 */
export async function publishBundle(
  bundle: string,
  places: TrustPlacesPort,
  after: { run(): Promise<void>; undo(): Promise<void> } | undefined,
): Promise<PublishOutcome> {
  const previousBundle = await places.readBundle();
  const pinned = await places.pinnedTruststore();
  const pinnedBody = pinned.version === undefined ? undefined : await places.readTruststore(pinned.version);
  const undo: (() => Promise<unknown>)[] = [];
  const inPlace = previousBundle === bundle && pinnedBody === bundle;
  try {
    if (!inPlace) {
      if (pinnedBody !== bundle) {
        const version = await places.writeTruststore(bundle);
        undo.push(() => places.deleteTruststoreVersion(version));
        // Undo registered before the call: a pin that failed after taking effect is re-pinned too.
        const previous = pinned.version;
        if (previous !== undefined) undo.push(() => places.pinTruststore(previous));
        await places.pinTruststore(version);
      }
      if (previousBundle !== bundle) {
        undo.push(() => places.writeBundle(previousBundle));
        await places.writeBundle(bundle);
      }
    }
    if (after !== undefined) {
      await after.run();
      undo.push(() => after.undo());
    }
  } catch (error) {
    for (const step of undo.reverse()) {
      await step().catch(() => undefined);
    }
    throw error;
  }
  return inPlace ? 'unchanged' : 'published';
}
