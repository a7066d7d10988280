/**
 * Arrow tables to and from Parquet (ZSTD) through parquet-wasm, with file-level key-value
 * metadata. Writes are atomic: temporary name, then rename.
 */
import fs from "node:fs";
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import * as parquet from "parquet-wasm/node";
import { InputError, writeAtomically } from "./atomic-file.js";

export function writeParquet(file: string, table: Table, metadata: Record<string, string>): void {
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, "stream"));
  const props = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setKeyValueMetadata(new Map(Object.entries(metadata)))
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
    for (const [k, v] of table.schema.metadata) metadata[k] = v;
    return { table, metadata };
  } catch (err) {
    throw new InputError(file, `not a readable Parquet file (${(err as Error).message ?? String(err)})`);
  }
}
