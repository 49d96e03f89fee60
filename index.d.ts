// Type definitions for zoopipe: its public API (README.md explains each part with examples).
import type { Field, RecordBatch, Schema, Table } from 'apache-arrow'

/** Same keys as delta-rs / object_store; missing keys fall back to the process environment. */
export type StorageOptions = Record<string, string>

export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in'
/**
 * `[column, op, value]` triples joined with AND. Used for partition pruning, file skipping by
 * stats, and exact row filtering. `['c', '=', null]` matches nulls; `in` lists may contain null.
 */
export type FilterAnd = Array<[string, FilterOp, unknown]>
/** A read's filter: triples joined with AND, or a list of such lists joined with OR
 *  (`[[a], [b, c]]` = a OR (b AND c), as Python deltalake's DNF filters). */
export type Filter = FilterAnd | FilterAnd[]

export type ErrorCode =
  | 'TABLE_NOT_FOUND'
  | 'VERSION_NOT_FOUND'
  | 'SCHEMA_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'INVALID_DATA'
  | 'COMMIT_CONFLICT'
  | 'STORAGE'
  | 'UNSUPPORTED_FEATURE'
  | 'PROTOCOL'
  | 'ABORTED'
  | 'INTERNAL'

/** Every zoopipe failure. Messages never contain credentials. */
export declare class DeltaError extends Error {
  readonly name: 'DeltaError'
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown })
}

export interface OpenOptions {
  storageOptions?: StorageOptions
  /** Time travel by version. */
  version?: number
  /** Time travel by time: the latest version committed at or before it. A string is ISO 8601
   *  ('2024-01-31', '2024-01-31T12:00:00Z', a space for the T too); a number is epoch milliseconds. */
  timestamp?: string | Date | number
}

export interface ScanOptions {
  /** Projection: only these columns are read, in this order. */
  columns?: string[]
  filter?: Filter
  /** Max rows per batch (default 65536 for streams; 524288 for readDelta / readAll, which collect one table). */
  batchSize?: number
  /** At most this many rows: the scan stops once they came (no full read, then a slice). */
  limit?: number
  /** Strings and binaries read from the data files as Utf8View / BinaryView (views into the
   *  decoded Parquet pages instead of copies: faster reads, see BENCHMARKS.md); partition columns
   *  stay Utf8. Default false. With an apache-arrow that has no view types (21.2 has them), plain Utf8. */
  stringViews?: boolean
  /** Aborting stops the read: the pending batch rejects with ABORTED and the native scan stops. */
  signal?: AbortSignal
}

/** `signal` of a long operation: aborting stops its native work and commits nothing (ABORTED). An
 *  operation whose commit had begun its log write when the signal aborted completes instead (a
 *  dropped log write could still land) and resolves with what it committed. */
export interface Abortable {
  signal?: AbortSignal
}

export interface ReadOptions extends OpenOptions, ScanOptions {}

export interface TableMetadata {
  id: string
  name: string | null
  description: string | null
  partitionColumns: string[]
  configuration: Record<string, string | null>
  createdTime: number | null
}

export interface TableProtocol {
  minReaderVersion: number
  minWriterVersion: number
  readerFeatures?: string[]
  writerFeatures?: string[]
}

export interface CommitInfo {
  version: number
  timestamp?: number
  operation?: string
  operationParameters?: Record<string, unknown>
  readVersion?: number
  isBlindAppend?: boolean
  clientVersion?: string
  engineInfo?: string
  [key: string]: unknown
}

export interface TableFile {
  /** Relative to the table root, URL-encoded as in the log. */
  path: string
  size: number
  partitionValues: Record<string, string | null>
  numRecords?: number
  modificationTime: number
}

