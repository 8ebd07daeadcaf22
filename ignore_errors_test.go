package quern_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quernsql/quern"
)

// TestCSVIgnoreErrors: a malformed row past the sniffed sample fails the
// query naming file and line; with SET csv_ignore_errors it is skipped and
// counted.
func TestCSVIgnoreErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("a,b\n")
	const n = 200_000
	for i := range n {
		fmt.Fprintf(w, "%d,x%d\n", i, i)
	}
	w.WriteString("12x,bad\n7\n8,y\n")
	w.Flush()
	f.Close()
	db, err := quern.Open(quern.Config{Workers: 2, TempDir: t.TempDir(), SplitSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	q := fmt.Sprintf("SELECT sum(a), count(*) FROM `%s`", path)
	if _, err := db.Query(ctx, q); err == nil || !strings.Contains(err.Error(), path+":") || !strings.Contains(err.Error(), fmt.Sprint(n+2)) && !strings.Contains(err.Error(), fmt.Sprint(n+3)) {
		t.Fatalf("want an error naming %s and the line, got %v", path, err)
	}
	if err := db.Exec(ctx, "SET csv_ignore_errors = 1"); err != nil {
		t.Fatal(err)
	}
	res, err := db.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	if !res.Next() {
		t.Fatal(res.Err())
	}
	rec := res.Record()
	want := fmt.Sprintf("%d %d", n*(n-1)/2+8, n+1)
	if got := rec.Column(0).ValueStr(0) + " " + rec.Column(1).ValueStr(0); got != want {
		t.Errorf("with csv_ignore_errors: %s, want %s", got, want)
	}
	for res.Next() {
	}
	if got := res.Stats.SkippedRows(); got != 2 {
		t.Errorf("skipped %d rows, want 2", got)
	}
	if err := db.Exec(ctx, "SET csv_ignore_errors = OFF"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, q); err == nil {
		t.Fatal("SET csv_ignore_errors = OFF must fail on the bad rows again")
	}
}
