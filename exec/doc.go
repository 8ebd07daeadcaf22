// Package exec holds quern's vectorized operators: each passes Arrow record
// batches through the Operator interface, never one row at a time.
//
// This package has the contract (Operator, Env) and the row-wise-free
// basics (Filter, Project, Values, Empty); the subpackages hold the rest:
//
//	textscan, csvscan, jsonscan, parquetscan   readers of one split of a table
//	expr                                        typed expression kernels
//	agg                                         hash aggregation (partial, final, complete)
//	join                                        hash join (reduce-side and broadcast)
//	gather                                      copying selected rows into builders
//	shuffle                                     hash partitioning and the Arrow IPC shuffle files
//	order                                       sort, top-k, k-way merge, limit
//	task                                        builds a stage's operators from its planner.Op tree and runs one task
//
// Ownership: a record returned by Next belongs to the operator and is valid
// until the next call to Next or Close; a caller that keeps it retains it.
// Close is idempotent and releases everything the operator still holds.
package exec
