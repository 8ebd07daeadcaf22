package cluster

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestReportKeepsItsKind: a task failure's kind, and for a fetch failure
// the map task and worker, survive the trip from worker to scheduler.
func TestReportKeepsItsKind(t *testing.T) {
	a := AttemptID{Task: TaskID{Job: "q1", Stage: 1, Index: 2}, Attempt: 3}
	mt := TaskID{Job: "q1", Stage: 0, Index: 5}
	for _, tc := range []struct {
		name string
		err  error
		want TaskFailed
		msg  string // the plain message the scheduler's error wraps
	}{
		{"transient", errors.New("disk full"), TaskFailed{Kind: Transient}, "disk full"},
		{"deterministic", DeterministicError(errors.New("bad line 7")), TaskFailed{Kind: Deterministic}, "bad line 7"},
		{"fetch failed", FetchFailedError(mt, "w2", errors.New("connection refused")),
			TaskFailed{Kind: FetchFailed, MapTask: mt, MapWorker: "w2"}, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(reportOf("w1", a, OutputInfo{}, tc.err))
			if err != nil {
				t.Fatal(err)
			}
			var m reportMsg
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			ev, ok := m.event().(TaskFailed)
			if !ok {
				t.Fatalf("got %T, want TaskFailed", m.event())
			}
			if ev.Attempt != a || ev.Worker != "w1" || ev.Kind != tc.want.Kind || ev.MapTask != tc.want.MapTask || ev.MapWorker != tc.want.MapWorker {
				t.Errorf("got %+v, want kind %v map %v@%q", ev, tc.want.Kind, tc.want.MapTask, tc.want.MapWorker)
			}
			// FailureFromError, as the scheduler's callers use it, reads
			// the same kind back out of the error chain.
			if again := FailureFromError(a, "w1", ev.Err); again.Kind != tc.want.Kind || again.MapTask != tc.want.MapTask {
				t.Errorf("error chain lost the kind: %+v", again)
			}
			var te *TaskError
			if !errors.As(ev.Err, &te) || te.Err == nil || te.Err.Error() != tc.msg {
				t.Errorf("message: got %v, want %q", ev.Err, tc.msg)
			}
		})
	}
	ok, _ := json.Marshal(reportOf("w1", a, OutputInfo{Rows: 4, Bytes: 40, Meta: []byte(`{"paths":["x"]}`)}, nil))
	var m reportMsg
	json.Unmarshal(ok, &m)
	if ev, _ := m.event().(TaskSucceeded); ev.Output.Rows != 4 || string(ev.Output.Meta) != `{"paths":["x"]}` {
		t.Errorf("success: got %+v", m.event())
	}
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr string
		sec  Security
		ok   bool
	}{
		{"127.0.0.1:7700", Security{}, true},
		{"localhost:0", Security{}, true},
		{"[::1]:7700", Security{}, true},
		{"0.0.0.0:7700", Security{}, false},
		{":7700", Security{}, false},
		{"10.1.2.3:7700", Security{}, false},
		{"0.0.0.0:7700", Security{Token: "t"}, true},
		{"0.0.0.0:7700", Security{Insecure: true}, true},
		{"no-port", Security{}, false},
	} {
		err := tc.sec.CheckListen(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("%q %+v: got %v, want ok=%v", tc.addr, tc.sec, err, tc.ok)
		}
	}
}

func TestParseTaskDelay(t *testing.T) {
	d, err := ParseTaskDelay("0:*:2s, 1:3:150ms")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stage, index int
		want         time.Duration
	}{{0, 0, 2 * time.Second}, {0, 9, 2 * time.Second}, {1, 3, 150 * time.Millisecond}, {1, 2, 0}, {2, 3, 0}} {
		a := AttemptID{Task: TaskID{Job: "q", Stage: tc.stage, Index: tc.index}}
		if got := d(a); got != tc.want {
			t.Errorf("%d.%d: got %v, want %v", tc.stage, tc.index, got, tc.want)
		}
	}
	for _, bad := range []string{"0:1", "x:1:1s", "0:y:1s", "0:1:soon"} {
		if _, err := ParseTaskDelay(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestStatsRoundTrip(t *testing.T) {
	st := JobStats{Job: "q1", State: "succeeded", Finished: time.Second,
		Stages: []StageStats{{Stage: 0, Tasks: 2, Launched: 3, Reexecutions: 1}},
		Attempts: []AttemptRecord{
			{Attempt: AttemptID{Task: TaskID{Job: "q1"}}, Worker: "w1", Reason: LaunchFirst, Outcome: AttemptLost, Note: "worker w1 reported down"},
			{Attempt: AttemptID{Task: TaskID{Job: "q1"}, Attempt: 1}, Worker: "w2", Reason: LaunchWorkerLost, Outcome: AttemptFailed, Err: errors.New("boom")},
		}}
	got, err := decodeStats(encodeStats(st))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != st.String() {
		t.Errorf("got\n%s\nwant\n%s", got, st)
	}
	if st.Attempts[1].Err == nil {
		t.Error("encoding changed its input")
	}
}

func TestParseFetchFault(t *testing.T) {
	a := AttemptID{Task: TaskID{Job: "q", Stage: 1, Index: 2}}
	in := InputLocation{Attempt: AttemptID{Task: TaskID{Job: "q", Stage: 0, Index: 5}}, Worker: "w1"}
	for _, tc := range []struct {
		spec      string
		wantDelay time.Duration
		wantFail  bool
	}{
		{"", 0, false},
		{"fail=0,delay=0:1s", 0, false},
		{"fail=1", 0, true},
		{"delay=1:150ms, seed=7", 150 * time.Millisecond, false},
		{"fail=1,delay=1:2s", 2 * time.Second, true},
	} {
		f, err := ParseFetchFault(tc.spec)
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		for range 3 {
			d, err := f(a, in)
			if d != tc.wantDelay || (err != nil) != tc.wantFail {
				t.Errorf("%q: got %v, %v; want %v, failure %v", tc.spec, d, err, tc.wantDelay, tc.wantFail)
			}
			if err != nil && !strings.Contains(err.Error(), "q/0.5#0@w1") {
				t.Errorf("%q: the error does not name the input: %v", tc.spec, err)
			}
		}
	}
	// Probabilities in between: the same seed makes the same choices.
	f1, _ := ParseFetchFault("fail=0.5,seed=3")
	f2, _ := ParseFetchFault("fail=0.5,seed=3")
	fails := 0
	for range 200 {
		_, e1 := f1(a, in)
		_, e2 := f2(a, in)
		if (e1 != nil) != (e2 != nil) {
			t.Fatal("one seed, two sequences")
		}
		if e1 != nil {
			fails++
		}
	}
	if fails < 60 || fails > 140 {
		t.Errorf("fail=0.5: %d of 200 failed", fails)
	}
	for _, bad := range []string{"fail", "fail=2", "fail=x", "delay=0.5", "delay=0.5:soon", "seed=-1", "drop=0.1"} {
		if _, err := ParseFetchFault(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
