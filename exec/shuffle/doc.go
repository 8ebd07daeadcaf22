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
// and pinned by a golden test.
//
// Every partition file carries a CRC32-C per batch in a trailer after the
// Arrow stream (checksum.go); the Reader verifies each block before the
// IPC decoder sees it. A file that is missing, cut short or corrupt (a
// flipped bit anywhere) yields a *FetchError naming it, never a wrong row,
// and the scheduler answers it by re-running the map task that wrote it.
// Files are written by a Writer, or by CreateFile for a partition copied
// from another worker; a plain Arrow IPC stream is refused. Partitions
// held in a Spool are not checksummed: they never leave the process.
package shuffle
