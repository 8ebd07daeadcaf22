// Package agg is quern's hash aggregation operator: it groups the rows of its
// input by the group-key columns and computes the aggregates of
// planner.Aggregates over each group, in one of three modes of the split
// that DESIGN.md §3 describes.
//
//	Partial  (map side, the combiner)   raw rows      → keys + state columns
//	Final    (reduce side)              keys + states → keys + results
//	Complete (one place)                raw rows      → keys + results
//
// The output is the group-key columns (same names and types as the input)
// followed, per aggregate, by its state columns (Partial) or its result
// (Final, Complete), in batches of Env.BatchSize rows, groups in order of
// first appearance. With no group keys, Final and Complete always emit one
// row, even over empty input (COUNT 0, the others NULL).
//
// Work is columnar: for each input batch the group id of every row is found
// first (a table specialised by key shape: one integer-like key, one string
// key, or several keys packed into one byte string), then every aggregate
// updates its per-group state arrays in one typed loop over the batch. The
// kernels — update from raw rows, merge of states, finish — live in the
// table `kernels` keyed by aggregate name, the only place that tells
// aggregates apart. DISTINCT aggregates are supported in Complete mode (the
// planner shuffles raw rows on the group key for them).
//
// A table of millions of groups is bound by cache misses, so the tables
// hash a whole batch first and prefetch home slots a block ahead
// (table.go), and keep their big arrays outside the Go heap, freed when the
// groups have been emitted (bigmem.go).
//
// Partial mode is adaptive: see DefaultPassThroughCheckRows.
package agg
