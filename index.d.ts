// Type declarations of the mmapobj package (hand-written; see docs/API.md).

/// <reference types="node" />

/** A value read from a shared map: a string, a number, or bytes (a new Buffer, valid after close). */
export type Value = string | number | Buffer;
/** What SharedMap#set stores: strings, numbers, and the bytes of a Uint8Array (a Buffer is one). */
export type Storable = string | number | Uint8Array;
/**
 * What a property of a Create object stores: as Storable, plus the bytes of any other
 * ArrayBufferView (typed arrays, DataView), as mmap-object did. Read back as a Buffer.
 */
export type ObjectStorable = string | number | ArrayBufferView;
/**
 * The type of a stored property of a Create/Open object. Reading gives `Value | undefined` (a key
 * that is not stored is undefined); TypeScript gives an index signature one type for reading and
 * writing, so the type also names what can be written (ArrayBufferView, of which Buffer is one).
 * Writing `undefined` compiles but throws "Value must be a string, buffer, or number.".
 */
export type Property = Value | ObjectStorable | undefined;

/** Sizes for Create / SharedMap.create (omitted or 0 selects the default), and exclusivity. */
export interface CreateOptions {
  /** Initial size of the file in bytes (default 5 MiB; at least what the header and table need). */
  fileSize?: number;
  /** Number of keys to plan for: the table fits this many keys without growing (default 1024). */
  buckets?: number;
  /** The file never grows past this many bytes (default 5 GiB); a write that needs more throws "File grew too large.". */
  maxFileSize?: number;
  /**
   * Have the file alone: other writers (shared or exclusive) get MMAPOBJ_E_LOCKED while this one
   * is open, and this one gets it if another writer has the file. Default false: any number of
   * writers share the file.
   */
  exclusive?: boolean;
}

/** Statistics of an open file (SharedMap#stats). */
export interface Stats {
  fileSize: number;
  maxFileSize: number;
  usedBytes: number;
  freeBytes: number;
  count: number;
  bucketCount: number;
  maxBucketCount: number;
  loadFactor: number;
  maxLoadFactor: number;
  formatMajor: number;
  formatMinor: number;
  writable: boolean;
  writerPid: number;
  countString: number;
  countNumber: number;
  countBytes: number;
}

/** The library's names of its error codes (enum mmapobj_code of mmapobj.h), and the package's own two. */
export type CodeName =
  | 'MMAPOBJ_E_IO'
  | 'MMAPOBJ_E_NOENT'
  | 'MMAPOBJ_E_ACCESS'
  | 'MMAPOBJ_E_NOTREG'
  | 'MMAPOBJ_E_LOCKED'
  | 'MMAPOBJ_E_NOSPC'
  | 'MMAPOBJ_E_NOMEM'
  | 'MMAPOBJ_E_BADMAGIC'
  | 'MMAPOBJ_E_MAJOR'
  | 'MMAPOBJ_E_MINOR'
  | 'MMAPOBJ_E_TOOSMALL'
  | 'MMAPOBJ_E_CORRUPT'
  | 'MMAPOBJ_E_LAYOUT'
  | 'MMAPOBJ_E_INVAL'
  | 'MMAPOBJ_E_READONLY'
  | 'MMAPOBJ_E_CLOSED'
  | 'MMAPOBJ_E_BUFSMALL'
  | 'MMAPOBJ_E_BUSY'
  | 'MMAPOBJ_E_CANCELED'
  | 'MMAPOBJ_E_FULL'
  | 'MMAPOBJ_E_TOOBIG'
  | 'MMAPOBJ_E_RESERVE'
  | 'MMAPOBJ_E_LOAD'
  | 'MMAPOBJ_E_ABI';

/** Library codes that stand for one OS error, and their OS names (an error's `code`). */
interface OsCodes {
  MMAPOBJ_E_NOENT: 'ENOENT';
  MMAPOBJ_E_ACCESS: 'EACCES';
  MMAPOBJ_E_NOSPC: 'ENOSPC';
  MMAPOBJ_E_NOMEM: 'ENOMEM';
}

