package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The scheduler tests are scripts: an event per line, followed by the
// actions it must cause, each on a line starting with "> " (in order; an
// event followed by no "> " line must cause none). Events:
//
//	up W [SLOTS]             WorkerUp
//	down W                   WorkerDown
//	hb W...                  Heartbeat for each worker
//	tick DURATION            Tick to that absolute logical time
//	submit J STAGE...        SubmitJob; STAGE is ID:TASKS or ID:TASKS<DEP,DEP
//	cancel J / release J     CancelJob / ReleaseJob
//	ok J/S.I#A@W             TaskSucceeded
//	fail J/S.I#A@W KIND MSG  TaskFailed, KIND transient or deterministic
//	fetchfail J/S.I#A@W J/S.I@W   TaskFailed FetchFailed of that upstream task and worker
//	stats J                  prints JobStats.String() as "> " lines
func runScript(t *testing.T, cfg Config, script string) *Scheduler {
	t.Helper()
	s := NewScheduler(cfg)
	lines := strings.Split(strings.TrimSpace(script), "\n")
	for i := 0; i < len(lines); {
		line := strings.TrimSpace(lines[i])
		i++
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, ">") {
			t.Fatalf("line %d: expected action %q without an event before it", i, line)
		}
		var want []string
		for ; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			if strings.HasPrefix(l, "#") {
				continue // a comment between an event and its actions
			}
			if !strings.HasPrefix(l, ">") {
				break
			}
			want = append(want, strings.TrimSpace(strings.TrimPrefix(l, ">")))
		}
		var got []string
		f := strings.Fields(line)
		if f[0] == "stats" {
			st, ok := s.JobStats(f[1])
			if !ok {
				got = []string{"no job"}
			} else {
				for l := range strings.SplitSeq(strings.TrimSpace(st.String()), "\n") {
					got = append(got, strings.TrimSpace(l))
				}
			}
		} else if hb, ok := parseEvent(t, line).(heartbeats); ok {
			for _, w := range hb {
				for _, a := range s.Step(Heartbeat{Worker: w}) {
					got = append(got, fmt.Sprint(a))
				}
			}
		} else {
			for _, a := range s.Step(parseEvent(t, line)) {
				got = append(got, fmt.Sprint(a))
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("after %q (line %d):\ngot:\n> %s\nwant:\n> %s", line, i, strings.Join(got, "\n> "), strings.Join(want, "\n> "))
		}
	}
	return s
}

func parseEvent(t *testing.T, line string) Event {
	t.Helper()
	f := strings.Fields(line)
	arg := func(i int) string {
		if i >= len(f) {
			t.Fatalf("%q: missing argument %d", line, i)
		}
		return f[i]
	}
	switch f[0] {
	case "up":
		slots := 1
		if len(f) > 2 {
			slots, _ = strconv.Atoi(f[2])
		}
		return WorkerUp{Worker: arg(1), Slots: slots}
	case "down":
		return WorkerDown{Worker: arg(1)}
	case "hb":
		return heartbeats(f[1:])
	case "tick":
		d, err := time.ParseDuration(arg(1))
		if err != nil {
			t.Fatal(err)
		}
		return Tick{Now: d}
	case "submit":
		spec := JobSpec{ID: arg(1)}
		for _, st := range f[2:] {
			idTasks, deps, _ := strings.Cut(st, "<")
			id, tasks, _ := strings.Cut(idTasks, ":")
			ss := StageSpec{ID: atoi(t, id), Tasks: atoi(t, tasks)}
			if deps != "" {
				for d := range strings.SplitSeq(deps, ",") {
					ss.Deps = append(ss.Deps, atoi(t, d))
				}
			}
			spec.Stages = append(spec.Stages, ss)
		}
		return SubmitJob{Job: spec}
	case "cancel":
		return CancelJob{Job: arg(1)}
	case "release":
		return ReleaseJob{Job: arg(1)}
	case "ok":
		a, w := parseAttempt(t, arg(1))
		return TaskSucceeded{Attempt: a, Worker: w, Output: OutputInfo{Rows: 10, Bytes: 100}}
	case "fail":
		a, w := parseAttempt(t, arg(1))
		err := errors.New(strings.Join(f[3:], " "))
		switch arg(2) {
		case "transient":
			return TaskFailed{Attempt: a, Worker: w, Err: err, Kind: Transient}
		case "deterministic":
			return TaskFailed{Attempt: a, Worker: w, Err: err, Kind: Deterministic}
		}
	case "fetchfail":
		a, w := parseAttempt(t, arg(1))
		task, mw, _ := strings.Cut(arg(2), "@")
		m, _ := parseAttempt(t, task+"#0@")
		return FailureFromError(a, w, FetchFailedError(m.Task, mw, errors.New("connection refused")))
	}
	t.Fatalf("bad event %q", line)
	return nil
}