export declare class DeltaTable {
  private constructor()
  static open(uri: string, options?: OpenOptions): Promise<DeltaTable>
  static isDeltaTable(uri: string, options?: { storageOptions?: StorageOptions }): Promise<boolean>
  /** A new table with a schema and no rows, at version 0 (mode 'error' by default: an existing
   *  table is INVALID_ARGUMENT; 'ignore' opens it; 'overwrite' replaces its schema and files). */
  static create(uri: string, options: CreateOptions): Promise<DeltaTable>
  readonly uri: string
  /** The loaded version. */
  readonly version: number
  schema(): Schema
  metadata(): TableMetadata
  protocol(): TableProtocol
  /** Commits newest first (at most `limit`), up to the loaded version. */
  history(limit?: number): Promise<CommitInfo[]>
  files(): Promise<TableFile[]>
  /** The absolute URI of every active data file. */
  fileUris(): Promise<string[]>
  /** The active files' add actions as a Table: path, size_bytes, modification_time, num_records,
   *  null_count / min / max per column and partition values (nested structs, or dotted names such
   *  as `min.id` and `partition.day` with `flatten`). */
  addActions(options?: { flatten?: boolean }): Promise<Table>
  /** The distinct partition values of the active files. */
  partitions(): Promise<Array<Record<string, string | null>>>
  /** Rows in the loaded snapshot: from the log's counts when every file has them, else a scan. */
  count(): Promise<number>
  /** Load what was committed since the loaded version (new log entries only); the new version. */
  refresh(): Promise<number>
  /** The last appVersion committed with `appId` in the loaded snapshot, or null. */
  transactionVersion(appId: string): Promise<number | null>
  loadVersion(version: number): Promise<this>
  loadTimestamp(timestamp: string | Date | number): Promise<this>
  /** Stream the loaded snapshot. */
  getBatches(options?: ScanOptions & { format?: 'arrow' }): AsyncGenerator<RecordBatch, void, undefined>
  getBatches(options: ScanOptions & { format: 'ipc' }): AsyncGenerator<Buffer, void, undefined>
  /** Read the loaded snapshot into one Table. */
  toTable(options?: ScanOptions): Promise<Table>

  // Maintenance, DML and change data feed: one atomic commit each (or none); the handle moves to it.
  createCheckpoint(): Promise<this>
  /** Deletes log files older than delta.logRetentionDuration; returns how many. */
  cleanupMetadata(): Promise<number>
  vacuum(options?: VacuumOptions & Abortable): Promise<VacuumMetrics>
  readonly optimize: {
    compact(options?: OptimizeOptions & Abortable): Promise<OptimizeMetrics>
    zOrder(columns: string[], options?: OptimizeOptions & Abortable): Promise<OptimizeMetrics>
  }
  /** Restore to a version, or to the latest version committed at or before a time. */
  restore(
    target: number | Date | string,
    options?: {
      /** Restore even when data files of the target version are gone: they are referenced again (as delta-rs and Spark restore), and reads of them fail. Default false. */
      ignoreMissingFiles?: boolean
      /** Allow restoring a version with a lower protocol than the table's now. Default false. */
      protocolDowngradeAllowed?: boolean
      commitProperties?: CommitProperties
      signal?: AbortSignal
    },
  ): Promise<RestoreMetrics>
  /** Delete the rows matching a SQL predicate (every row without one). */
  delete(predicate?: string, options?: { commitProperties?: CommitProperties } & Abortable): Promise<DeleteMetrics>
  update(
    options: { set: Record<string, string>; predicate?: string; commitProperties?: CommitProperties } & Abortable,
  ): Promise<UpdateMetrics>
  /** `signal` here (or on execute()) aborts the merge. */
  merge(
    source: WriteData,
    options: { predicate: string; sourceAlias?: string; targetAlias?: string; commitProperties?: CommitProperties } & Abortable,
  ): MergeBuilder
  loadCdf(options?: CdfOptions & { format?: 'arrow' }): AsyncGenerator<RecordBatch, void, undefined>
  loadCdf(options: CdfOptions & { format: 'ipc' }): AsyncGenerator<Buffer, void, undefined>
  readonly alterTable: {
    setProperties(properties: Record<string, string>, options?: { commitProperties?: CommitProperties }): Promise<void>
    /** One CHECK constraint: { name: 'SQL expression' }; later writes that violate it fail with INVALID_DATA. */
    addConstraint(constraint: Record<string, string>, options?: { commitProperties?: CommitProperties }): Promise<void>
    /** Drop a CHECK constraint by name; a name the table lacks is INVALID_ARGUMENT unless raiseIfNotExists is false (then a no-op). */
    dropConstraint(name: string, options?: { raiseIfNotExists?: boolean; commitProperties?: CommitProperties }): Promise<void>
    addColumns(fields: Field[] | Schema, options?: { commitProperties?: CommitProperties }): Promise<void>
  }
}

