package quern_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/quernsql/quern"
)

// benchQuery runs a query over a benchmark file made by
// ../shared/bench/gen.sh (BENCH_DATA, default /tmp/benchdata); it skips
// when the file is missing.
func benchQuery(b *testing.B, file, query string) {
	benchQueryConfig(b, quern.DefaultConfig(), file, query)
}

// benchQueryConfig is benchQuery under cfg. QUERN_SPLIT and
// QUERN_SHUFFLE_MEMORY (bytes) override its split size and shuffle memory,
// to try other settings without rebuilding.
func benchQueryConfig(b *testing.B, cfg quern.Config, file, query string) {
	dir := os.Getenv("BENCH_DATA")
	if dir == "" {
		dir = "/tmp/benchdata"
	}
	st, err := os.Stat(dir + "/" + file)
	if err != nil {
		b.Skipf("%s/%s missing: run ../shared/bench/gen.sh", dir, file)
	}
	if v, err := strconv.ParseInt(os.Getenv("QUERN_SPLIT"), 10, 64); err == nil {
		cfg.SplitSize = v
	}
	if v, err := strconv.ParseInt(os.Getenv("QUERN_SHUFFLE_MEMORY"), 10, 64); err == nil {
		cfg.ShuffleMemory = v
	}
	db, err := quern.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.RegisterFile("t", dir+"/"+file); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rr, err := db.Query(context.Background(), query)
		if err != nil {
			b.Fatal(err)
		}
		for rr.Next() {
		}
		if err := rr.Err(); err != nil {
			b.Fatal(err)
		}
		rr.Release()
	}
}

func BenchmarkWordCount1G(b *testing.B) {
	benchQuery(b, "words/corpus-1g.txt", "SELECT word, count(*) AS n FROM t GROUP BY word ORDER BY n DESC, word LIMIT 10")
}

func BenchmarkTPCHQ1CSV(b *testing.B) {
	benchQuery(b, "tpch-sf1/lineitem.csv", `SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
		sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
		avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
		FROM t WHERE l_shipdate <= date '1998-12-01' - interval '90' day
		GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus`)
}

const (
	tpchQ1 = `SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
		sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
		avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
		FROM t WHERE l_shipdate <= date '1998-12-01' - interval '90' day
		GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus`
	tpchQ6 = `SELECT sum(l_extendedprice * l_discount) AS revenue FROM t
		WHERE l_shipdate >= date '1994-01-01' AND l_shipdate < date '1994-01-01' + interval '1' year
		AND l_discount BETWEEN 0.06 - 0.01 AND 0.06 + 0.01 AND l_quantity < 24`
)

func BenchmarkTPCHQ6CSV(b *testing.B) { benchQuery(b, "tpch-sf1/lineitem.csv", tpchQ6) }

func BenchmarkTPCHQ1Parquet(b *testing.B) { benchQuery(b, "tpch-sf1/lineitem.parquet", tpchQ1) }

func BenchmarkTPCHQ6Parquet(b *testing.B) { benchQuery(b, "tpch-sf1/lineitem.parquet", tpchQ6) }

// BenchmarkH2O runs the db-benchmark group-by questions of issue 5 over the
// 10-million-row table (results read to the end rather than stored).
func BenchmarkH2O(b *testing.B) {
	for _, q := range []struct{ name, sql string }{
		{"q1", "SELECT id1, sum(v1) AS v1 FROM t GROUP BY id1"},
		{"q2", "SELECT id1, id2, sum(v1) AS v1 FROM t GROUP BY id1, id2"},
		{"q3", "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM t GROUP BY id3"},
		{"q5", "SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM t GROUP BY id6"},
		{"q10", "SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM t GROUP BY id1, id2, id3, id4, id5, id6"},
	} {
		b.Run(q.name, func(b *testing.B) { benchQuery(b, "h2o/G1_1e7_1e2_0_0.csv", q.sql) })
	}
}

// BenchmarkSmallQuery is issue 5's small query: a GROUP BY over a 10-row
// in-memory table through the library, end to end (plan, run, read).
func BenchmarkSmallQuery(b *testing.B) {
	db, err := quern.Open(quern.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Exec(ctx, "CREATE TABLE t (k BIGINT, v BIGINT)"); err != nil {
		b.Fatal(err)
	}
	if err := db.Exec(ctx, "INSERT INTO t VALUES (1,1),(2,2),(3,3),(1,4),(2,5),(3,6),(1,7),(2,8),(3,9),(4,10)"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rr, err := db.Query(ctx, "SELECT k, count(*) AS n FROM t GROUP BY k")
		if err != nil {
			b.Fatal(err)
		}
		for rr.Next() {
		}
		if err := rr.Err(); err != nil {
			b.Fatal(err)
		}
		rr.Release()
	}
}