// heartbeats is a pseudo-event the script runner expands.
type heartbeats []string

func (heartbeats) isEvent() {}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("bad number %q", s)
	}
	return n
}

// parseAttempt reads "job/stage.index#attempt@worker".
func parseAttempt(t *testing.T, s string) (AttemptID, string) {
	t.Helper()
	id, w, _ := strings.Cut(s, "@")
	job, rest, _ := strings.Cut(id, "/")
	task, att, _ := strings.Cut(rest, "#")
	st, idx, _ := strings.Cut(task, ".")
	return AttemptID{Task: TaskID{Job: job, Stage: atoi(t, st), Index: atoi(t, idx)}, Attempt: atoi(t, att)}, w
}

func TestSchedulerScripts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		script string
	}{{
		name: "exactly once: 8 map tasks, 2 reducers",
		script: `
up w1 2
up w2 2
submit j 0:8 1:2<0
> launch j/0.0#0@w1
> launch j/0.1#0@w2
> launch j/0.2#0@w1
> launch j/0.3#0@w2
tick 1s
ok j/0.0#0@w1
> launch j/0.4#0@w1
ok j/0.1#0@w2
> launch j/0.5#0@w2
ok j/0.2#0@w1
> launch j/0.6#0@w1
ok j/0.3#0@w2
> launch j/0.7#0@w2
tick 2s
ok j/0.4#0@w1
ok j/0.5#0@w2
ok j/0.6#0@w1
ok j/0.7#0@w2
> launch j/1.0#0@w1 in=j/0.0#0@w1,j/0.1#0@w2,j/0.2#0@w1,j/0.3#0@w2,j/0.4#0@w1,j/0.5#0@w2,j/0.6#0@w1,j/0.7#0@w2
> launch j/1.1#0@w2 in=j/0.0#0@w1,j/0.1#0@w2,j/0.2#0@w1,j/0.3#0@w2,j/0.4#0@w1,j/0.5#0@w2,j/0.6#0@w1,j/0.7#0@w2
tick 3s
ok j/1.1#0@w2
ok j/1.0#0@w1
> discard j/0.0#0@w1
> discard j/0.1#0@w2
> discard j/0.2#0@w1
> discard j/0.3#0@w2
> discard j/0.4#0@w1
> discard j/0.5#0@w2
> discard j/0.6#0@w1
> discard j/0.7#0@w2
> succeeded j out=j/1.0#0@w1,j/1.1#0@w2
stats j
> job j succeeded in 3s
> stage 0: tasks=8 attempts=8 retries=0 backups=0 (won 0) reexecuted=0 failed=0 killed=0 lost=0 rows=80 bytes=800 median=1s max=1s
> stage 1: tasks=2 attempts=2 retries=0 backups=0 (won 0) reexecuted=0 failed=0 killed=0 lost=0 rows=20 bytes=200 median=1s max=1s
# A duplicate report of an accepted attempt must not discard it.
ok j/1.0#0@w1
release j
> discard j/1.0#0@w1
> discard j/1.1#0@w2
stats j
> no job
`,
	}, {
		name: "worker dies while maps run",
		script: `
up w1
up w2
submit j 0:2 1:1<0
> launch j/0.0#0@w1
> launch j/0.1#0@w2
tick 3s
hb w1
tick 5s
# w2 silent for 5s: not yet more than HeartbeatTimeout.
tick 6s
ok j/0.0#0@w1
> launch j/0.1#1@w1
ok j/0.1#1@w1
> launch j/1.0#0@w1 in=j/0.0#0@w1,j/0.1#1@w1
ok j/1.0#0@w1
> discard j/0.0#0@w1
> discard j/0.1#1@w1
> succeeded j out=j/1.0#0@w1
# A late report from the dead worker is discarded, and its heartbeats ignored.
ok j/0.1#0@w2
> discard j/0.1#0@w2
hb w2
stats j
> job j succeeded in 6s
> stage 0: tasks=2 attempts=3 retries=0 backups=0 (won 0) reexecuted=1 failed=0 killed=0 lost=1 rows=20 bytes=200 median=6s max=6s
> stage 1: tasks=1 attempts=1 retries=0 backups=0 (won 0) reexecuted=0 failed=0 killed=0 lost=0 rows=10 bytes=100 median=0s max=0s
> j/0.1#0@w2 first: lost [worker w2 missed heartbeats for 6s]
> j/0.1#1@w1 worker lost: succeeded
`,
	}, {
		name: "a sign of life counts at the next tick, so a stalled driver kills no live worker",
		script: `
up w1
up w2
submit j 0:1
> launch j/0.0#0@w1
hb w1 w2
tick 10s
hb w2
tick 15s
tick 15001ms
> launch j/0.0#1@w2
`,
	}, {
		name: "worker dies after maps finished, before the reducer fetched",
		script: `
up w1
up w2
submit j 0:2 1:1<0
> launch j/0.0#0@w1
> launch j/0.1#0@w2
ok j/0.0#0@w1
ok j/0.1#0@w2
> launch j/1.0#0@w1 in=j/0.0#0@w1,j/0.1#0@w2
down w2
> discard j/0.1#0@w2
> kill j/1.0#0@w1
# The killed reducer keeps its slot until it reports.
fail j/1.0#0@w1 transient context canceled
> discard j/1.0#0@w1
> launch j/0.1#1@w1
ok j/0.1#1@w1
> launch j/1.0#1@w1 in=j/0.0#0@w1,j/0.1#1@w1
ok j/1.0#1@w1
> discard j/0.0#0@w1
> discard j/0.1#1@w1
> succeeded j out=j/1.0#1@w1
stats j
> job j succeeded in 0s
> stage 0: tasks=2 attempts=3 retries=0 backups=0 (won 0) reexecuted=1 failed=0 killed=0 lost=0 rows=20 bytes=200 median=0s max=0s
> stage 1: tasks=1 attempts=2 retries=0 backups=0 (won 0) reexecuted=1 failed=0 killed=1 lost=0 rows=10 bytes=100 median=0s max=0s
> j/0.1#0@w2 first: succeeded [output lost: worker w2 reported down]
> j/1.0#0@w1 first: killed [input j/0.1 lost]
> j/0.1#1@w1 worker lost: succeeded
> j/1.0#1@w1 input lost: succeeded
`,
	}, {
		name: "worker dies while reducers run",
		script: `
up w1
up w2
up w3
submit j 0:2 1:2<0
> launch j/0.0#0@w1
> launch j/0.1#0@w2
ok j/0.0#0@w1
ok j/0.1#0@w2
> launch j/1.0#0@w1 in=j/0.0#0@w1,j/0.1#0@w2
> launch j/1.1#0@w2 in=j/0.0#0@w1,j/0.1#0@w2
tick 2s
ok j/1.1#0@w2
hb w1 w3
tick 4s
hb w1 w3
tick 8s
hb w1 w3
tick 9.5s
# w2 held a map output (needed by the running reducer 1.0) and the final
# output 1.1: both are rebuilt; 1.0 read the lost output, so it is killed.
> discard j/0.1#0@w2
> kill j/1.0#0@w1
> discard j/1.1#0@w2
> launch j/0.1#1@w3
ok j/0.1#1@w3
> launch j/1.0#1@w3 in=j/0.0#0@w1,j/0.1#1@w3
fail j/1.0#0@w1 transient context canceled
> discard j/1.0#0@w1
> launch j/1.1#1@w1 in=j/0.0#0@w1,j/0.1#1@w3
ok j/1.1#1@w1
ok j/1.0#1@w3
> discard j/0.0#0@w1
> discard j/0.1#1@w3
> succeeded j out=j/1.0#1@w3,j/1.1#1@w1
`,
	}, {
		name: "fetch failure re-runs only that map task and is not held against the reducer",
		script: `
up w1
up w2
submit j 0:2 1:2<0
> launch j/0.0#0@w1
> launch j/0.1#0@w2
ok j/0.0#0@w1
ok j/0.1#0@w2
> launch j/1.0#0@w1 in=j/0.0#0@w1,j/0.1#0@w2
> launch j/1.1#0@w2 in=j/0.0#0@w1,j/0.1#0@w2
fetchfail j/1.0#0@w1 j/0.1@w2
> discard j/1.0#0@w1
> discard j/0.1#0@w2
> kill j/1.1#0@w2
> launch j/0.1#1@w1
fail j/1.1#0@w2 transient context canceled
> discard j/1.1#0@w2
ok j/0.1#1@w1
> launch j/1.0#1@w1 in=j/0.0#0@w1,j/0.1#1@w1
> launch j/1.1#1@w2 in=j/0.0#0@w1,j/0.1#1@w1
fetchfail j/1.0#1@w1 j/0.1@w1
> discard j/1.0#1@w1
> discard j/0.1#1@w1
> kill j/1.1#1@w2
> launch j/0.1#2@w1
fail j/1.1#1@w2 transient context canceled
> discard j/1.1#1@w2
ok j/0.1#2@w1
> launch j/1.0#2@w1 in=j/0.0#0@w1,j/0.1#2@w1
> launch j/1.1#2@w2 in=j/0.0#0@w1,j/0.1#2@w1
fetchfail j/1.0#2@w1 j/0.1@w1
> discard j/1.0#2@w1
> discard j/0.1#2@w1
> kill j/1.1#2@w2
> launch j/0.1#3@w1
fail j/1.1#2@w2 transient context canceled
> discard j/1.1#2@w2
ok j/0.1#3@w1
> launch j/1.0#3@w1 in=j/0.0#0@w1,j/0.1#3@w1
> launch j/1.1#3@w2 in=j/0.0#0@w1,j/0.1#3@w1
fetchfail j/1.0#3@w1 j/0.1@w1
> discard j/1.0#3@w1
> discard j/0.1#3@w1
> kill j/1.1#3@w2
> launch j/0.1#4@w1
fail j/1.1#3@w2 transient context canceled
> discard j/1.1#3@w2
ok j/0.1#4@w1
> launch j/1.0#4@w1 in=j/0.0#0@w1,j/0.1#4@w1
> launch j/1.1#4@w2 in=j/0.0#0@w1,j/0.1#4@w1
# Four fetch failures did not use up reducer 1.0's four attempts.
ok j/1.0#4@w1
ok j/1.1#4@w2
> discard j/0.0#0@w1
> discard j/0.1#4@w1
> succeeded j out=j/1.0#4@w1,j/1.1#4@w2
`,
	}, {
		name: "a fetch failure from a killed attempt changes nothing",
		script: `
up w1
up w2
up w3
submit j 0:2 1:1<0
> launch j/0.0#0@w1
> launch j/0.1#0@w2
ok j/0.0#0@w1
ok j/0.1#0@w2
> launch j/1.0#0@w1 in=j/0.0#0@w1,j/0.1#0@w2
down w2
> discard j/0.1#0@w2
> kill j/1.0#0@w1
> launch j/0.1#1@w3
ok j/0.1#1@w3
> launch j/1.0#1@w3 in=j/0.0#0@w1,j/0.1#1@w3
fetchfail j/1.0#0@w1 j/0.1@w2
> discard j/1.0#0@w1
`,
	}, {
		name: "transient failures: 4 attempts, avoiding the failing worker, then the job fails",
		script: `
up w1
up w2
submit j 0:1
> launch j/0.0#0@w1
fail j/0.0#0@w1 transient disk full
> discard j/0.0#0@w1
> launch j/0.0#1@w2
fail j/0.0#1@w2 transient disk full
> discard j/0.0#1@w2
> launch j/0.0#2@w1
fail j/0.0#2@w1 transient disk full
> discard j/0.0#2@w1
> launch j/0.0#3@w1
fail j/0.0#3@w1 transient disk full
> discard j/0.0#3@w1
> failed j: job j: task j/0.0 failed 4 times, last on worker w1: disk full
stats j
> job j failed in 0s
> stage 0: tasks=1 attempts=4 retries=3 backups=0 (won 0) reexecuted=0 failed=4 killed=0 lost=0 rows=0 bytes=0 median=0s max=0s
> j/0.0#0@w1 first: failed (disk full)
> j/0.0#1@w2 retry: failed (disk full)
> j/0.0#2@w1 retry: failed (disk full)
> j/0.0#3@w1 retry: failed (disk full)
`,
	}, {
		name: "a retry waits for a busy worker rather than reuse the one it failed on",
		script: `
up w1
up w2
submit j 0:2
> launch j/0.0#0@w1
> launch j/0.1#0@w2
fail j/0.0#0@w1 transient timeout
> discard j/0.0#0@w1
ok j/0.1#0@w2
> launch j/0.0#1@w2
ok j/0.0#1@w2
> succeeded j out=j/0.0#1@w2,j/0.1#0@w2
`,
	}, {
		name: "a deterministic error fails the job at once",
		script: `
up w1 2
submit j 0:3 1:1<0
> launch j/0.0#0@w1
> launch j/0.1#0@w1
ok j/0.0#0@w1
> launch j/0.2#0@w1
fail j/0.1#0@w1 deterministic line 7: bad integer "x"
> discard j/0.1#0@w1
> discard j/0.0#0@w1
> kill j/0.2#0@w1
> failed j: job j: task j/0.1 failed on worker w1: line 7: bad integer "x"
ok j/0.2#0@w1
> discard j/0.2#0@w1
`,
	}, {
		name: "straggler: one backup on another worker, the backup wins",
		script: `
up w1
up w2
up w3
submit j 0:4 1:1<0
> launch j/0.0#0@w1
> launch j/0.1#0@w2
> launch j/0.2#0@w3
tick 1s
ok j/0.0#0@w1
> launch j/0.3#0@w1
ok j/0.2#0@w3
tick 2s
# 3 of 4 done, median 1s: 0.1 has run 2s > max(1s, 1.5 × 1s).
ok j/0.3#0@w1
> launch j/0.1#1@w1 backup
tick 3s
hb w2
tick 4s
# Exactly one backup, even with w3 idle.
ok j/0.1#1@w1
> kill j/0.1#0@w2
> launch j/1.0#0@w1 in=j/0.0#0@w1,j/0.1#1@w1,j/0.2#0@w3,j/0.3#0@w1
fail j/0.1#0@w2 transient context canceled
> discard j/0.1#0@w2
stats j
> job j running in 4s
> stage 0: tasks=4 attempts=5 retries=0 backups=1 (won 1) reexecuted=0 failed=0 killed=1 lost=0 rows=40 bytes=400 median=1s max=2s
> stage 1: tasks=1 attempts=1 retries=0 backups=0 (won 0) reexecuted=0 failed=0 killed=0 lost=0 rows=0 bytes=0 median=0s max=0s
> j/0.1#0@w2 first: killed [lost the race to #1]
> j/0.1#1@w1 backup: succeeded
> j/1.0#0@w1 first: running
`,
	}, {
		name: "straggler: the original wins and the backup is killed",
		script: `
up w1
up w2
submit j 0:4
> launch j/0.0#0@w1
> launch j/0.1#0@w2
tick 1s
ok j/0.0#0@w1
> launch j/0.2#0@w1
tick 2s
ok j/0.2#0@w1
> launch j/0.3#0@w1
tick 3s
ok j/0.3#0@w1
> launch j/0.1#1@w1 backup
ok j/0.1#0@w2
> kill j/0.1#1@w1
> succeeded j out=j/0.0#0@w1,j/0.1#0@w2,j/0.2#0@w1,j/0.3#0@w1
ok j/0.1#1@w1
> discard j/0.1#1@w1
`,
	}, {
		name: "no speculation below the quantile",
		script: `
up w1
up w2
up w3
submit j 0:4
> launch j/0.0#0@w1
> launch j/0.1#0@w2
> launch j/0.2#0@w3
tick 100ms
ok j/0.0#0@w1
> launch j/0.3#0@w1
ok j/0.2#0@w3
tick 4s
# 0.1 has run 40 × the median, but only 2 of 4 tasks are done.
ok j/0.3#0@w1
> launch j/0.1#1@w1 backup
`,
	}, {
		name: "no speculation for a task under SpeculationMin",
		script: `
up w1
up w2
up w3
submit j 0:4
> launch j/0.0#0@w1
> launch j/0.1#0@w2
> launch j/0.2#0@w3
tick 100ms
ok j/0.0#0@w1
> launch j/0.3#0@w1
ok j/0.2#0@w3
ok j/0.3#0@w1
tick 1s
# 0.1 has run 10 × the median, but only 1s: not a straggler yet.
tick 1001ms
> launch j/0.1#1@w1 backup
`,
	}, {
		name: "cancel kills running attempts and discards outputs",
		script: `
up w1 2
submit j 0:3 1:1<0
> launch j/0.0#0@w1
> launch j/0.1#0@w1
ok j/0.0#0@w1
> launch j/0.2#0@w1
cancel j
> discard j/0.0#0@w1
> kill j/0.1#0@w1
> kill j/0.2#0@w1
> failed j: job j: context canceled
cancel j
fail j/0.1#0@w1 transient context canceled
> discard j/0.1#0@w1
release j
ok j/0.2#0@w1
> discard j/0.2#0@w1
`,
	}, {
		name: "slots bound concurrent attempts",
		script: `
up w1 2
up w2
submit j 0:6
> launch j/0.0#0@w1
> launch j/0.1#0@w1
> launch j/0.2#0@w2
ok j/0.2#0@w2
> launch j/0.3#0@w2
up w2 3
> launch j/0.4#0@w2
> launch j/0.5#0@w2
ok j/0.0#0@w1
ok j/0.1#0@w1
ok j/0.3#0@w2
ok j/0.4#0@w2
ok j/0.5#0@w2
> succeeded j out=j/0.0#0@w1,j/0.1#0@w1,j/0.2#0@w2,j/0.3#0@w2,j/0.4#0@w2,j/0.5#0@w2
`,
	}, {
		name: "two concurrent jobs share slots round-robin",
		script: `
up w1
up w2
submit a 0:3
> launch a/0.0#0@w1
> launch a/0.1#0@w2
submit b 0:2
ok a/0.0#0@w1
> launch b/0.0#0@w1
ok a/0.1#0@w2
> launch a/0.2#0@w2
ok b/0.0#0@w1
> launch b/0.1#0@w1
ok b/0.1#0@w1
> succeeded b out=b/0.0#0@w1,b/0.1#0@w1
ok a/0.2#0@w2
> succeeded a out=a/0.0#0@w1,a/0.1#0@w2,a/0.2#0@w2
`,
	}, {
		name: "no live worker for NoWorkerTimeout fails a waiting job",
		script: `
submit j 0:1
tick 29s
tick 30s
> failed j: job j: waited 30s: no live workers: start workers, or check that they can reach the coordinator
up w1
tick 31s
submit k 0:1
> launch k/0.0#0@w1
tick 37s
# w1 died at 37s; k waits 30s from then.
tick 66s
up w1
> launch k/0.0#1@w1
`,
	}, {
		name: "workers lost for good",
		cfg:  Config{NoWorkerTimeout: 10 * time.Second},
		script: `
up w1
submit k 0:1
> launch k/0.0#0@w1
down w1
tick 9s
tick 10s
> failed k: job k: waited 10s: no live workers: start workers, or check that they can reach the coordinator
`,
	}, {
		name: "malformed and duplicate jobs, and a job with nothing to do",
		script: `
up w1
submit bad 0:1 1:1
> failed bad: internal: job bad is malformed: stage 0: no stage reads its output
submit bad 0:1 1:1<2
> failed bad: internal: job bad is malformed: stage 1: dependency 2 is not an earlier stage
submit empty 0:0
> succeeded empty out=
submit empty 0:1
> failed empty: job empty: job id already in use
submit j 0:0 1:2<0
> launch j/1.0#0@w1
`,
	}} {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.cfg, tc.script) })
	}
}