export interface VacuumOptions {
  /** Default: the table's delta.deletedFileRetentionDuration (7 days). */
  retentionHours?: number
  /** Default true, as in Python deltalake: list what would be deleted, delete nothing. Pass
   *  `dryRun: false` to delete. */
  dryRun?: boolean
  /** Versions whose files are kept even past the retention. */
  keepVersions?: number[]
  /** Default true: a retention below the table's setting is refused (INVALID_ARGUMENT). */
  enforceRetentionDuration?: boolean
  /** Also delete files no version references at all (e.g. left by a write that died before its
   *  commit), not only files a commit removed. Default false. */
  full?: boolean
  commitProperties?: CommitProperties
}
export interface VacuumMetrics {
  dryRun: boolean
  filesDeleted: string[]
}

export interface OptimizeOptions {
  targetSize?: number
  /** Partition filter (triples joined with AND): only these partitions are rewritten. */
  filter?: FilterAnd
  compression?: WriteOptions['compression']
  writerProperties?: WriterProperties
  commitProperties?: CommitProperties
}
export interface OptimizeMetrics {
  numFilesAdded: number
  numFilesRemoved: number
  /** Sizes in bytes of the files written and removed. */
  filesAdded: FileSizeMetrics
  filesRemoved: FileSizeMetrics
  partitionsOptimized: number
  numBatches: number
  totalConsideredFiles: number
  totalFilesSkipped: number
  preserveInsertionOrder: boolean
  /** 'preserveLocality' (compaction) or 'zOrder'. */
  plannerStrategy: string
  preservedStableOrder: boolean
  maxBinSpanFiles: number
}
export interface FileSizeMetrics {
  avg: number
  max: number
  min: number
  totalFiles: number
  totalSize: number
}
export interface RestoreMetrics {
  numRemovedFile: number
  numRestoredFile: number
}
export interface DeleteMetrics {
  numAddedFiles: number
  numRemovedFiles: number
  /** Absent when whole files were removed without counting their rows. */
  numDeletedRows?: number
  numCopiedRows: number
  executionTimeMs: number
  scanTimeMs: number
  rewriteTimeMs: number
}
export interface UpdateMetrics {
  numAddedFiles: number
  numRemovedFiles: number
  numUpdatedRows: number
  numCopiedRows: number
  executionTimeMs: number
  scanTimeMs: number
}
export interface MergeMetrics {
  numSourceRows: number
  numTargetRowsInserted: number
  numTargetRowsUpdated: number
  numTargetRowsDeleted: number
  numTargetRowsCopied: number
  numOutputRows: number
  numTargetFilesScanned: number
  numTargetFilesSkippedDuringScan: number
  numTargetFilesAdded: number
  numTargetFilesRemoved: number
  executionTimeMs: number
  scanTimeMs: number
  rewriteTimeMs: number
}

/** Clauses are SQL over the aliases, e.g. { updates: { name: 'source.name' } }. First matching clause wins. */
export declare class MergeBuilder {
  whenMatchedUpdate(options: { updates: Record<string, string>; predicate?: string }): this
  /** Set every target column from the source column of the same name (a source column the table lacks is SCHEMA_MISMATCH). */
  whenMatchedUpdateAll(options?: { predicate?: string }): this
  whenMatchedDelete(options?: { predicate?: string }): this
  whenNotMatchedInsert(options: { values: Record<string, string>; predicate?: string }): this
  /** Insert rows with every source column in the target column of the same name; the others are null. */
  whenNotMatchedInsertAll(options?: { predicate?: string }): this
  whenNotMatchedBySourceUpdate(options: { updates: Record<string, string>; predicate?: string }): this
  whenNotMatchedBySourceDelete(options?: { predicate?: string }): this
  execute(options?: Abortable): Promise<MergeMetrics>
}

