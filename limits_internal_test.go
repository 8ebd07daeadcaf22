package quern

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLimitSetters: the effect of SET query_timeout and SET
// max_result_rows, applied to the statements after it.
func TestLimitSetters(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Workers, cfg.TempDir = 1, t.TempDir()
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, bad := range []string{"", "soon", "-1s", "30"} {
		if err := db.setQueryTimeout(bad); err == nil {
			t.Errorf("setQueryTimeout(%q) accepted", bad)
		}
	}
	if err := db.setMaxResultRows("many"); err == nil {
		t.Error("setMaxResultRows(many) accepted")
	}
	if err := db.setQueryTimeout("1ns"); err != nil {
		t.Fatal(err)
	}
	var te *QueryTimeoutError
	if err := db.Exec(context.Background(), "SELECT count(*) FROM `testdata/tables/people.csv`"); !errors.As(err, &te) || te.Timeout != time.Nanosecond {
		t.Fatalf("after SET query_timeout = 1ns: %v", err)
	}
	if err := db.setQueryTimeout("0s"); err != nil {
		t.Fatal(err)
	}
	if err := db.setMaxResultRows("1"); err != nil {
		t.Fatal(err)
	}
	var re *ResultRowsError
	if err := db.Exec(context.Background(), "SELECT * FROM `testdata/tables/people.csv`"); !errors.As(err, &re) {
		t.Fatalf("after SET max_result_rows = 1: %v", err)
	}
	if err := db.setMaxResultRows("0"); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), "SELECT * FROM `testdata/tables/people.csv`"); err != nil {
		t.Fatal(err)
	}
}
