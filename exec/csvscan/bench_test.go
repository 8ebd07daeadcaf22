package csvscan

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec/compressed"
)

// The TPC-H and h2o files come from /work/shared/bench's generators:
//
//	go run ./gen/tpch -sf 0.1 -out /tmp/tpch-sf01
//	go run ./gen/h2o -n 1000000 -out /tmp/h2o-1e6.csv
//
// CSVSCAN_LINEITEM and CSVSCAN_H2O point elsewhere.
func benchFile(b *testing.B, env, def string) string {
	path := os.Getenv(env)
	if path == "" {
		path = def
	}
	if _, err := os.Stat(path); err != nil {
		b.Skipf("%s not found; generate it or set %s", path, env)
	}
	return path
}

// q1Columns are what TPC-H Q1 reads: quantity, extendedprice, discount, tax,
// returnflag, linestatus, shipdate.
var q1Columns = []int{4, 5, 6, 7, 8, 9, 10}

func BenchmarkScanLineitem(b *testing.B) {
	path := benchFile(b, "CSVSCAN_LINEITEM", "/tmp/tpch-sf01/lineitem.csv")
	benchScan(b, path, map[string][]int{"q1-7cols": q1Columns, "all-16cols": nil, "count-0cols": {}})
}

func BenchmarkScanH2O(b *testing.B) {
	path := benchFile(b, "CSVSCAN_H2O", "/tmp/h2o-1e6.csv")
	benchScan(b, path, map[string][]int{"all-9cols": nil, "q1-2cols": {0, 6}})
}

// BenchmarkScanGenerated always runs: a lineitem-shaped file written to a
// temp dir.
func BenchmarkScanGenerated(b *testing.B) {
	path := filepath.Join(b.TempDir(), "lineitem.csv")
	if err := os.WriteFile(path, []byte(fakeLineitem(100_000)), 0o644); err != nil {
		b.Fatal(err)
	}
	benchScan(b, path, map[string][]int{"q1-7cols": q1Columns})
}

// BenchmarkScanCompressed reads the generated file gzipped and
// zstd-compressed; MB/s counts decompressed bytes.
func BenchmarkScanCompressed(b *testing.B) {
	data := []byte(fakeLineitem(100_000))
	for _, name := range []string{"lineitem.csv.gz", "lineitem.csv.zst"} {
		path := filepath.Join(b.TempDir(), name)
		if err := compressed.WriteFile(path, data); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			f, err := Sniff(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rd, err := NewReader(path, f, q1Columns, Range{0, 1}, memory.DefaultAllocator, 0)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := rd.Next(context.Background())
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				rd.Close()
			}
		})
	}
}

func benchScan(b *testing.B, path string, projections map[string][]int) {
	f, err := Sniff(path)
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for name, cols := range projections {
		if cols == nil {
			cols = allColumns(f)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				rd, err := NewReader(path, f, cols, Range{0, st.Size()}, memory.DefaultAllocator, 0)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := rd.Next(context.Background())
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				rd.Close()
			}
		})
	}
}

// fakeLineitem renders n rows shaped like TPC-H lineitem.
func fakeLineitem(n int) string {
	rng := rand.New(rand.NewPCG(1, 1))
	var sb strings.Builder
	sb.WriteString("l_orderkey|l_partkey|l_suppkey|l_linenumber|l_quantity|l_extendedprice|l_discount|l_tax|" +
		"l_returnflag|l_linestatus|l_shipdate|l_commitdate|l_receiptdate|l_shipinstruct|l_shipmode|l_comment\n")
	words := []string{"furiously", "carefully", "final", "deposits", "requests", "blithely", "ironic", "packages"}
	for i := range n {
		date := func() string { return fmt.Sprintf("199%d-%02d-%02d", rng.IntN(8), 1+rng.IntN(12), 1+rng.IntN(28)) }
		fmt.Fprintf(&sb, "%d|%d|%d|%d|%d.00|%d.%02d|0.0%d|0.0%d|%c|%c|%s|%s|%s|%s|%s|%s %s %s\n",
			i/4+1, rng.IntN(200000), rng.IntN(10000), i%4+1, 1+rng.IntN(50), rng.IntN(100000), rng.IntN(100),
			rng.IntN(10), rng.IntN(9), "RAN"[rng.IntN(3)], "OF"[rng.IntN(2)], date(), date(), date(),
			"DELIVER IN PERSON", "TRUCK", words[rng.IntN(8)], words[rng.IntN(8)], words[rng.IntN(8)])
	}
	return sb.String()
}

func BenchmarkSniff(b *testing.B) {
	path := filepath.Join(b.TempDir(), "lineitem.csv")
	if err := os.WriteFile(path, []byte(fakeLineitem(20_000)), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Sniff(path); err != nil {
			b.Fatal(err)
		}
	}
}
