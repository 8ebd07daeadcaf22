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
//
// Under a memory budget (exec.Env.Budget) Sort charges what it buffers and,
// when refused, sorts it and writes it to the spill directory as a sorted
// run (an Arrow IPC stream), then goes on; at the end it merges the runs,
// oldest first so that ties keep input order, with the rows still in
// memory, when they are few, as the last input. A merge is sized to hold
// about a sixteenth of the limit, inside the share every operator is
// always granted, so other operators holding the rest cannot fail it:
//
//	input ──▶ buffer ──(refused)──▶ sort ──▶ run file 1, 2, … n
//	            │                               │ more than fan-in: merge
//	            ▼                               ▼ passes into longer runs
//	       sorted tail ───────────────▶ k-way merge ──▶ output
//
// Spill files are removed when the merge ends, on error and on Close.
// TopK, which holds about k rows, and Merge, which holds a batch of each
// input, cannot spill: when what they must hold does not fit they fail
// with an *exec.MemoryLimitError. Without a budget nothing is counted.
package order
