// Type definitions for zoopipe — the public API of ../shared/API.md.
import type { RecordBatch, Schema, Table } from 'apache-arrow'

/** Same keys as delta-rs / object_store; missing keys fall back to the process environment. */
export type StorageOptions = Record<string, string>

export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in'
/**
 * `[column, op, value]` triples joined with AND. Used for partition pruning, file skipping by
 * stats, and exact row filtering. `['c', '=', null]` matches nulls; `in` lists may contain null.
 */
export type Filter = Array<[string, FilterOp, unknown]>

export type ErrorCode =
  | 'TABLE_NOT_FOUND' | 'VERSION_NOT_FOUND' | 'SCHEMA_MISMATCH' | 'INVALID_ARGUMENT' | 'INVALID_DATA'
  | 'COMMIT_CONFLICT' | 'STORAGE' | 'UNSUPPORTED_FEATURE' | 'PROTOCOL' | 'ABORTED' | 'INTERNAL'

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
  /** Time travel by time: the latest version committed at or before it. */
  timestamp?: string | Date | number
}

export interface ScanOptions {
  /** Projection: only these columns are read, in this order. */
  columns?: string[]
  filter?: Filter
  /** Max rows per batch (default 65536). */
  batchSize?: number
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
  readonly uri: string
  /** The loaded version. */
  readonly version: number
  schema(): Schema
  metadata(): TableMetadata
  protocol(): TableProtocol
  /** Commits newest first (at most `limit`), up to the loaded version. */
  history(limit?: number): Promise<CommitInfo[]>
  files(): Promise<TableFile[]>
  loadVersion(version: number): Promise<this>
  loadTimestamp(timestamp: string | Date | number): Promise<this>
  /** Stream the loaded snapshot. */
  getBatches(options?: ScanOptions & { format?: 'arrow' }): AsyncGenerator<RecordBatch, void, undefined>
  getBatches(options: ScanOptions & { format: 'ipc' }): AsyncGenerator<Buffer, void, undefined>
  /** Read the loaded snapshot into one Table. */
  toTable(options?: ScanOptions): Promise<Table>
}

export declare class DeltaInputAdapter {
  constructor(uri: string, options?: ReadOptions)
  readonly uri: string
  /** The opened table (opened on first use). */
  table(): Promise<DeltaTable>
  /** Batches are produced while files are read; `break` stops the native work. */
  getBatches(options?: { format?: 'arrow' }): AsyncGenerator<RecordBatch, void, undefined>
  getBatches(options: { format: 'ipc' }): AsyncGenerator<Buffer, void, undefined>
  readAll(): Promise<Table>
}

/** The same as `new DeltaInputAdapter(uri, options).readAll()`. */
export declare function readDelta(uri: string, options?: ReadOptions): Promise<Table>
