package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/exec"
	exectask "github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/internal/sandbox"
	"github.com/quernsql/quern/planner"
)

// These tests play the part of a hostile peer: a caller without the token,
// a caller with it sending garbage, messages beyond gRPC's limit, and a
// coordinator sending a worker tasks that name files outside the worker's
// allowed directories. Every one must get an error, never crash a process,
// and leave the cluster answering queries afterwards.

// guardedDirs makes allowed/words.txt and secret/secret.txt.
func guardedDirs(t *testing.T) (allowed, secret string) {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	allowed, secret = filepath.Join(root, "allowed"), filepath.Join(root, "secret")
	for dir, file := range map[string]string{allowed: "words.txt", secret: "secret.txt"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte("a b a c\nb a\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return allowed, secret
}

// confine is what `quern worker --allow-dir` gives the worker.
func confine(t *testing.T, dirs ...string) *sandbox.Dirs {
	t.Helper()
	d, err := sandbox.New(dirs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type guarded struct {
	coord  *quern.Coordinator
	worker *cluster.Worker
	client *quern.DB
	query  string // a word count over allowed/words.txt
}

// startGuarded starts a coordinator with no sandbox of its own (it plans
// whatever a client names, as a careless or compromised one would) and a
// worker confined to allow, both with token.
func startGuarded(t *testing.T, token string, allow ...string) *guarded {
	t.Helper()
	allowed, _ := guardedDirs(t)
	cfg := quern.DefaultConfig()
	cfg.TempDir = t.TempDir()
	sec := cluster.Security{Token: token}
	coord, err := quern.NewCoordinator(cfg, cluster.CoordinatorConfig{Listen: "127.0.0.1:0", Security: sec, Scheduler: cluster.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		coord.Serve()
		close(served)
	}()
	wc := cluster.WorkerConfig{Coordinator: coord.Addr(), Dir: t.TempDir(), Security: sec}
	if len(allow) > 0 {
		wc.Access = confine(t, allow...)
	}
	w, err := cluster.NewWorker(wc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		coord.Close()
		<-served
	})
	deadline := time.Now().Add(10 * time.Second)
	for len(coord.Workers()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not register")
		}
		time.Sleep(10 * time.Millisecond)
	}
	g := &guarded{coord: coord, worker: w, client: clientOf(t, coord.Addr(), sec)}
	g.query = "SELECT word, count(*) AS n FROM `" + filepath.Join(allowed, "words.txt") + "` GROUP BY word ORDER BY word"
	return g
}

// stillServes checks that the cluster answers a query correctly.
func (g *guarded) stillServes(t *testing.T) {
	t.Helper()
	rows, _, _ := runStats(t, g.client, g.query)
	if want := []string{"a\t3", "b\t2", "c\t1"}; !slices.Equal(rows, want) {
		t.Fatalf("after the attack: %v, want %v", rows, want)
	}
	if ws := g.coord.Workers(); len(ws) != 1 || ws[0] != g.worker.Name() {
		t.Fatalf("workers after the attack: %v", ws)
	}
}

// rawClient is a Flight client that sends token (if any) as given.
func rawClient(t *testing.T, addr string) flight.Client {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return flight.NewClientFromConn(conn, nil)
}

func withToken(token string) context.Context {
	ctx := context.Background()
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	return ctx
}

// action runs one DoAction and returns its first result.
func action(ctx context.Context, c flight.Client, typ string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := c.DoAction(ctx, &flight.Action{Type: typ, Body: body})
	if err != nil {
		return nil, err
	}
	res, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

func doGet(ctx context.Context, c flight.Client, ticket []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := c.DoGet(ctx, &flight.Ticket{Ticket: ticket})
	if err == nil {
		_, err = stream.Recv()
	}
	return err
}

func TestMaliciousCallersWithoutTheToken(t *testing.T) {
	g := startGuarded(t, "s3cret")
	forged := []byte(`{"name":"intruder","addr":"127.0.0.1:1","slots":8}`)
	for _, addr := range []string{g.worker.Addr(), g.coord.Addr()} {
		c := rawClient(t, addr)
		for _, token := range []string{"", "wrong", "s3cret2", "S3CRET"} {
			ctx := withToken(token)
			for _, typ := range []string{"quern.register", "quern.heartbeat", "quern.report", "quern.ping", "no.such.action"} {
				if _, err := action(ctx, c, typ, forged); status.Code(err) != codes.Unauthenticated {
					t.Errorf("%s, token %q, %s: %v, want Unauthenticated", addr, token, typ, err)
				}
			}
			if err := doGet(ctx, c, []byte(`{"attempt":{"Task":{"Job":"q1"}}}`)); status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s, token %q, DoGet: %v, want Unauthenticated", addr, token, err)
			}
			_, err := c.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte("SELECT 1")})
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s, token %q, GetFlightInfo: %v, want Unauthenticated", addr, token, err)
			}
		}
	}
	g.stillServes(t)
}

