// Package join holds the hash join: the build side is read whole into a
// hash table on its key columns, then each probe batch is matched against
// it, batch by batch.
//
//	build input ──▶ table: key bytes → build rows
//	probe batch ──▶ candidate pairs (probe row, build row) ──▶ residual condition ──▶ output batch
//
// The reduce-side join runs it on one partition of both inputs (both were
// hash-partitioned on their keys); the broadcast join runs it in every map
// task of the large input, with the small input as the build side. Keys
// compare as SQL "=": a NULL key matches nothing. A LEFT join emits each
// probe row that matched nothing with NULLs for the build columns.
//
// Under a memory budget the build side is charged as it is read and is
// never spilled: one over the limit fails with an *exec.MemoryLimitError
// for the "hash join build side" (the reduce-side join's partitioning by
// key is what keeps each build side small).
package join
