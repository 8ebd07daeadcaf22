// Package task turns one stage of a planner.Job into running operators and
// runs one task of it: a map task reads its split, a reduce task reads its
// partition of every upstream task's output, and both write their output
// as hash-partitioned Arrow IPC files.
//
//	map task:    split ─▶ Build(stage.Root) ─▶ shuffle.Writer (R partitions) ─▶ files
//	reduce task: partition files ─▶ ShuffleRead ─▶ Build(stage.Root) ─▶ shuffle.Writer ─▶ files
//
// Tasks are idempotent: an attempt writes under its own directory, and
// files appear only when the attempt commits (temp file + rename).
//
// Run gives the task's operators a buffer pool over the Env's allocator
// (pool.go): batch after batch they ask for the same buffers, and reusing
// them saves the zeroing, page faults and garbage of fresh ones.
package task
