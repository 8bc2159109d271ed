import { MemoryBlobStorage, MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { withHotCache } from '../../src/blobs/hot-cache.ts';
import type { BlobStore } from '../../src/blobs/blob-store.ts';
import { blobStoreContract, type BlobStoreFixture } from './blob-store.contract.ts';

function memoryFixture(wrap: (s: BlobStore) => BlobStore): BlobStoreFixture {
  const storage = new MemoryBlobStorage();
  let current = wrap(new MemoryBlobStore(storage));
  return {
    store: current,
    async reopen() {
      await current.close();
      current = wrap(new MemoryBlobStore(storage));
      return current;
    },
    async plantUncounted(sha256, data) {
      storage.blobs.set(sha256, { data: Buffer.from(data), mtimeMs: Date.now(), accessedMs: Date.now() });
    },
    async cleanup() {
      await current.close();
    },
  };
}

blobStoreContract('MemoryBlobStore', async () => memoryFixture((s) => s));
// the decorator must keep the contract of the store it wraps
blobStoreContract('withHotCache(MemoryBlobStore)', async () => memoryFixture((s) => withHotCache(s)));
