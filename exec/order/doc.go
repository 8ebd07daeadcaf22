// Package order holds the operators that put rows in order or cut them
// short: Sort (whole input, stable), TopK (the first k rows by a bounded
// buffer), Merge (k-way merge of sorted inputs, the final step of ORDER BY
// over many reducers) and Limit (OFFSET/LIMIT by slicing).
//
// Order is MySQL's with binary collation: NULL sorts before every value
// ascending and after every value descending, strings compare byte-wise,
// and rows that tie keep their input order (Merge: the earlier input's rows
// first). Comparisons go through a typed view per key column (compare.go),
// one interface call per key per comparison and no allocation; output rows
// are gathered with one type switch per column and batch, or sliced without
// copying where the order allows.
package order
