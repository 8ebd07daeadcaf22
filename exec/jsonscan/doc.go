// Package jsonscan reads JSON-lines files (.jsonl, .ndjson: one JSON object
// per line) into Arrow record batches for quern's map tasks.
//
// A table's shape comes from Sniff, which reads a sample from the head of the
// file and returns a Format: the union of the top-level keys in first-seen
// order, each with a SQL type (BIGINT, DOUBLE, BOOLEAN, VARCHAR, or NULL when
// the sample only ever saw null or nothing). Nested objects and arrays, and
// columns whose sample mixes incompatible kinds, become VARCHAR holding the
// value's JSON text (strings unquoted). The Format is plain data and travels
// inside jobs, so every map task reads with the same types.
//
// Splits cuts a file into byte ranges without looking at it; a Reader over a
// range reads exactly the lines that start inside it, so the ranges of one
// file together read every line once:
//
//	file:   |line 1\n|line 2 ........\n|line 3\n|line 4\n|
//	ranges: [0 ............ 9)[9 ................... 27)
//	        reads lines 1, 2   reads lines 3, 4 (line 2 started in range 0)
//
// Reader implements the exec.Operator contract structurally: Next returns a
// record owned by the Reader and valid until the next Next or Close, io.EOF
// at the end, and Close is idempotent. Blank lines are skipped. Malformed
// JSON anywhere on a line, a line that is not an object, or a value that
// contradicts its projected column's type is an error "path:LINE: …" with the
// true 1-based line number, counted from the start of the file only when an
// error needs it. Keys not in the Format are ignored; a key repeated on one
// line keeps its last value.
//
// The files of a glob are read with the Format sniffed from one of them
// (Format.Source); a reader of another file checks that the keys of its
// first line are columns of the Format (ErrSchema otherwise). A .gz or .zst
// file is decompressed as it is read (package compressed) and read whole by
// one Reader; line numbers count decompressed lines.
package jsonscan
