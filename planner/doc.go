// Package planner turns a bound logical plan into a MapReduce job: plain
// data that prints itself (EXPLAIN) and encodes losslessly (it travels to
// worker processes). It is pure: no I/O, no goroutines.
//
//	logical plan ──Optimize (rules table)──▶ logical plan ──Lower──▶ Job
//	                                                        │
//	   Scan/Filter/Project ─────────────▶ ops appended to the open stage
//	   Aggregate ───▶ map: project → partial aggregate ─shuffle(hash(keys) mod R)─▶ reduce: final aggregate
//	   Join ────────▶ broadcast: small side's stage read whole by every task of the other
//	                  reduce-side: both sides shuffled on the keys into the same R partitions
//	   Sort/Limit ──▶ at the top: per-task sort/top-k + the final k-way merge
//
// The types here are the contract between the binder (package sql), which
// builds typed expressions with ResolveCall, and the executor (package
// exec), which implements the kernels. Aggregates declare their split in
// the Aggregates table (state types; exec has the update/merge/finalize
// kernels); nothing else switches on aggregate names. Plan nodes are
// immutable values: rewrites build new trees.
package planner