export interface CdfOptions {
  startingVersion?: number
  endingVersion?: number
  startingTimestamp?: string | Date | number
  endingTimestamp?: string | Date | number
  columns?: string[]
  batchSize?: number
  /** SQL over the feed's columns (e.g. "_change_type = 'insert' AND id > 10"): only matching rows. */
  predicate?: string
  /** A start after the latest version (or time) reads an empty feed instead of VERSION_NOT_FOUND. Default false. */
  allowOutOfRange?: boolean
  /** Aborting stops the read (the pending batch rejects with ABORTED). */
  signal?: AbortSignal
}

export declare class DeltaInputAdapter {
  constructor(uri: string, options?: ReadOptions)
  readonly uri: string
  /** The opened table (opened on first use). */
  table(): Promise<DeltaTable>
  /** Batches are produced while files are read; `break` stops the native work. */
  getBatches(options?: { format?: 'arrow' } & Abortable): AsyncGenerator<RecordBatch, void, undefined>
  getBatches(options: { format: 'ipc' } & Abortable): AsyncGenerator<Buffer, void, undefined>
  readAll(options?: Abortable): Promise<Table>
  /** `for await (const batch of adapter)`. */
  [Symbol.asyncIterator](): AsyncGenerator<RecordBatch, void, undefined>
}

export interface ChangesOptions {
  storageOptions?: StorageOptions
  /** First source version read (default 0). */
  startingVersion?: number
  /** Last source version read (default: the latest when the read starts; with follow, none). */
  endingVersion?: number
  /** false (default): the rows commits appended, each batch with `_commit_version` and
   *  `_commit_timestamp`; a commit that removed or rewrote data is UNSUPPORTED_FEATURE naming its
   *  version. true: the change data feed (`_change_type` too; needs delta.enableChangeDataFeed). */
  changeFeed?: boolean
  columns?: string[]
  /** As ReadOptions.filter (appended-data reads). */
  filter?: Filter
  batchSize?: number
  /** After the latest version, keep polling for new commits until `signal` aborts. */
  follow?: boolean
  /** Poll interval while following (default 1000 ms), backing off up to 8x while idle. */
  pollIntervalMs?: number
  signal?: AbortSignal
}

export interface ToRowsOptions {
  /** 64-bit integers as numbers (default; a value beyond Number.MAX_SAFE_INTEGER is INVALID_DATA), strings or bigints. */
  int64?: 'number' | 'string' | 'bigint'
}

/** Rows of a Table or RecordBatch as plain objects JSON.stringify takes: 64-bit integers per `int64`,
 *  decimals as exact strings ('12.30'), timestamps as Dates, dates as 'YYYY-MM-DD', binary as base64,
 *  dictionary values as their values, structs / lists / maps as objects and arrays; null stays null. */
export declare function toRows(data: Table | RecordBatch, options?: ToRowsOptions): Array<Record<string, unknown>>

/** What a table's commits added, version by version (bronze -> silver jobs; see Pipe). */
export declare class DeltaChangesInputAdapter {
  constructor(uri: string, options?: ChangesOptions)
  readonly uri: string
  /** The last source version whose rows were all yielded (null before the first). */
  readonly lastVersion: number | null
  getBatches(): AsyncGenerator<RecordBatch, void, undefined>
  readAll(): Promise<Table>
  [Symbol.asyncIterator](): AsyncGenerator<RecordBatch, void, undefined>
}

/** The same as `new DeltaInputAdapter(uri, options).readAll()`. */
export declare function readDelta(uri: string, options?: ReadOptions): Promise<Table>

// ---- writing ------------------------------------------------------------------------------

export type RowObject = Record<string, unknown>
type WriteChunk = Table | RecordBatch | Uint8Array | RowObject[] | Array<Table | RecordBatch | Uint8Array>
/** apache-arrow data, Arrow IPC bytes (stream or file), row objects, or a (async) iterable of those. */
export type WriteData = WriteChunk | AsyncIterable<WriteChunk> | Iterable<Table | RecordBatch | Uint8Array>

