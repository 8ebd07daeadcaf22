package cluster_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/exec"
	exectask "github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/planner"
)

// These tests run a coordinator and workers as goroutines of the test
// process, talking Flight over loopback sockets: the wire without the cost
// of processes (they also run with -short).

type inProcess struct {
	coord   *quern.Coordinator
	workers []*cluster.Worker
	// stopWorker stops worker i and waits for it to be gone, as a crash
	// would: its sockets close and its files go.
	stopWorker []func()
	stop       func() // stops the workers, then the coordinator
}

// startInProcess starts a coordinator (planning with cfg) and n workers,
// all with sec; they stop when the test ends, or at stop.
func startInProcess(t *testing.T, cfg quern.Config, sec cluster.Security, n int, workerMem memory.Allocator) *inProcess {
	t.Helper()
	return startInProcessWith(t, cfg, sec, n, workerMem, nil)
}

// startInProcessKnobs starts an in-process cluster whose worker i has
// knobs(i).
func startInProcessKnobs(t *testing.T, cfg quern.Config, n int, knobs func(i int) cluster.WorkerKnobs) *inProcess {
	t.Helper()
	return startInProcessWith(t, cfg, cluster.Security{}, n, nil, knobs)
}

func startInProcessWith(t *testing.T, cfg quern.Config, sec cluster.Security, n int, workerMem memory.Allocator, knobs func(i int) cluster.WorkerKnobs) *inProcess {
	t.Helper()
	cc := cluster.CoordinatorConfig{Listen: "127.0.0.1:0", Security: sec, Scheduler: cluster.DefaultConfig()}
	coord, err := quern.NewCoordinator(cfg, cc)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		coord.Serve()
		close(served)
	}()
	ip := &inProcess{coord: coord}
	var once sync.Once
	ip.stop = func() {
		once.Do(func() {
			for _, stop := range ip.stopWorker {
				stop()
			}
			coord.Close()
			<-served
		})
	}
	t.Cleanup(ip.stop)
	for i := range n {
		wc := cluster.WorkerConfig{
			Coordinator: coord.Addr(), Dir: t.TempDir(), Security: sec,
			Env: exec.Env{Alloc: workerMem, BatchSize: cfg.BatchSize},
		}
		if knobs != nil {
			wc.TestingKnobs = knobs(i)
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
		ip.workers = append(ip.workers, w)
		ip.stopWorker = append(ip.stopWorker, func() {
			cancel()
			<-done
		})
	}
	return ip
}