// TestJobFailedKeepsTheError checks that errors.Is/As see through JobFailed
// to the task's own error and kind.
func TestJobFailedKeepsTheError(t *testing.T) {
	errBadRow := errors.New("bad row")
	a := AttemptID{Task: TaskID{Job: "j", Stage: 0, Index: 0}}
	for _, tc := range []struct {
		name string
		err  error
		want FailureKind
	}{
		{"deterministic", DeterministicError(fmt.Errorf("line 3: %w", errBadRow)), Deterministic},
		{"transient", fmt.Errorf("read: %w", errBadRow), Transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScheduler(Config{MaxAttempts: 1})
			s.Step(WorkerUp{Worker: "w1"})
			s.Step(SubmitJob{Job: JobSpec{ID: "j", Stages: []StageSpec{{ID: 0, Tasks: 1}}}})
			ev := FailureFromError(a, "w1", tc.err)
			if ev.Kind != tc.want {
				t.Fatalf("kind %v, want %v", ev.Kind, tc.want)
			}
			acts := s.Step(ev)
			jf, ok := acts[len(acts)-1].(JobFailed)
			if !ok {
				t.Fatalf("last action %v, want JobFailed", acts[len(acts)-1])
			}
			if !errors.Is(jf.Err, errBadRow) {
				t.Errorf("errors.Is(%v, errBadRow) = false", jf.Err)
			}
			var te *TaskError
			if got := errors.As(jf.Err, &te); got != (tc.want == Deterministic) {
				t.Errorf("errors.As(%v, *TaskError) = %v", jf.Err, got)
			}
		})
	}
	s := NewScheduler(Config{})
	s.Step(SubmitJob{Job: JobSpec{ID: "j", Stages: []StageSpec{{ID: 0, Tasks: 1}}}})
	acts := s.Step(CancelJob{Job: "j", Cause: context.DeadlineExceeded})
	if jf := acts[len(acts)-1].(JobFailed); !errors.Is(jf.Err, context.DeadlineExceeded) {
		t.Errorf("cancel: %v does not wrap the cause", jf.Err)
	}
}