export interface CommitProperties {
  /** Lands in the commit info of the new version. */
  customMetadata?: Record<string, unknown>
  /** With appVersion: writes a txn action (idempotent application transactions). */
  appId?: string
  appVersion?: number
  /** How long the commit may keep retrying when other writers commit first (each retry waits a
   *  jittered, growing pause of up to 100 ms and re-runs the conflict checks). Default 120000 (2
   *  minutes). A commit that runs out is COMMIT_CONFLICT naming the budget; nothing is committed. */
  commitTimeoutMs?: number
}

/** A schema: an apache-arrow Schema, or column names mapped to Delta type names: 'string',
 *  'long', 'integer', 'short', 'byte', 'float', 'double', 'boolean', 'binary', 'date', 'timestamp',
 *  'timestamp_ntz', 'decimal(p,s)', 'array<T>', 'map<K,V>', 'struct<name:T,...>'; a type ending in
 *  ' not null' makes the column required. */
export type SchemaLike = Schema | Record<string, string>

export interface CreateOptions {
  schema: SchemaLike
  partitionBy?: string[]
  /** Default 'error'. */
  mode?: 'error' | 'ignore' | 'overwrite'
  name?: string
  description?: string
  configuration?: Record<string, string | null>
  storageOptions?: StorageOptions
  commitProperties?: CommitProperties
}

/** Parquet writer properties, as Python deltalake's `WriterProperties` (camelCase); unset: arrow-rs's
 *  defaults. Applied by every writer: writeDelta / DeltaOutputAdapter, DeltaWriter, optimize. */
export interface WriterProperties {
  dataPageSizeLimit?: number
  dictionaryPageSizeLimit?: number
  dataPageRowCountLimit?: number
  writeBatchSize?: number
  /** Rows per row group at most (row groups also end at maxRowGroupBytes). */
  maxRowGroupSize?: number
  /** Any case; not together with the writer's own `compression` option. */
  compression?:
    | 'UNCOMPRESSED'
    | 'SNAPPY'
    | 'GZIP'
    | 'BROTLI'
    | 'LZ4'
    | 'LZ4_RAW'
    | 'ZSTD'
    | Lowercase<'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI' | 'LZ4' | 'LZ4_RAW' | 'ZSTD'>
  /** GZIP 0-9, BROTLI 0-11, ZSTD 1-22. */
  compressionLevel?: number
  statisticsTruncateLength?: number
  defaultColumnProperties?: ColumnProperties
  /** By column name (a nested field by its dotted path). */
  columnProperties?: Record<string, ColumnProperties>
}

export interface ColumnProperties {
  dictionaryEnabled?: boolean
  statisticsEnabled?: 'NONE' | 'CHUNK' | 'PAGE'
  bloomFilterProperties?: BloomFilterProperties
}

export interface BloomFilterProperties {
  /** Default true when bloomFilterProperties are given. */
  setBloomFilterEnabled?: boolean
  /** False-positive probability, between 0 and 1. */
  fpp?: number
  /** Distinct values expected. */
  ndv?: number
}

export interface WriteOptions {
  storageOptions?: StorageOptions
  /** Default 'append'. 'error' fails on an existing table; 'ignore' writes nothing to one. */
  mode?: 'append' | 'overwrite' | 'error' | 'ignore'
  partitionBy?: string[]
  /** Default: enforce (a mismatch is SCHEMA_MISMATCH). */
  schemaMode?: 'merge' | 'overwrite'
  /** SQL predicate: overwrite only the rows matching it (replaceWhere); rows outside it are rejected. */
  predicate?: string
  targetFileSize?: number
  compression?: 'snappy' | 'zstd' | 'gzip' | 'lz4' | 'uncompressed'
  /** Encoded bytes each open data file holds in memory before they are flushed as a row group
   *  (default 8 MiB, at least 65536). What a streamed write holds is about 2x this plus an upload
   *  part per open file (256 KiB on local disk, 5 MiB on object stores; one file per partition value
   *  being written), plus a few input batches. */
  maxRowGroupBytes?: number
  /** Encoded bytes all open files of the write hold together (default 64 MiB, at least 1 MiB):
   *  each open file's row groups are its share, budget / (2.5 x files), between 1 MiB and
   *  maxRowGroupBytes; the files are counted in the first batch (one per partition value). */
  maxBufferedBytes?: number
  name?: string
  description?: string
  configuration?: Record<string, string | null>
  commitProperties?: CommitProperties
  writerProperties?: WriterProperties
  /** Aborting before close() discards what was written (the pending write() rejects with ABORTED
   *  at its next batch); during close() it cancels the commit unless its log write had begun. */
  signal?: AbortSignal
}

