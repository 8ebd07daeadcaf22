// Package parquetscan reads Parquet files into Arrow record batches of
// quern's types, for the scan at the bottom of a map task.
//
// Inspect reads only a file's footer: the top-level columns mapped to quern
// types, the row count of every row group and, where the writer kept them,
// per-column min/max statistics as plain data a planner can prune with. The
// unit of splitting is the row group; Info.Splits groups consecutive row
// groups by size. NewReader reads the chosen row groups and projected
// columns through Arrow Go's pqarrow and casts each batch to the quern type
// (DECIMALs stored as INT32/INT64 are read as those integers and widened
// here, so that their values too come from the caller's allocator):
//
//	parquet                         quern            Arrow
//	INT8/16/32/64                   BIGINT           int64
//	UINT8/16/32/64                  BIGINT UNSIGNED  uint64
//	FLOAT, DOUBLE (and FLOAT16)     DOUBLE           float64
//	DECIMAL(p≤38,s), any storage    DECIMAL(p,s)     decimal128(p,s)
//	STRING, ENUM, JSON, BYTE_ARRAY  VARCHAR          utf8 (bytes as stored)
//	BOOLEAN                         BOOLEAN          boolean
//	DATE                            DATE             date32
//	TIMESTAMP (any unit), INT96     DATETIME         timestamp[us], no zone
//
// Anything else (lists, structs, maps, TIME, INTERVAL, DECIMAL beyond 38
// digits) is listed with type UNSUPPORTED so the rest of the file stays
// usable; reading such a column fails with "not supported: parquet column X
// of type …". Types follow from the Parquet schema alone: an Arrow schema
// an Arrow writer stored in the footer is ignored, so a file reads the same
// whoever wrote it. Timestamps keep the stored instant: UTC-adjusted values
// become UTC wall-clock times; nanoseconds are floored to microseconds.
//
// NewFileReader reads every row group of a file after checking that its
// columns are the table's (ErrSchema otherwise): the small files of a glob
// are not inspected at planning, only by the task that reads them.
//
// Reader implements the exec.Operator contract structurally: Next returns a
// record owned by the Reader and valid until the next Next or Close, at most
// batchSize rows, io.EOF at the end; Close is idempotent. A corrupt or
// truncated file is an error naming the path, never a panic.
package parquetscan
