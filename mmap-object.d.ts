// Type declarations of require('mmapobj/mmap-object'): mmap-object 1.5's API and units (sizes in
// kilobytes). The objects are those of the main entry (see index.d.ts and docs/API.md).

/// <reference types="node" />

import type { OpenConstructor, SharedObject, SharedObjectMethods, Shape } from './index.js';

export type {
  Value,
  Storable,
  ObjectStorable,
  Property,
  Shape,
  SharedObject,
  ReadonlySharedObject,
  SharedObjectMethods,
} from './index.js';

export interface KilobyteCreateConstructor {
  /**
   * Opens `path` for writing, creating it if missing (an existing file keeps its data).
   * @param file_size initial size of the file in kilobytes (default 5 MB)
   * @param initial_bucket_count number of keys to plan for (default 1024)
   * @param max_file_size the largest the file may grow, in kilobytes (default 5000 MB)
   */
  new <T extends Shape<T> = {}>(
    path: string | URL,
    file_size?: number,
    initial_bucket_count?: number,
    max_file_size?: number
  ): SharedObject<T>;
  readonly prototype: SharedObjectMethods;
}

/** Opens a file for writing as an object; sizes in kilobytes, as mmap-object 1.5 reads them. */
export const Create: KilobyteCreateConstructor;
/** Opens an existing file read-only as an object. */
export const Open: OpenConstructor;

declare const shared: { Create: KilobyteCreateConstructor; Open: OpenConstructor };
export default shared;
