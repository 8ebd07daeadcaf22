// Package slt reads and runs sqllogictest scripts: the format of SQLite's
// test corpus (used here through DoltHub's MySQL-regenerated copies) and of
// quern's golden query files. The format is specified in
// testdata/slt/README.md of the shared test data.
//
// Parse turns a script into Records (statements, queries, hash-threshold,
// halt), each with its file and line. Run executes them in order against an
// Engine, renders each value by the query's declared type letter exactly as
// the original harness does (I integer, R "%.3f", T text), applies the sort
// mode by comparing rendered strings byte-wise, and checks the values, or
// their MD5 when the script gives "N values hashing to H". WriteSummary
// prints the failures and a last line "N passed, N failed, N skipped" for
// CI. Rewrite regenerates expected results from a run.
//
//	script ──Parse──▶ []Record ──Run(Engine)──▶ Result ──WriteSummary──▶ report
//	                                   │
//	                  skip: conditions (other engine), Known differences
//	                  exec → render by letter → sort → compare / MD5
//
// Rendering converts by the letter, not the column type: a double or
// decimal in an I column is truncated toward zero (as SQLite's
// sqlite3_column_int64 does in the original harness), an integer in an R
// column prints as 37.000, and StrictTypes turns such mismatches into
// failures instead.
//
// Counting: records whose skipif/onlyif exclude the engine are OtherEngine
// and outside the totals. A record listed in Known is Skipped without
// running. An error starting with "not supported:" is Unsupported, counted
// in Skipped, so that "failed" means a wrong answer or an unexpected error.
// The runner never stops at a failure; one Run is one database session, so
// give each script a fresh engine.
package slt
