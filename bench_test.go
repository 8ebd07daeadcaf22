package quern_test

import (
	"context"
	"os"
	"testing"

	"github.com/quernsql/quern"
)

// benchQuery runs a query over a benchmark file made by
// ../shared/bench/gen.sh (BENCH_DATA, default /tmp/benchdata); it skips
// when the file is missing.
func benchQuery(b *testing.B, file, query string) {
	dir := os.Getenv("BENCH_DATA")
	if dir == "" {
		dir = "/tmp/benchdata"
	}
	st, err := os.Stat(dir + "/" + file)
	if err != nil {
		b.Skipf("%s/%s missing: run ../shared/bench/gen.sh", dir, file)
	}
	db, err := quern.Open(quern.DefaultConfig())
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
