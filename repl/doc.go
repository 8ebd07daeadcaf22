// Package repl is quern's interactive shell and batch runner: it splits
// input into SQL statements, runs dot commands, and prints results.
//
// Two parts are self-contained and used by the rest of the shell:
//
//   - SplitStatements cuts a script into statements on ';' outside quotes
//     and comments, remembering where each starts (1-based line and byte
//     column) so parser errors can point into the script.
//   - ResultWriter streams Arrow records to an io.Writer as a table, CSV,
//     TSV, JSON, JSON lines, markdown or "name = value" lines.
//
// The contract for values is one text per Arrow type (FormatValue): NULL is
// "NULL" for people, empty in CSV/TSV and null in JSON; booleans are 1/0 as
// MySQL returns them (true/false in JSON); doubles use MySQL's shortest form
// (AppendFloat); decimals keep their scale (3.50). Strings are bytes and are
// never validated: they are written unchanged to CSV, escaped for display
// in table, markdown and line modes, and made valid (U+FFFD) in JSON.
//
//	records ──WriteRecord──▶ format ──▶ bufio ──▶ io.Writer
//	                           │
//	                 table: keep first/last MaxRows/2 rows,
//	                 widths computed at Finish
package repl