/** The `code` string of an MmapObjError: an OS name, or the library's or package's name. */
export type ErrorCode = OsCodes[keyof OsCodes] | Exclude<CodeName, keyof OsCodes>;

/** An error reported by libmmapobj, a state error with mmap-object's text, or a load failure. */
export class MmapObjError extends Error {
  name: 'MmapObjError';
  /** 'ENOENT' / 'EACCES' / 'ENOSPC' / 'ENOMEM', or the name of the code ('MMAPOBJ_E_LOCKED'). */
  code: ErrorCode;
  /** Negative: -errno of the OS for OS names, the library's code otherwise; undefined for MMAPOBJ_E_LOAD/ABI. */
  errno?: number;
  /** The library's name of the code, e.g. "MMAPOBJ_E_NOENT" (the key of `codes`). */
  codeName: CodeName;
  /** The libmmapobj function that failed ('mmapobj_open'...), if any. */
  syscall?: string;
  /** The file concerned. */
  path?: string;
  /** The key concerned, if any. */
  key?: string | Uint8Array;
  /** libmmapobj's detail text, if any. */
  detail?: string;
}

/** The Map-style class: get/set/has/delete/size/iteration over a shared file. */
export class SharedMap implements Iterable<[string, Value]> {
  private constructor();
  /** Opens `path` for writing, creating it if missing (an existing file keeps its data). */
  static create(path: string | URL, options?: CreateOptions): SharedMap;
  /** Opens an existing file read-only. */
  static open(path: string | URL): SharedMap;

  /** Keys are strings, or a Buffer/Uint8Array of a key's exact bytes (for keys that are not UTF-8). */
  get(key: string | Uint8Array): Value | undefined;
  set(key: string | Uint8Array, value: Storable): this;
  /**
   * Runs fn while holding the file's write lock and returns its result: its reads and writes are not
   * interleaved with other writers'. Nested calls run inside the outer one; an exception releases the
   * lock and propagates (writes made stay). fn must be synchronous.
   */
  transaction<T>(fn: () => T): T;
  has(key: string | Uint8Array): boolean;
  delete(key: string | Uint8Array): boolean;
  clear(): void;
  readonly size: number;
  keys(options?: { asBuffer?: false }): IterableIterator<string>;
  /** Each key as a new Buffer of its exact bytes. */
  keys(options: { asBuffer: true }): IterableIterator<Buffer>;
  values(): IterableIterator<Value>;
  entries(options?: { asBuffer?: false }): IterableIterator<[string, Value]>;
  entries(options: { asBuffer: true }): IterableIterator<[Buffer, Value]>;
  [Symbol.iterator](): IterableIterator<[string, Value]>;
  forEach(callback: (value: Value, key: string, map: SharedMap) => void, thisArg?: unknown): void;
  /** All keys in one array. */
  keysArray(): string[];
  /** All keys and values in two arrays; with a valueBudget (bytes), values are read only while the entries read with them fit in it (values may then be shorter than keys; 0 reads none). */
  entriesArrays(valueBudget?: number): { keys: string[]; values: Value[] };

