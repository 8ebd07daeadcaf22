// Package quern is a SQL query engine that compiles GROUP BY queries into
// MapReduce jobs and runs them on a pool of workers exchanging Apache Arrow
// record batches.
//
// A program opens a DB, optionally registers tables, and runs SQL:
//
//	db, err := quern.Open(quern.DefaultConfig())
//	rr, err := db.Query(ctx, "SELECT word, count(*) AS n FROM `corpus.txt` GROUP BY word ORDER BY n DESC LIMIT 10")
//	for rr.Next() { rec := rr.Record(); … }
//	rr.Release()
//
// Each statement is parsed and bound (package sql), planned into a job of
// stages (package planner), and run by the scheduler and the in-process
// worker pool (package cluster) that executes vectorized operators (package
// exec):
//
//	SQL ─▶ sql.Session.Bind ─▶ planner.Plan ─▶ cluster pool ─▶ final merge ─▶ array.RecordReader
//
// A DB is safe for concurrent use; statements that change session state
// (SET) apply to the DB's one session.
package quern
