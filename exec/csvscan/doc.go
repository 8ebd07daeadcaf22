// Package csvscan reads delimited text files (CSV, TSV, '|' or ';'
// separated) with a header line into Arrow record batches, fast enough that
// parsing is not the bottleneck of a scan-heavy query.
//
// Sniff looks at the first MiB of a file once, on the coordinator, and returns
// a Format: delimiter, quoting, column names and types. The Format is plain
// data that travels with the job; Splits cuts the file into byte ranges and
// each map task runs a Reader over one range, materializing only the columns
// the query uses:
//
//	Sniff(path) ──▶ Format ──▶ Splits(format, size, target) ──▶ []Range
//	                                                        │ one per task
//	file ──ReadAt──▶ buffer ──split records──▶ spans ──parse, a column at a time──▶ Arrow arrays
//
// The contract:
//   - Every record is read by exactly one of the ranges Splits returns (the
//     rule is on Range); the header is never a data row.
//   - An empty field is NULL; a quoted empty field ("") is the empty string
//     in a VARCHAR column and NULL in any other. Blank lines are skipped.
//   - A value the column's type cannot read, a record with the wrong number of
//     fields, or broken quoting is a *ParseError naming the file, the real
//     1-based line and the byte column — never a NULL or a guess. A bad value
//     also names its column (1-based number and name) and quotes the value.
//     With Format.IgnoreErrors such records are skipped instead and counted
//     (Reader.Skipped); only the projected columns' values are parsed, so a
//     bad value in a column the query does not read drops nothing.
//   - The files of a glob are read with the Format sniffed from one of them
//     (Format.Source): each reader at offset 0 checks that its file's header
//     names the same columns, and errors say where the types came from.
//   - A .gz or .zst file is decompressed as it is read (package compressed)
//     and read whole by one Reader; lines and columns count decompressed
//     bytes.
//   - Lines end with "\n" or "\r\n"; the last may have no end. Bytes are not
//     validated as UTF-8.
//   - Reader implements exec.Operator: a batch is valid until the next Next
//     or Close, Close is idempotent, all Arrow memory comes from the given
//     allocator and is released.
package csvscan