func TestMaliciousGarbageWithTheToken(t *testing.T) {
	g := startGuarded(t, "s3cret")
	ctx := withToken("s3cret")
	coord, worker := rawClient(t, g.coord.Addr()), rawClient(t, g.worker.Addr())
	huge := strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		typ, body string
		code      codes.Code // OK: any answer but a crash; Unknown: any error
	}{
		{"quern.register", "", codes.InvalidArgument},
		{"quern.register", "garbage", codes.InvalidArgument},
		{"quern.register", `{"name":"x"}`, codes.InvalidArgument},
		{"quern.register", `[1,2,3]`, codes.InvalidArgument},
		{"quern.register", `{"name":"` + g.worker.Name() + `","addr":"127.0.0.1:1"}`, codes.AlreadyExists},
		{"quern.heartbeat", "garbage", codes.InvalidArgument},
		{"quern.heartbeat", `{"name":"nobody"}`, codes.OK},
		{"quern.heartbeat", `{"name":"` + huge + `"}`, codes.OK},
		{"quern.report", "garbage", codes.InvalidArgument},
		{"quern.report", `{"attempt":{"Task":{"Job":"nope","Stage":-5,"Index":-1},"Attempt":-3},"ok":true}`, codes.OK},
		{"quern.report", `{"worker":"` + g.worker.Name() + `","attempt":{"Task":{"Job":"nope"}},"kind":99,"error":"x"}`, codes.OK},
		{"quern.report", `{"worker":"nobody","attempt":{"Task":{"Job":"q1","Stage":1}},"kind":2,"map_task":{"Job":"q1","Stage":99}}`, codes.OK},
		{"quern.ping", "garbage", codes.OK},
		{"no.such.action", "garbage", codes.Unknown},
	} {
		_, err := action(ctx, coord, tc.typ, []byte(tc.body))
		if tc.code == codes.Unknown && err == nil {
			t.Errorf("coordinator %s: no error", tc.typ)
		}
		if tc.code != codes.OK && tc.code != codes.Unknown && status.Code(err) != tc.code {
			t.Errorf("coordinator %s %.40q: %v, want %v", tc.typ, tc.body, err, tc.code)
		}
	}
	// A heartbeat of a worker the coordinator does not know is answered
	// "unknown", never taken for a live worker.
	if body, err := action(ctx, coord, "quern.heartbeat", []byte(`{"name":"nobody"}`)); err != nil || !strings.Contains(string(body), `"known":false`) {
		t.Errorf("heartbeat of a stranger: %s, %v", body, err)
	}
	for _, ticket := range []string{"", "garbage", `{"attempt":{"Task":{"Job":"nope"}},"partition":-1}`, `{"attempt":{"Task":{"Job":"q1"}},"partition":1e9}`} {
		if err := doGet(ctx, worker, []byte(ticket)); err == nil {
			t.Errorf("worker DoGet %q: no error", ticket)
		}
		if err := doGet(ctx, coord, []byte(ticket)); err == nil {
			t.Errorf("coordinator DoGet %q: no error", ticket)
		}
	}
	if _, err := action(ctx, worker, "quern.register", []byte("garbage")); err == nil {
		t.Error("worker took an action")
	}
	for _, cmd := range [][]byte{nil, []byte("garbage"), {0xff, 0xfe, 0x00}} {
		if _, err := coord.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd}); err == nil {
			t.Errorf("GetFlightInfo %q: no error", cmd)
		}
	}
	g.stillServes(t)
}

