// Package compressed opens the input files of quern's line-oriented formats
// (CSV/TSV, JSON lines, text) whether they are stored plain or compressed,
// so that the scans read decompressed bytes without knowing the difference.
//
// The codec comes from the file name's last suffix: ".gz" is gzip (several
// concatenated members read as one stream), ".zst" is Zstandard, anything
// else is read as is; the format is then told by the suffix before it
// (Strip("logs/x.csv.gz") is "logs/x.csv").
//
// A File is read with ReadAt at offsets of the decompressed stream. A plain
// file reads anywhere; a compressed one can only be read in order, so a
// compressed file is never split (one map task reads it whole from offset
// 0). Reading forward past the current offset skips the bytes in between,
// and reading behind it starts the decompressor over from the top of the
// file: slow, but only the error paths that count lines from the start of a
// file do that.
//
// Damaged compressed data is an error wrapping ErrCorrupt that names the
// file and the decompressed line and byte offset where decoding failed;
// a file cut short is ErrCorrupt too, never a silent end of data.
package compressed
