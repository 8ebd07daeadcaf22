package shuffle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
)

// everyType makes n rows of every type a partition carries, NULL where
// null says; about one string in four is empty, the others up to 40 bytes.
func everyType(mem memory.Allocator, n int, null func(int) bool) arrow.Record {
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	dts := []arrow.DataType{str, i64, u64, f64, boo, d32, ts, dec2, arrow.Null}
	cols := make([][]any, len(dts))
	for c := range cols {
		cols[c] = make([]any, n)
	}
	for r := 0; r < n; r++ {
		if null(r) {
			continue
		}
		if rng.IntN(4) > 0 {
			cols[0][r] = strings.Repeat("ab", rng.IntN(21))
		} else {
			cols[0][r] = ""
		}
		cols[1][r] = rng.Int64N(40) - 20
		cols[2][r] = rng.Uint64()
		cols[3][r] = rng.NormFloat64()
		cols[4][r] = rng.IntN(2) == 0
		cols[5][r] = rng.Int32N(30000)
		cols[6][r] = rng.Int64()
		cols[7][r] = decimal128.New(rng.Int64N(100)-50, rng.Uint64())
	}
	return recordOf(mem, dts, cols, n)
}

// TestWriterCopiesEveryType writes slices (at non-zero offsets) of batches
// with NULLs nowhere, here and there, first deep into the data, or
// everywhere, and reads every partition back row for row, from files and
// from the spool.
func TestWriterCopiesEveryType(t *testing.T) {
	patterns := []struct {
		name string
		null func(int) bool
	}{
		{"no NULLs", func(int) bool { return false }},
		{"some NULLs", func(i int) bool { return i%5 == 3 }},
		{"late NULL", func(i int) bool { return i == 250 }},
		{"all NULL", func(int) bool { return true }},
	}
	for _, pat := range patterns {
		for _, bs := range []int{1, 3, 1024} {
			for _, where := range []string{"file", "spool"} {
				t.Run(fmt.Sprintf("%s/batch=%d/%s", pat.name, bs, where), func(t *testing.T) {
					mem := checkedMem(t)
					env := exec.Env{Alloc: mem, BatchSize: bs}
					all := everyType(mem, 300, pat.null)
					defer all.Release()
					keys := []int{1, 0}
					w, err := NewWriter(t.TempDir(), "m0", all.Schema(), keys, 3, env)
					if err != nil {
						t.Fatal(err)
					}
					defer w.Abort()
					spool := NewSpool(1 << 30)
					if where == "spool" {
						w.UseSpool(spool)
					}
					for from := int64(0); from < all.NumRows(); {
						to := min(from+1+from%13, all.NumRows())
						s := all.NewSlice(from, to)
						err := w.Write(s)
						s.Release()
						if err != nil {
							t.Fatal(err)
						}
						from = to
					}
					infos, err := w.Commit()
					if err != nil {
						t.Fatal(err)
					}
					defer spool.RemovePrefix("")
					dst := make([]int32, all.NumRows())
					HashPartition(all, keys, 3, dst)
					allRows := rowsOf(all)
					for p, info := range infos {
						var want []string
						for i, q := range dst {
							if int(q) == p {
								want = append(want, allRows[i])
							}
						}
						var rd exec.Operator
						if where == "spool" {
							if !spool.Has(info.Path) {
								t.Fatalf("partition %d is not in the spool", p)
							}
							rd, err = NewSpoolReader(spool, []string{info.Path}, all.Schema(), env)
						} else {
							rd, err = NewReader([]string{info.Path}, all.Schema(), env)
						}
						if err != nil {
							t.Fatal(err)
						}
						got, _ := readAll(t, rd)
						if !slices.Equal(got, want) {
							t.Fatalf("partition %d: got %d rows\n%s\nwant %d\n%s", p, len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
						}
					}
				})
			}
		}
	}
}