// TestMaliciousHugeMessages: messages past gRPC's limit are refused and
// both processes keep serving.
func TestMaliciousHugeMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 257 MiB")
	}
	g := startGuarded(t, "s3cret")
	ctx := withToken("s3cret")
	huge := make([]byte, 257<<20)
	if _, err := action(ctx, rawClient(t, g.coord.Addr()), "quern.report", huge); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("coordinator, 257 MiB action: %v, want ResourceExhausted", err)
	}
	if err := doGet(ctx, rawClient(t, g.worker.Addr()), huge); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("worker, 257 MiB ticket: %v, want ResourceExhausted", err)
	}
	huge = nil
	g.stillServes(t)
}

// TestWorkerRefusesFilesOutsideItsDirs: the coordinator plans a query on a
// file outside the worker's --allow-dir; the worker refuses the task with
// the sandbox's error, which reaches the client.
func TestWorkerRefusesFilesOutsideItsDirs(t *testing.T) {
	allowed, secret := guardedDirs(t)
	g := startGuarded(t, "", allowed)
	g.query = "SELECT word, count(*) AS n FROM `" + filepath.Join(allowed, "words.txt") + "` GROUP BY word ORDER BY word"
	g.stillServes(t)
	for _, q := range []string{
		"SELECT word, count(*) FROM `" + filepath.Join(secret, "secret.txt") + "` GROUP BY word",
		"SELECT count(*) FROM `" + allowed + "/../secret/secret.txt`",
		"SELECT * FROM `" + filepath.Join(secret, "*.txt") + "`",
	} {
		_, err := g.client.Run(context.Background(), q)
		want := "is outside the allowed directories (" + allowed + "); start quern with --allow-dir DIR to widen"
		if err == nil || !strings.Contains(err.Error(), "access denied: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want the worker's access denied", q, err)
		}
	}
	g.stillServes(t)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// capturePool is a JobPool that keeps the job it is given and runs nothing.
type capturePool struct{ job *planner.Job }

var errCaptured = errors.New("captured")

func (p *capturePool) RunJob(_ context.Context, _ string, job *planner.Job, _ exectask.MemTables) ([]cluster.InputLocation, cluster.JobStats, error) {
	p.job = job
	return nil, cluster.JobStats{}, errCaptured
}
func (p *capturePool) OpenOutput(*planner.Job) func(cluster.InputLocation) (exec.Operator, error) {
	return nil
}
func (p *capturePool) ReleaseJob(string) {}

// planJob plans a query into the job a coordinator would send.
func planJob(t *testing.T, query string) *planner.Job {
	t.Helper()
	pool := &capturePool{}
	cfg := quern.DefaultConfig()
	cfg.Pool, cfg.Reducers, cfg.TempDir = pool, 2, t.TempDir()
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Run(context.Background(), query); !errors.Is(err, errCaptured) || pool.job == nil {
		t.Fatalf("planning %s: %v", query, err)
	}
	return pool.job
}

// fakeCoordinator speaks the worker side of the control protocol (the
// JSON of flight_transport.go) and sends whatever a test gives it.
type fakeCoordinator struct {
	flight.BaseFlightServer
	sessions chan *fakeSession
	reports  chan []byte
}

type fakeSession struct {
	name string
	cmds chan []byte
}

func (f *fakeCoordinator) DoAction(a *flight.Action, stream flight.FlightService_DoActionServer) error {
	switch a.Type {
	case "quern.register":
		var reg struct {
			Name string `json:"name"`
		}
		json.Unmarshal(a.Body, &reg)
		s := &fakeSession{name: reg.Name, cmds: make(chan []byte, 16)}
		if err := stream.Send(&flight.Result{Body: []byte(`{"op":"welcome","heartbeat_ms":1000}`)}); err != nil {
			return err
		}
		f.sessions <- s
		for {
			select {
			case c := <-s.cmds:
				if err := stream.Send(&flight.Result{Body: c}); err != nil {
					return err
				}
			case <-stream.Context().Done():
				return nil
			}
		}
	case "quern.heartbeat":
		return stream.Send(&flight.Result{Body: []byte(`{"known":true}`)})
	case "quern.report":
		f.reports <- a.Body
		return stream.Send(&flight.Result{Body: []byte(`{}`)})
	}
	return status.Error(codes.Unimplemented, a.Type)
}

