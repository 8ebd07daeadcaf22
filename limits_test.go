package quern_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/cluster"
)

// drain reads a result to its end and returns its rows and error.
func drain(db *quern.DB, q string) (int64, error) {
	rr, err := db.Query(context.Background(), q)
	if err != nil {
		return 0, err
	}
	defer rr.Release()
	var n int64
	for rr.Next() {
		n += rr.RecordBatch().NumRows()
	}
	return n, rr.Err()
}

// TestQueryTimeout: a query slower than Config.QueryTimeout fails with the
// timeout error soon after it, its job is cancelled (the reduce tasks that
// would hold it for a minute do not), and its files are removed.
func TestQueryTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.txt")
	genText(t, path, 4<<20, 5)
	tmp := t.TempDir()
	cfg := quern.DefaultConfig()
	cfg.Workers, cfg.Reducers, cfg.SplitSize, cfg.TempDir = 2, 2, 256<<10, tmp
	cfg.ShuffleMemory = 0 // files, so that leftovers would show
	cfg.QueryTimeout = 300 * time.Millisecond
	cfg.PoolKnobs.TaskDelay = func(_ string, a cluster.AttemptID) time.Duration {
		if a.Task.Stage > 0 {
			return time.Minute // map outputs are on disk by now
		}
		return 0
	}
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf("SELECT word, count(*) FROM `%s` WHERE word <> 'zzz' GROUP BY word", path)
	start := time.Now()
	_, err = drain(db, q)
	var te *quern.QueryTimeoutError
	if !errors.As(err, &te) || !strings.HasPrefix(err.Error(), "query timeout: exceeded 300ms") {
		t.Fatalf("err = %v, want the query timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timed-out query took %v", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for left := scratchFiles(t, tmp); len(left) > 0; left = scratchFiles(t, tmp) {
		if time.Now().After(deadline) {
			t.Fatalf("files left after the timeout: %s", strings.Join(left, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A query within the limit runs; a timeout already past fails at once.
	cfg.PoolKnobs = cluster.TestingKnobs{}
	cfg.QueryTimeout = time.Minute
	fast, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if n, err := drain(fast, "SELECT count(*) FROM `testdata/tables/people.csv`"); err != nil || n != 1 {
		t.Fatalf("a quick query: %d rows, %v", n, err)
	}
	cfg.QueryTimeout = time.Nanosecond
	tiny, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tiny.Close()
	if _, err := drain(tiny, q); !errors.As(err, &te) {
		t.Fatalf("1ns timeout: %v", err)
	}
}

func TestMaxResultRows(t *testing.T) {
	cfg := quern.DefaultConfig()
	cfg.Workers, cfg.TempDir = 2, t.TempDir()
	cfg.MaxResultRows = 5
	cfg.BatchSize = 2 // the limit falls inside the result, not at a batch's end
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	words := "`testdata/tables/words.txt`"
	for _, tc := range []struct {
		q       string
		rows    int64
		tooMany bool
	}{
		{"SELECT word FROM " + words + " LIMIT 5", 5, false},
		{"SELECT word FROM " + words + " LIMIT 3", 3, false},
		{"SELECT word FROM " + words + " LIMIT 6", 0, true},
		{"SELECT word FROM " + words, 0, true},
		{"SELECT count(*) FROM " + words, 1, false},
		{"EXPLAIN SELECT word, count(*) FROM " + words + " GROUP BY word ORDER BY 2 DESC LIMIT 3", -1, false},
	} {
		n, err := drain(db, tc.q)
		var re *quern.ResultRowsError
		switch {
		case tc.tooMany && (!errors.As(err, &re) || err.Error() != "result too large: more than 5 rows (--max-result-rows); add a LIMIT or raise the limit"):
			t.Errorf("%s: %d rows, err = %v; want the row limit error", tc.q, n, err)
		case tc.tooMany && n > 5:
			t.Errorf("%s: %d rows returned before the error", tc.q, n)
		case !tc.tooMany && (err != nil || (tc.rows >= 0 && n != tc.rows)):
			t.Errorf("%s: %d rows, err = %v; want %d", tc.q, n, err, tc.rows)
		}
	}
	// Statements without a result are not limited; EXPLAIN's lines are
	// not rows (-1 above).
	if err := db.Exec(context.Background(), "CREATE TABLE w AS SELECT word FROM "+words); err != nil {
		t.Fatal(err)
	}
}
