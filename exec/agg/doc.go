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
// first appearance (unless it spilled, below). With no group keys, Final
// and Complete always emit one row, even over empty input (COUNT 0, the
// others NULL).
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
// (table.go), and keep their big arrays outside the Go heap (bigmem.go).
//
// The table shrinks while it is emitted, so that a reducer's table and
// its output (each hundreds of MiB for millions of groups) do not peak
// together. Groups come out in id order, front to back:
//
//	input consumed   seal: hash slots, probe and encoding scratch and
//	                 DISTINCT filters go back
//	each batch out   groups [0, pos) are dead: whole (huge) pages of the
//	                 per-group key and state arrays below pos go back
//	                 (madvise), and key pages holding only their keys are
//	                 unmapped; GROUP_CONCAT drops their lists
//	all out          the rest goes (free)
//
// What stays until the end: arrays on the Go heap (small ones, a MIN/MAX
// of strings' value arena, which is not in group order, GROUP_CONCAT's
// list headers) and, of each mapped array, the granule at the emission
// front and the capacity past its last group.
//
// Partial mode is adaptive: see DefaultPassThroughCheckRows.
//
// Memory is bounded by Env.Budget. After every input batch the operator
// resizes its reservation to an estimate of what it holds (key table and
// key bytes, hash slots, state arrays, DISTINCT filters, GROUP_CONCAT
// lists — a sum of capacities less what was given back, no per-row work),
// and after every output batch too, so the budget sees the memory coming
// back while the groups are emitted. When the budget refuses:
//
//	Partial           flush: emit the groups held as states, start again
//	Final, Complete   spill: write the groups held as states (keys + state
//	                  columns, Arrow IPC) into 16 files by a hash of the
//	                  key, start again; at the end of input spill the rest
//	                  and merge each file alone in Final mode
//
//	input ─▶ table ──(refused)──▶ spill files p0 … p15 (Env.SpillDir)
//	                                   │ one after the other
//	                                   ▼
//	                  Final merge of p_i ──(refused)──▶ p_i0 … p_i15 …
//
// A file whose merge does not fit either spills again one level down
// with other bits of the hash, up to maxSpillDepth levels. After a spill
// the groups come out partition by partition, in order of first
// appearance within one (SQL promises no order without ORDER BY). A
// *exec.MemoryLimitError ("memory limit exceeded: aggregate …") is
// returned, never an out-of-memory crash, when nothing can be spilled: a
// DISTINCT aggregate (its filter has no partial state), one group whose
// state alone is over the limit, or the recursion's end. Spill files are
// removed as soon as they are merged, on error and on Close; the bytes
// written are counted in Budget.Spilled.
package agg