  readonly path: string;
  readonly writable: boolean;
  readonly closed: boolean;
  isOpen(): boolean;
  isClosed(): boolean;
  stats(): Stats;
  /** "major.minor" of the file's format. */
  fileFormatVersion(): string;
  /** msync + fsync (durability against power loss); a no-op on a reader. */
  flush(): void;
  /** Checks every structure of the file; throws MmapObjError on the first problem. */
  verify(): true;
  /** Idempotent. Closed when it returns; the promise is already resolved (for `await`). */
  close(): Promise<void>;
  /** With a callback the close runs off the main thread; callback(err) follows. */
  close(callback: (err: Error | null) => void): void;
  /** `using`: closes the map if it is still open. */
  [Symbol.dispose](): void;
  /** `await using`: closes the map off the main thread if it is still open. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The methods of a Create/Open object: mmap-object 1.5's (its methodList). They cannot be assigned
 * or deleted, and they shadow stored keys of the same name (read those with SharedMap: mapOf(obj)).
 */
export interface SharedObjectMethods {
  /**
   * Closes the object: closed when it returns (the promise is already resolved); with a callback
   * the close runs off the main thread and callback(err) follows. Closing twice throws (or passes
   * to the callback) "Attempted to close a closed object.".
   */
  readonly close: {
    (): Promise<void>;
    (callback: (err: Error | null) => void): void;
  };
  /** `using`: closes the object if it is still open. */
  readonly [Symbol.dispose]: () => void;
  /** `await using`: closes the object off the main thread if it is still open. */
  readonly [Symbol.asyncDispose]: () => Promise<void>;
  readonly isOpen: () => boolean;
  readonly isClosed: () => boolean;
  /** Bytes that can be written without growing the file. */
  readonly get_free_memory: () => number;
  /** The size of the file in bytes. */
  readonly get_size: () => number;
  /** Slots of the hash table now. */
  readonly bucket_count: () => number;
  /** Most slots the table can have within max_file_size. */
  readonly max_bucket_count: () => number;
  /** Keys per slot now. */
  readonly load_factor: () => number;
  /** Keys per slot at which the table grows. */
  readonly max_load_factor: () => number;
  /** The format version of the file, as a number (1), as in mmap-object. */
  readonly fileFormatVersion: () => number;
  /**
   * mmap-object's isData: false if `x` is one of these method names, or one of these methods (a
   * function, recognised by its name); true for anything else, stored or not.
   */
  readonly isData: (x?: unknown) => boolean;
  /** Object.prototype's, protected from stored keys as in mmap-object. */
  readonly toString: () => string;
  readonly valueOf: () => object;
  readonly propertyIsEnumerable: (key: PropertyKey) => boolean;
  readonly [Symbol.iterator]: () => IterableIterator<[string, Value]>;
}

/**
 * The shape of a typed map: an interface or object type whose properties are Values, e.g.
 * `interface Cfg { name: string; port: number }` for `new Create<Cfg>(path)`.
 */
export type Shape<T> = { [K in keyof T]: Value };

/** A Create object: property access reads and writes the shared file. Typed keys read as T[K] | undefined. */
export type SharedObject<T extends Shape<T> = {}> = SharedObjectMethods & { [K in keyof T]: T[K] | undefined } & {
  [key: string]: Property;
};
/** An Open object: read-only property access. */
export type ReadonlySharedObject<T extends Shape<T> = {}> = SharedObjectMethods & {
  readonly [K in keyof T]: T[K] | undefined;
} & { readonly [key: string]: Property };

export interface CreateConstructor {
  /** Sizes in bytes (0 or omitted: the default). */
  new <T extends Shape<T> = {}>(
    path: string | URL,
    fileSize?: number,
    initialBucketCount?: number,
    maxFileSize?: number,
    options?: { exclusive?: boolean }
  ): SharedObject<T>;
  new <T extends Shape<T> = {}>(path: string | URL, options: CreateOptions): SharedObject<T>;
  readonly prototype: SharedObjectMethods;
}

export interface OpenConstructor {
  new <T extends Shape<T> = {}>(path: string | URL): ReadonlySharedObject<T>;
  readonly prototype: SharedObjectMethods;
}

/** Opens a file for writing (creating it if missing) as an object. */
export const Create: CreateConstructor;
/** Opens an existing file read-only as an object. */
export const Open: OpenConstructor;

/** The libmmapobj file in use. */
export const library: {
  readonly path: string;
  readonly version: string;
  readonly abi: number;
  /** Where it came from: MMAPOBJ_LIBRARY, the package's build/, its prebuilds/, or the system. */
  readonly kind: 'env' | 'build' | 'prebuild' | 'system';
};

/** Every error code by its name: the string an error's `code` has for it (frozen). */
export const codes: { readonly [K in CodeName]: K extends keyof OsCodes ? OsCodes[K] : K };

/** The SharedMap under a Create/Open object. */
export function mapOf(obj: SharedObjectMethods): SharedMap;

declare const mmapobj: {
  Create: CreateConstructor;
  Open: OpenConstructor;
  SharedMap: typeof SharedMap;
  MmapObjError: typeof MmapObjError;
  library: typeof library;
  codes: typeof codes;
  mapOf: typeof mapOf;
};
export default mmapobj;
