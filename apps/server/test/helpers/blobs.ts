import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsBlobStore } from "../../src/blobs/fs-blob-store.js";

/**
 * A filesystem blob store in a fresh directory under the OS temp dir, initialised: for test apps
 * (createApp needs one). `root` to share one between a server and its restart.
 */
export async function testBlobStore(root = join(tmpdir(), `parley-blobs-${randomUUID()}`)): Promise<FsBlobStore> {
  const store = new FsBlobStore(root);
  await store.init();
  return store;
}