// TestFetchFailureBudget: fetch failures are free up to MaxFetchFailures,
// then the job fails instead of re-running the map task forever.
func TestFetchFailureBudget(t *testing.T) {
	s := NewScheduler(Config{MaxFetchFailures: 3})
	s.Step(WorkerUp{Worker: "w1"})
	s.Step(SubmitJob{Job: JobSpec{ID: "j", Stages: []StageSpec{{ID: 0, Tasks: 1}, {ID: 1, Tasks: 1, Deps: []int{0}}}}})
	mapTask := TaskID{Job: "j", Stage: 0}
	red := TaskID{Job: "j", Stage: 1}
	for i := range 4 {
		s.Step(TaskSucceeded{Attempt: AttemptID{Task: mapTask, Attempt: i}, Worker: "w1"})
		acts := s.Step(FailureFromError(AttemptID{Task: red, Attempt: i}, "w1", FetchFailedError(mapTask, "w1", errors.New("gone"))))
		last := fmt.Sprint(acts[len(acts)-1])
		if i < 3 && last != fmt.Sprintf("launch j/0.0#%d@w1", i+1) {
			t.Fatalf("fetch failure %d: last action %s", i+1, last)
		}
		if i == 3 && last != "failed j: job j: task j/1.0 could not read its inputs 4 times: fetch of j/0.0 from worker w1 failed: gone" {
			t.Fatalf("fetch failure %d: last action %s", i+1, last)
		}
	}
}

// BenchmarkSchedulerJob steps a 2,000-map, 64-reduce job through 16
// workers of 4 slots, every attempt succeeding at once: the scheduler's own
// cost per task.
func BenchmarkSchedulerJob(b *testing.B) {
	const maps, reducers = 2000, 64
	for b.Loop() {
		s := NewScheduler(Config{})
		for i := range 16 {
			s.Step(WorkerUp{Worker: fmt.Sprintf("w%d", i), Slots: 4})
		}
		queue := s.Step(SubmitJob{Job: mapReduce("j", maps, reducers)})
		done := false
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			switch a := a.(type) {
			case Launch:
				queue = append(queue, s.Step(TaskSucceeded{Attempt: a.Attempt, Worker: a.Worker})...)
			case JobSucceeded:
				done = true
			}
		}
		if !done {
			b.Fatal("job did not finish")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(maps+reducers), "ns/task")
}
