// Package shuffle moves rows from map tasks to reduce tasks through files:
// HashPartition assigns each row a partition, a Writer appends each
// partition's rows to its own Arrow IPC stream file and publishes the files
// atomically, and a Reader streams one partition's files (one per map task)
// back as an operator.
//
//	map task:    batches ─▶ HashPartition ─▶ per-partition buffers ─▶ name-pNNNNN.arrow.tmp
//	                                                 Commit: rename ─▶ name-pNNNNN.arrow
//	reduce task: [map0-p00003.arrow, map1-p00003.arrow, …] ─▶ Reader ─▶ batches
//
// Partitioning is part of the contract between processes: partition =
// hash(canonical key bytes) mod R with a fixed-seed hash defined in hash.go
// and pinned by a golden test. A file that is missing or cut short yields a
// *FetchError naming it, which the scheduler answers by re-running the map
// task that wrote it.
package shuffle
