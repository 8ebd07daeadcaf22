package shuffle

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
)

// q10Batch is a batch of h2o q10's map output: three short string keys
// (5 to 12 bytes), three int64 keys, a float64 sum and an int64 count.
func q10Batch(mem memory.Allocator, n int, seed uint64) arrow.Record {
	rng := rand.New(rand.NewPCG(seed, 5))
	fields := make([]arrow.Field, 8)
	arrs := make([]arrow.Array, 8)
	for c := range 8 {
		switch {
		case c < 3:
			fields[c] = arrow.Field{Name: fmt.Sprint("id", c+1), Type: arrow.BinaryTypes.String}
			b := array.NewStringBuilder(mem)
			for range n {
				b.Append(fmt.Sprintf("id%0*d", 3+rng.IntN(8), rng.IntN(1000)))
			}
			arrs[c] = b.NewArray()
			b.Release()
		case c == 6:
			fields[c] = arrow.Field{Name: "v3", Type: arrow.PrimitiveTypes.Float64}
			b := array.NewFloat64Builder(mem)
			for range n {
				b.Append(rng.Float64() * 100)
			}
			arrs[c] = b.NewArray()
			b.Release()
		default:
			fields[c] = arrow.Field{Name: fmt.Sprint("k", c), Type: arrow.PrimitiveTypes.Int64}
			b := array.NewInt64Builder(mem)
			for range n {
				b.Append(rng.Int64N(1e5))
			}
			arrs[c] = b.NewArray()
			b.Release()
		}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// BenchmarkPartitionWriteQ10 cuts 64 batches of 16K rows of q10's shape into
// 2 partitions on the six keys, into files or kept in a spool (where the
// copy into the partitions is most of the work).
func BenchmarkPartitionWriteQ10(b *testing.B) {
	mem := memory.NewGoAllocator()
	var recs []arrow.Record
	for i := range 64 {
		recs = append(recs, q10Batch(mem, 16384, uint64(i)))
	}
	rows := 64 * 16384
	for _, where := range []string{"file", "spool"} {
		b.Run(where, func(b *testing.B) {
			dir := b.TempDir()
			spool := NewSpool(1 << 40)
			i, written := 0, int64(0)
			for b.Loop() {
				w, err := NewWriter(dir, fmt.Sprint("m", i), recs[0].Schema(), []int{0, 1, 2, 3, 4, 5}, 2, exec.DefaultEnv())
				if err != nil {
					b.Fatal(err)
				}
				if where == "spool" {
					w.UseSpool(spool)
				}
				for _, r := range recs {
					if err := w.Write(r); err != nil {
						b.Fatal(err)
					}
				}
				infos, err := w.Commit()
				if err != nil {
					b.Fatal(err)
				}
				written = 0
				for _, in := range infos {
					written += in.Bytes
					os.Remove(in.Path)
				}
				spool.RemovePrefix(dir)
				i++
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(written)/float64(rows), "output-B/row")
		})
	}
}
