package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestClusterJoinSurvivesWorkerKill: a reduce-side join followed by a
// GROUP BY loses a worker while the join's reducers run; the map outputs
// of both join inputs that lived on its disk are made again and the
// answer is local mode's.
func TestClusterJoinSurvivesWorkerKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	var a, b strings.Builder
	a.WriteString("k,v\n")
	b.WriteString("k,w\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&a, "%d,%d\n", i%997, i)
		if i%3 == 0 {
			fmt.Fprintf(&b, "%d,%d\n", i%991, i%13)
		}
	}
	left, right := filepath.Join(dir, "left.csv"), filepath.Join(dir, "right.csv")
	if err := os.WriteFile(left, []byte(a.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(right, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestCluster(t, 3, []string{"--reducers", "3", "--split-size", "40000", "--heartbeat-timeout", "1s"}, func(i int) []string {
		if i == 0 {
			return []string{"QUERN_TEST_TASK_DELAY=2:*:3s"} // the join's reducers on worker 0 take a while
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.client().Exec(ctx, "SET broadcast_join_bytes = -1"); err != nil {
		t.Fatal(err)
	}
	query := fmt.Sprintf("SELECT a.k %% 7 AS g, sum(w) FROM `%s` a JOIN `%s` b ON a.k = b.k GROUP BY g ORDER BY g", left, right)
	wait := runAsync(t, c, query)
	c.coord.waitLog(t, regexp.MustCompile(fmt.Sprintf(`launch q\d+/2\.\d+#\d+ on %s`, regexp.QuoteMeta(c.workers[0].name))), 20*time.Second)
	c.workers[0].kill()
	rows, stats := wait()
	sameRows(t, rows, localAnswer(t, query))
	if n := reexecuted(stats, 2); n < 1 {
		t.Errorf("the join stage shows no re-execution:\n%s", stats)
	}
	if reexecuted(stats, 0)+reexecuted(stats, 1) < 1 {
		t.Errorf("no map output of the join's inputs was made again:\n%s", stats)
	}
	t.Logf("stats:\n%s", stats)
}
