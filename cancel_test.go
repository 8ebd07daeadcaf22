package quern_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quernsql/quern"
)

// scratchFiles lists the files left under dir.
func scratchFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestCancelStopsJobAndRemovesFiles: cancelling the context of a running
// query stops its tasks, returns the cancellation, and leaves no shuffle
// files behind; a finished query leaves none either.
func TestCancelStopsJobAndRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.txt")
	genText(t, path, 16<<20, 3)
	tmp := t.TempDir()
	cfg := quern.DefaultConfig()
	cfg.Workers, cfg.Reducers, cfg.SplitSize, cfg.TempDir = 1, 2, 256<<10, tmp
	cfg.ShuffleMemory = 0 // files, so that leftovers would show
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A plan the word count cannot fuse, so that map tasks take a while.
	q := fmt.Sprintf("SELECT word, count(*) FROM `%s` WHERE word <> 'zzz' GROUP BY word", path)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		rr, err := db.Query(ctx, q)
		if err == nil {
			for rr.Next() {
			}
			err = rr.Err()
			rr.Release()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled query returned %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("cancellation took %v", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cancelled query did not return")
	}
	// Removal of a cancelled attempt's files may trail its report briefly.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := scratchFiles(t, tmp)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("files left after cancellation: %s", strings.Join(left, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The same query run to the end leaves nothing behind either.
	rr, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rr.Next() {
		n += int(rr.Record().NumRows())
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	rr.Release()
	if n == 0 {
		t.Fatal("no rows")
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(scratchFiles(t, tmp)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("files left after the query: %v", scratchFiles(t, tmp))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatal(err)
	}
}