// TestMaliciousCoordinator: a coordinator sending a worker undecodable
// commands and jobs, tasks that do not exist, a split outside the worker's
// allowed directories, and inputs naming files that are not the worker's.
// The worker drops the session on a bad command (and registers again), and
// fails each bad task with an error, never crashing.
func TestMaliciousCoordinator(t *testing.T) {
	allowed, secret := guardedDirs(t)
	job := planJob(t, "SELECT word, count(*) FROM `"+filepath.Join(allowed, "words.txt")+"` WHERE word <> 'zz' GROUP BY word")
	if len(job.Stages) < 2 || job.Stages[0].Kind != planner.StageMap || len(job.Stages[1].Inputs) == 0 {
		t.Fatalf("want a map and a reduce stage:\n%s", planner.Explain(job))
	}
	outside := filepath.Join(secret, "secret.txt")
	for i := range job.Stages[0].Splits {
		job.Stages[0].Splits[i].Path = outside
		for j := range job.Stages[0].Splits[i].Files {
			job.Stages[0].Splits[i].Files[j].Path = outside
		}
	}
	body, err := job.Encode()
	if err != nil {
		t.Fatal(err)
	}

	fake := &fakeCoordinator{sessions: make(chan *fakeSession, 4), reports: make(chan []byte, 16)}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	flight.RegisterFlightServiceServer(srv, fake)
	go srv.Serve(lis)
	defer srv.Stop()
	w, err := cluster.NewWorker(cluster.WorkerConfig{Coordinator: lis.Addr().String(), Dir: t.TempDir(), Access: confine(t, allowed), RetryInterval: 10 * time.Millisecond,
		Log: log.New(testWriter{t}, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run(ctx)
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()
	session := func() *fakeSession {
		t.Helper()
		select {
		case s := <-fake.sessions:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("the worker did not register (again)")
			return nil
		}
	}

	// Bad commands end the session; the worker registers again.
	for _, cmd := range []string{
		`garbage`,
		`{"op":"job","job":"j1","body":"not a job"}`,
		`{"op":"launch"}`,
		`{"op":"format the disk"}`,
	} {
		session().cmds <- []byte(cmd)
	}

	s := session()
	attempt := func(job string, stage, index int) cluster.AttemptID {
		return cluster.AttemptID{Task: cluster.TaskID{Job: job, Stage: stage, Index: index}}
	}
	send := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		s.cmds <- b
	}
	type remoteInput struct {
		cluster.InputLocation
		Addr string `json:"addr"`
	}
	send(map[string]any{"op": "job", "job": "j1", "body": json.RawMessage(body)})
	// Jobs that decode but make no sense.
	send(map[string]any{"op": "job", "job": "j2", "body": json.RawMessage(`{"stages":[null]}`)})
	send(map[string]any{"op": "job", "job": "j3", "body": json.RawMessage(`{"stages":[{"id":0,"kind":"map","tasks":1,"splits":[{"path":"x.txt"}],"root":null}]}`)})
	meta, _ := json.Marshal(cluster.OutputMeta{Paths: []string{"/etc/passwd", "/etc/passwd"}})
	bad := map[cluster.AttemptID][]any{ // attempt → inputs, and the error its report must carry
		attempt("j1", 0, 0):  {nil, "access denied: " + outside + " is outside the allowed directories (" + allowed + ")"},
		attempt("j1", 0, 99): {nil, "has no task"},
		attempt("j1", 1, 0): {[]remoteInput{{InputLocation: cluster.InputLocation{
			Attempt: attempt("j1", 0, 0), Worker: s.name, Output: cluster.OutputInfo{Meta: meta}}}}, "is not a file of this worker"},
		attempt("j9", 0, 0): {nil, "has no job j9"},
		attempt("j2", 0, 0): {nil, "internal"},
		attempt("j3", 0, 0): {nil, "internal"},
	}
	for a, v := range bad {
		send(map[string]any{"op": "launch", "attempt": a, "inputs": v[0]})
	}
	for range bad {
		var r struct {
			OK      bool              `json:"ok"`
			Attempt cluster.AttemptID `json:"attempt"`
			Error   string            `json:"error"`
		}
		select {
		case b := <-fake.reports:
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a report is missing")
		}
		want, ok := bad[r.Attempt]
		if !ok || r.OK || !strings.Contains(r.Error, want[1].(string)) {
			t.Errorf("report of %v: ok=%v %q, want an error with %q", r.Attempt, r.OK, r.Error, fmt.Sprint(want[1]))
		}
	}
	select {
	case <-fake.sessions:
		t.Error("the worker dropped a session over a task that failed")
	default:
	}
}
