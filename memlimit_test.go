package quern

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quernsql/quern/sql"
)

func TestSetMemoryLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TempDir = t.TempDir()
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.cfg.MemoryLimit <= 0 {
		t.Fatalf("default limit %d: want 60%% of RAM", db.cfg.MemoryLimit)
	}
	ctx := context.Background()
	for _, c := range []struct {
		set  string
		want int64
	}{{"SET memory_limit = '512MB'", 512 << 20}, {"SET memory_limit = 1048576", 1 << 20}, {"SET memory_limit = '1.5GiB'", 3 << 29}, {"SET memory_limit = -1", -1}, {"SET memory_limit = 0", -1}} {
		if err := db.Exec(ctx, c.set); err != nil {
			t.Fatalf("%s: %v", c.set, err)
		}
		st, err := db.bind("SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		job, err := db.planJob(st.(*sql.Query).Plan)
		if err != nil {
			t.Fatal(err)
		}
		if db.cfg.MemoryLimit != c.want || job.Run.MemoryLimit != max(c.want, 0) || job.Run.BatchSize != cfg.BatchSize {
			t.Errorf("%s: limit %d, job carries %+v; want %d", c.set, db.cfg.MemoryLimit, job.Run, c.want)
		}
	}
	err = db.Exec(ctx, "SET memory_limit = 'lots'")
	if err == nil || !strings.Contains(err.Error(), "SET memory_limit takes a size such as '2GB'") {
		t.Fatalf("bad size: %v", err)
	}
}

func TestSetQueryLimits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Workers, cfg.TempDir = 1, t.TempDir()
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, c := range []struct {
		set     string
		timeout time.Duration
		rows    int64
	}{{"SET query_timeout = '30s'", 30 * time.Second, 0}, {"SET max_execution_time = 1500", 1500 * time.Millisecond, 0}, {"SET query_timeout = 0", 0, 0}, {"SET max_result_rows = 10", 0, 10}} {
		if err := db.Exec(ctx, c.set); err != nil {
			t.Fatalf("%s: %v", c.set, err)
		}
		if db.cfg.QueryTimeout != c.timeout || db.cfg.MaxResultRows != c.rows {
			t.Errorf("%s: timeout %v rows %d", c.set, db.cfg.QueryTimeout, db.cfg.MaxResultRows)
		}
	}
	for set, msg := range map[string]string{"SET query_timeout = 'soon'": "SET query_timeout takes a duration", "SET max_result_rows = -3": "SET max_result_rows takes a number of rows"} {
		if err := db.Exec(ctx, set); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v", set, err)
		}
	}
}