export interface WriteResult {
  /** The new version (or the current one when nothing was committed; null when no table exists). */
  version: number | null
  numFiles: number
  numRows: number
  numBytes: number
}

export declare class DeltaOutputAdapter {
  constructor(uri: string, options?: WriteOptions)
  readonly uri: string
  /** Stage data (streamed to Parquet files); nothing is visible in the table until close(). */
  write(data: WriteData): Promise<void>
  /** One atomic commit of everything written. No rows written: an append commits nothing, an
   *  overwrite empties the table (or removes its predicate's rows), and an empty apache-arrow Table
   *  creates a missing table with its schema. */
  close(): Promise<WriteResult>
  /** Discard everything written; the table stays exactly as it was. */
  abort(): Promise<void>
  /** `await using out = new DeltaOutputAdapter(...)`: a write never closed is aborted. */
  [Symbol.asyncDispose](): Promise<void>
}

/** write + close in one call. */
export declare function writeDelta(uri: string, data: WriteData, options?: WriteOptions): Promise<WriteResult>

/** A data file written by a DeltaWriter: a Delta add action plus what the coordinator checks. JSON-safe. */
export interface DeltaFileAction {
  path: string
  size: number
  partitionValues: Record<string, string | null>
  modificationTime: number
  dataChange: boolean
  stats?: string | null
  tableUri: string
  schema: unknown
  partitionColumns: string[]
  [key: string]: unknown
}

export interface DeltaWriterOptions {
  storageOptions?: StorageOptions
  partitionBy?: string[]
  /** Size at which a file is finished and the next one started (default 128 MiB); files stream to
   *  storage as their row groups fill. */
  targetFileSize?: number
  compression?: WriteOptions['compression']
  /** As WriteOptions.maxRowGroupBytes. */
  maxRowGroupBytes?: number
  /** As WriteOptions.maxBufferedBytes. */
  maxBufferedBytes?: number
  writerProperties?: WriterProperties
}

/** Worker side of a distributed write: writes Parquet files, commits nothing. */
export declare class DeltaWriter {
  constructor(uri: string, options?: DeltaWriterOptions)
  readonly uri: string
  write(data: WriteData): Promise<void>
  finish(): Promise<DeltaFileAction[]>
}

/** The same commitProperties as every writer's, and how often the commit is retried on top of
 *  concurrent deletes of the files it adds (default 10). Other keys are INVALID_ARGUMENT. */
export interface CoordinatorCommitOptions {
  commitProperties?: CommitProperties
  maxRetries?: number
}

export interface CoordinatorCommitResult {
  version: number
  numFiles: number
  /** false when (appId, appVersion) had already been committed: version is that commit's. */
  committed: boolean
}

/** Commits any number of workers' files as ONE version (creating the table if needed). */
export declare class DeltaCoordinator {
  constructor(
    uri: string,
    options?: {
      storageOptions?: StorageOptions
      mode?: 'append' | 'overwrite'
      /** Create the table with this schema (and partitionBy) if it does not exist; default: the workers' schema. */
      schema?: Schema
      partitionBy?: string[]
    },
  )
  readonly uri: string
  commit(files: DeltaFileAction[] | DeltaFileAction[][], options?: CoordinatorCommitOptions): Promise<CoordinatorCommitResult>
}

// ---- ETL -----------------------------------------------------------------------------------

export interface FileInputOptions {
  storageOptions?: StorageOptions
  /** Projection. */
  columns?: string[]
  /** Max rows per batch (default 65536). */
  batchSize?: number
  /** Explicit schema (else inferred from the first `inferRows` rows). */
  schema?: SchemaLike
  inferRows?: number
  /** Only files with this suffix are read from a directory. */
  fileExtension?: string
  /** Aborting stops the read (the pending batch rejects with ABORTED). */
  signal?: AbortSignal
  /** A stream input is parsed this many bytes at a time (cut at a record boundary; default 8 MiB). */
  chunkBytes?: number
}

