/**
 * Arrow tables to and from Parquet (ZSTD) through parquet-wasm, with metadata. Writes are
 * atomic: temporary name, then rename.
 *
 * Metadata goes in twice, both deterministically: as the Arrow schema's metadata (one key per
 * field, restored by Arrow readers from the footer's ARROW:schema) and as ONE file-level
 * key-value entry `mocksmith` holding all fields as JSON with sorted keys (what DuckDB's
 * parquet_kv_metadata or pyarrow's FileMetaData show). parquet-wasm stores several file-level
 * entries in a hash-map order that changes from file to file, which made identical tables give
 * different bytes; one entry cannot be reordered.
 */
import fs from "node:fs";
import { RecordBatch, Schema, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import * as parquet from "parquet-wasm/node";
import { InputError, writeAtomically } from "./atomic-file.js";

export const FILE_METADATA_KEY = "mocksmith";

export function writeParquet(file: string, table: Table, metadata: Record<string, string>): void {
  const sorted = Object.fromEntries(
    Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const schema = new Schema(
    table.schema.fields,
    new Map([...table.schema.metadata, ...Object.entries(sorted)]),
  );
  const withSchemaMetadata = new Table(
    schema,
    table.batches.map((b) => new RecordBatch(schema, b.data)),
  );
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(withSchemaMetadata, "stream"));
  const props = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setKeyValueMetadata(new Map([[FILE_METADATA_KEY, JSON.stringify(sorted)]]))
    .build();
  const bytes = parquet.writeParquet(wasmTable, props);
  writeAtomically(file, (tmp) => fs.writeFileSync(tmp, bytes));
}

export interface ParquetContents {
  table: Table;
  metadata: Record<string, string>;
}

export function readParquet(file: string): ParquetContents {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new InputError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const wasmTable = parquet.readParquet(bytes);
    const table = tableFromIPC(wasmTable.intoIPCStream());
    const metadata: Record<string, string> = {};
    for (const [k, v] of table.schema.metadata) if (k !== FILE_METADATA_KEY) metadata[k] = v;
    return { table, metadata };
  } catch (err) {
    throw new InputError(file, `not a readable Parquet file (${(err as Error).message ?? String(err)})`);
  }
}