func clientOf(t *testing.T, addr string, sec cluster.Security) *quern.DB {
	t.Helper()
	cfg := quern.DefaultConfig()
	cfg.Cluster = addr
	cfg.ClusterSecurity = sec
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestInProcessNoLeaks: a coordinator and two workers on Arrow's checked
// allocator release every buffer, across queries with many tasks.
func TestInProcessNoLeaks(t *testing.T) {
	coordMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	workerMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cfg := quern.DefaultConfig()
	cfg.Allocator = coordMem
	cfg.Reducers, cfg.SplitSize, cfg.BatchSize = 3, 64, 7
	cfg.TempDir = t.TempDir()
	ip := startInProcess(t, cfg, cluster.Security{}, 2, workerMem)
	db := clientOf(t, ip.coord.Addr(), cluster.Security{})
	people := filepath.Join(moduleRoot(t), "testdata/tables/people.csv")
	for _, q := range []string{
		"SELECT city, count(*) AS n, avg(age) FROM `" + people + "` GROUP BY city ORDER BY n DESC, city",
		"SELECT name FROM `" + people + "` ORDER BY name LIMIT 3",
	} {
		rows, _ := runOnCluster(t, db, q)
		sameRows(t, rows, localAnswer(t, q))
	}
	// An in-memory table lives on the coordinator; its rows travel with
	// the jobs that read it.
	for _, q := range []string{"CREATE TABLE t (a BIGINT, b VARCHAR(8))", "INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'x')"} {
		if err := db.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, _ := runOnCluster(t, db, "SELECT b, sum(a) FROM t GROUP BY b ORDER BY b")
	sameRows(t, rows, []string{"x\t4", "y\t2"})
	// The shell's table list and schemas come from the coordinator.
	if names := db.Tables(); len(names) != 1 || names[0] != "t" {
		t.Errorf("tables: got %q, want [t]", names)
	}
	if s, err := db.TableSchema("t"); err != nil || s.NumFields() != 2 || s.Field(1).Name != "b" {
		t.Errorf("schema of t: got %v, %v", s, err)
	}
	ip.stop()
	coordMem.AssertSize(t, 0)
	workerMem.AssertSize(t, 0)
}

// writeCert makes a self-signed certificate for 127.0.0.1 (its own CA).
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "quern test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestInProcessTLS: with TLS and a token, everything (registration,
// fetches between workers, the final merge, the client) goes over TLS; a
// plaintext client gets nowhere.
func TestInProcessTLS(t *testing.T) {
	cert, key := writeCert(t)
	sec := cluster.Security{Token: "s3cret", TLSCert: cert, TLSKey: key, TLSCA: cert}
	cfg := quern.DefaultConfig()
	cfg.Reducers, cfg.SplitSize = 2, 64
	cfg.TempDir = t.TempDir()
	ip := startInProcess(t, cfg, sec, 2, nil)
	q := "SELECT city, count(*) AS n FROM `" + filepath.Join(moduleRoot(t), "testdata/tables/people.csv") + "` GROUP BY city ORDER BY city"
	rows, st := runOnCluster(t, clientOf(t, ip.coord.Addr(), cluster.Security{Token: "s3cret", TLSCA: cert}), q)
	sameRows(t, rows, localAnswer(t, q))
	if s := stageStats(t, st, 0); s.Tasks < 2 {
		t.Errorf("want several map tasks (fetches between workers), got\n%s", st)
	}
	_, err := clientOf(t, ip.coord.Addr(), cluster.Security{Token: "s3cret"}).Run(context.Background(), q)
	if err == nil {
		t.Error("a plaintext client ran a query on a TLS coordinator")
	}
}

// TestWorkerRefusesWithoutToken: a worker's map outputs are served only to
// callers with the cluster token.
func TestWorkerRefusesWithoutToken(t *testing.T) {
	cfg := quern.DefaultConfig()
	cfg.TempDir = t.TempDir()
	ip := startInProcess(t, cfg, cluster.Security{Token: "s3cret"}, 1, nil)
	for _, addr := range []string{ip.workers[0].Addr(), ip.coord.Addr()} {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		c := flight.NewClientFromConn(conn, nil)
		stream, err := c.DoGet(context.Background(), &flight.Ticket{Ticket: []byte(`{"attempt":{"Task":{"Job":"q1"}}}`)})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: DoGet without a token: got %v, want Unauthenticated", addr, err)
		}
		conn.Close()
	}
	var re *cluster.RemoteError
	_, err := clientOf(t, ip.coord.Addr(), cluster.Security{Token: "wrong"}).Run(context.Background(), "SELECT 1")
	if !errors.As(err, &re) || re.Code != codes.Unauthenticated {
		t.Errorf("wrong token: got %v", err)
	}
}

// losingPool kills the worker holding the first final output right after
// the first job finishes: too late for the scheduler, so the DB runs the
// job again.
type losingPool struct {
	*cluster.Coordinator
	workers map[string]func() // worker address → stop it
	runs    int
}

func (p *losingPool) RunJob(ctx context.Context, id string, job *planner.Job, mem exectask.MemTables) ([]cluster.InputLocation, cluster.JobStats, error) {
	outs, st, err := p.Coordinator.RunJob(ctx, id, job, mem)
	p.runs++
	if p.runs == 1 && err == nil {
		for addr, stop := range p.workers {
			if strings.HasPrefix(outs[0].Worker, addr+"/") {
				stop()
			}
		}
	}
	return outs, st, err
}

func TestFinalOutputLostAfterJobEnds(t *testing.T) {
	coord, err := cluster.NewCoordinator(cluster.CoordinatorConfig{Scheduler: cluster.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	go coord.Serve()
	defer coord.Close()
	pool := &losingPool{Coordinator: coord, workers: map[string]func(){}}
	for range 2 {
		w, err := cluster.NewWorker(cluster.WorkerConfig{Coordinator: coord.Addr(), Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			w.Run(ctx)
			close(done)
		}()
		stop := func() {
			cancel()
			<-done
		}
		defer stop()
		pool.workers[w.Addr()] = stop
	}
	cfg := quern.DefaultConfig()
	cfg.Pool = pool
	cfg.Reducers = 2
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := "SELECT city, count(*) AS n FROM `" + filepath.Join(moduleRoot(t), "testdata/tables/people.csv") + "` GROUP BY city ORDER BY city"
	rows, _ := runOnCluster(t, db, q)
	sameRows(t, rows, localAnswer(t, q))
	if pool.runs != 2 {
		t.Errorf("the job ran %d times, want 2 (once more after losing its output)", pool.runs)
	}
}

// batchWatch is a coordinator whose final outputs, as the workers' last
// tasks wrote them, are watched for their largest batch.
type batchWatch struct {
	*cluster.Coordinator
	maxRows atomic.Int64
}

func (p *batchWatch) OpenOutput(job *planner.Job) func(loc cluster.InputLocation) (exec.Operator, error) {
	open := p.Coordinator.OpenOutput(job)
	return func(loc cluster.InputLocation) (exec.Operator, error) {
		op, err := open(loc)
		if err != nil {
			return nil, err
		}
		return &watchedOutput{Operator: op, p: p}, nil
	}
}

type watchedOutput struct {
	exec.Operator
	p *batchWatch
}

func (w *watchedOutput) Next(ctx context.Context) (arrow.Record, error) {
	rec, err := w.Operator.Next(ctx)
	if err == nil {
		for n := rec.NumRows(); ; {
			old := w.p.maxRows.Load()
			if n <= old || w.p.maxRows.CompareAndSwap(old, n) {
				break
			}
		}
	}
	return rec, err
}

// TestFlightWorkersUseTheJobsBatchSize: a job carries its query's batch
// size (planner.Job.Run), and workers whose own default is 16384 rows run
// its tasks with it: the batches their reducers write are that small, and
// the answer is local mode's.
func TestFlightWorkersUseTheJobsBatchSize(t *testing.T) {
	path, split := textFile(t, 4)
	query := wordCount(path)
	want := localAnswer(t, query)
	for _, tc := range []struct {
		batch   int
		maxRows func(int64) bool
	}{
		{2, func(n int64) bool { return n >= 1 && n <= 2 }},
		{1024, func(n int64) bool { return n > 2 }}, // the watch can see big batches
	} {
		t.Run(fmt.Sprint(tc.batch), func(t *testing.T) {
			coord, err := cluster.NewCoordinator(cluster.CoordinatorConfig{Scheduler: cluster.DefaultConfig()})
			if err != nil {
				t.Fatal(err)
			}
			go coord.Serve()
			defer coord.Close()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() {
				cancel()
				wg.Wait()
			}()
			for range 2 {
				w, err := cluster.NewWorker(cluster.WorkerConfig{
					Coordinator: coord.Addr(), Dir: t.TempDir(),
					Env: exec.Env{BatchSize: 16384},
				})
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.Run(ctx)
				}()
			}
			pool := &batchWatch{Coordinator: coord}
			cfg := quern.DefaultConfig()
			cfg.Pool, cfg.Reducers, cfg.SplitSize, cfg.BatchSize = pool, 2, split, tc.batch
			db, err := quern.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, _ := runOnCluster(t, db, query)
			sameRows(t, rows, want)
			if n := pool.maxRows.Load(); !tc.maxRows(n) {
				t.Errorf("batch size %d: the workers' largest output batch had %d rows", tc.batch, n)
			}
		})
	}
}