/** What a file input adapter reads: a path, URL, directory or glob (local or cloud); or the bytes
 *  themselves, without a temp file: a Buffer / Uint8Array, a Node Readable, a web ReadableStream or
 *  any async iterable of byte chunks. A stream is parsed chunk by chunk (CSV and NDJSON; the first
 *  chunk fixes the schema) and can be read once; a Parquet stream is gathered whole first. */
export type FileInput = string | Uint8Array | NodeJS.ReadableStream | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>

export interface CsvOptions extends FileInputOptions {
  /** Default true. */
  header?: boolean
  delimiter?: string
  quote?: string
  escape?: string
  /** Values read as null, e.g. ['', 'NA', 'null']. */
  nullValues?: string[]
  /** Quoted values may contain newlines (slower). */
  newlinesInValues?: boolean
}

/** Batches from files (a file, a directory or a glob; local or cloud), parsed in Rust. */
declare class FileInputAdapter {
  readonly uri: string
  getBatches(options?: { format?: 'arrow'; rejects?: boolean } & Abortable): AsyncGenerator<RecordBatch, void, undefined>
  getBatches(options: { format: 'ipc'; rejects?: boolean } & Abortable): AsyncGenerator<Buffer, void, undefined>
  readAll(options?: Abortable): Promise<Table>
  [Symbol.asyncIterator](): AsyncGenerator<RecordBatch, void, undefined>
}
export declare class CsvInputAdapter extends FileInputAdapter {
  constructor(input: FileInput, options?: CsvOptions)
}
export declare class JsonLinesInputAdapter extends FileInputAdapter {
  constructor(input: FileInput, options?: FileInputOptions)
}
export declare class ParquetInputAdapter extends FileInputAdapter {
  constructor(input: FileInput, options?: FileInputOptions)
}

export interface PipeProgress {
  rowsRead: number
  rowsWritten: number
  rowsFailed: number
  bytesRead: number
  elapsedMs: number
}

export type TransformResult = RecordBatch | Table | RowObject[] | null | undefined

export interface PipeOptions {
  input:
    | DeltaInputAdapter
    | DeltaChangesInputAdapter
    | FileInputAdapter
    | AsyncIterable<RowObject | RowObject[] | RecordBatch | Table>
    | Iterable<RowObject | RowObject[] | RecordBatch | Table>
  /** Return null to drop the batch. Throwing sends the batch's rows to deadLetter (or fails the pipe). */
  transform?: (batch: RecordBatch) => TransformResult | Promise<TransformResult>
  output: DeltaOutputAdapter | DeltaWriter
  /** Called at most every progressIntervalMs (default 250), and once more before the commit. If it throws, the pipe rejects with ABORTED and commits nothing. */
  onProgress?: (progress: PipeProgress) => void
  progressIntervalMs?: number
  /** NDJSON file for rows that fail the transform or validation: { error, position, row } per line. Created (emptied) when the pipe starts: it holds this run's rows only. */
  deadLetter?: string
  /** Abort: the pipe rejects with ABORTED and nothing is committed (a following incremental
   *  pipe that is waiting for new source commits returns its report instead). */
  signal?: AbortSignal
  /** Incremental pipes (a DeltaChangesInputAdapter into a DeltaOutputAdapter with
   *  commitProperties.appId and no appVersion): source versions per target commit (default all of
   *  them; 1 with follow). */
  maxVersionsPerCommit?: number
}

export interface PipeReport {
  rowsRead: number
  rowsWritten: number
  rowsFailed: number
  bytesRead: number
  /** The committed version (null for a DeltaWriter output). */
  version: number | null
  durationMs: number
  /** For a DeltaWriter output: the file actions to hand to a DeltaCoordinator. */
  files?: DeltaFileAction[]
  /** Incremental pipes: the source versions consumed (null when nothing was new) and the target
   *  commits made (0 when nothing was new). */
  sourceVersions?: { from: number; to: number } | null
  commits?: number
}

export declare class Pipe {
  constructor(options: PipeOptions)
  run(): Promise<PipeReport>
}
