import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The old id of a Session being saved under a new one (engine-internals `replaceSessionRotation`), for
 * the adapter's Session upsert of that save to delete it in the same statement: one round trip and one
 * commit where the library sends a delete and an upsert.
 */
interface Rotation {
  oldId: string;
  /** The upsert takes it once: nothing else the save leads to deletes the old row again. */
  taken: boolean;
}

const rotations = new AsyncLocalStorage<Rotation>();

/** Runs the save of a Session that replaces `oldId`. */
export function savingSessionReplacing<T>(oldId: string, save: () => Promise<T>): Promise<T> {
  return rotations.run({ oldId, taken: false }, save);
}

/** The old id the Session upsert of `id` replaces, once; undefined outside such a save. */
export function takeReplacedSession(id: string): string | undefined {
  const rotation = rotations.getStore();
  if (!rotation || rotation.taken || rotation.oldId === id) return undefined;
  rotation.taken = true;
  return rotation.oldId;
}
