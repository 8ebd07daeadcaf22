package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/shuffle"
	exectask "github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/planner"
)

// WorkerConfig sets up a worker process.
type WorkerConfig struct {
	// Coordinator is the coordinator's HOST:PORT.
	Coordinator string
	// Listen is where this worker serves its map outputs (default
	// 127.0.0.1:0, a free port on loopback).
	Listen string
	// Advertise is the address other processes reach this worker at
	// (default: the listener's address, or the host name when listening on
	// every interface).
	Advertise string
	// Dir holds the intermediate files (default: a new temporary directory,
	// removed at the end). Each registration works in its own directory
	// under Dir, removed when it ends.
	Dir string
	// Slots is the number of tasks run at once (default 1).
	Slots    int
	Security Security
	// Env is what tasks run with (allocator, batch size).
	Env exec.Env
	// Access, when set, vets every input file a task would open (`quern
	// worker --allow-dir`, which defaults to the working directory); a task
	// naming a file it refuses fails with its error. Nil: any file.
	Access exectask.PathChecker
	// Log receives one line per registration, task and failure (nil: none).
	Log *log.Logger
	// RetryInterval is the pause between attempts to reach the coordinator.
	RetryInterval time.Duration
	// TestingKnobs are hooks for tests; leave zero in production.
	TestingKnobs WorkerKnobs
}

// WorkerKnobs are worker hooks for tests.
type WorkerKnobs struct {
	// TaskDelay, if set, holds an attempt for the returned duration before
	// it fetches its inputs or runs (a Kill cuts the wait short), to make
	// this worker a straggler or to widen a window for a fault.
	TaskDelay func(a AttemptID) time.Duration
	// FetchFault, if set, is called before an attempt reads each of its
	// inputs (fetched from another worker, or read in place when this
	// worker wrote it). It may delay the read (a Kill cuts the wait short)
	// or fail it; a failure is reported as FetchFailed for that input's
	// task, as a real fetch failure is.
	FetchFault func(a AttemptID, in InputLocation) (time.Duration, error)
}

// ParseFetchFault reads the testing knob QUERN_TEST_FETCH_FAULT: a
// comma-separated list of fail=P (each read of an input fails with
// probability P), delay=P:DURATION (each read waits DURATION with
// probability P) and seed=N (of the random choices; default 1), e.g.
// "fail=0.05,delay=0.2:300ms,seed=7". It is a testing knob: never set it
// in production.
func ParseFetchFault(spec string) (func(a AttemptID, in InputLocation) (time.Duration, error), error) {
	var fail, delayP float64
	var delay time.Duration
	seed := uint64(1)
	prob := func(item, v string) (float64, error) {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return 0, fmt.Errorf("fetch fault %q: want a probability between 0 and 1", item)
		}
		return p, nil
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, ok := strings.Cut(item, "=")
		var err error
		switch {
		case !ok:
			return nil, fmt.Errorf("fetch fault %q: want fail=P, delay=P:DURATION or seed=N", item)
		case key == "fail":
			fail, err = prob(item, val)
		case key == "delay":
			p, d, ok := strings.Cut(val, ":")
			if !ok {
				return nil, fmt.Errorf("fetch fault %q: want delay=P:DURATION", item)
			}
			if delayP, err = prob(item, p); err == nil {
				if delay, err = time.ParseDuration(d); err != nil {
					err = fmt.Errorf("fetch fault %q: %w", item, err)
				}
			}
		case key == "seed":
			if seed, err = strconv.ParseUint(val, 10, 64); err != nil {
				err = fmt.Errorf("fetch fault %q: seed: %w", item, err)
			}
		default:
			return nil, fmt.Errorf("fetch fault %q: unknown setting %q", item, key)
		}
		if err != nil {
			return nil, err
		}
	}
	var mu sync.Mutex
	rng := mathrand.New(mathrand.NewPCG(seed, 0x71e2))
	return func(a AttemptID, in InputLocation) (time.Duration, error) {
		mu.Lock()
		failed, delayed := rng.Float64() < fail, rng.Float64() < delayP
		mu.Unlock()
		var d time.Duration
		if delayed {
			d = delay
		}
		if failed {
			return d, fmt.Errorf("injected fetch failure (QUERN_TEST_FETCH_FAULT) reading %s for %s", in, a)
		}
		return d, nil
	}, nil
}

// ParseTaskDelay reads the testing knob QUERN_TEST_TASK_DELAY: a
// comma-separated list of STAGE:INDEX:DURATION, INDEX "*" for every task of
// the stage (e.g. "0:*:20s,1:3:2s"). It delays the matching attempts of
// every job this worker runs. It is a testing knob: never set it in
// production.
func ParseTaskDelay(spec string) (func(a AttemptID) time.Duration, error) {
	type rule struct {
		stage, index int // index -1: any
		d            time.Duration
	}
	var rules []rule
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("task delay %q: want STAGE:INDEX:DURATION", item)
		}
		var r rule
		var err error
		if r.stage, err = strconv.Atoi(parts[0]); err != nil {
			return nil, fmt.Errorf("task delay %q: stage: %w", item, err)
		}
		if parts[1] == "*" {
			r.index = -1
		} else if r.index, err = strconv.Atoi(parts[1]); err != nil {
			return nil, fmt.Errorf("task delay %q: index: %w", item, err)
		}
		if r.d, err = time.ParseDuration(parts[2]); err != nil {
			return nil, fmt.Errorf("task delay %q: %w", item, err)
		}
		rules = append(rules, r)
	}
	return func(a AttemptID) time.Duration {
		for _, r := range rules {
			if r.stage == a.Task.Stage && (r.index < 0 || r.index == a.Task.Index) {
				return r.d
			}
		}
		return 0
	}, nil
}

// Worker is a worker process: it registers with the coordinator, runs the
// tasks it is sent with an Executor, serves its outputs with Flight DoGet,
// and registers again (under a new name, with no outputs) whenever it loses
// the coordinator.
//
// A registration is a session. The session's command stream is the
// coordinator's channel to the worker; a separate goroutine heartbeats, so
// that task work can never delay a heartbeat. When a session ends (the
// coordinator died, closed the stream, or no longer knows the worker), its
// attempts are cancelled and its files removed: the coordinator has
// already given them up.
type Worker struct {
	cfg   WorkerConfig
	lis   net.Listener
	srv   *grpc.Server
	peers *peers
	coord flight.Client
	addr  string
	tmp   string // Dir, when the worker made it

	mu   sync.Mutex
	sess *session
}

// NewWorker listens and connects (lazily) to the coordinator; Run starts it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Coordinator == "" {
		return nil, errors.New("worker: no coordinator address (give --coordinator HOST:PORT)")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 1
	}
	if cfg.Env.Alloc == nil {
		cfg.Env.Alloc = memory.DefaultAllocator
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 250 * time.Millisecond
	}
	if err := cfg.Security.CheckListen(cfg.Listen); err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, peers: newPeers(cfg.Security)}
	if w.cfg.Dir == "" {
		d, err := os.MkdirTemp("", "quern-worker-")
		if err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
		w.cfg.Dir, w.tmp = d, d
	} else if err := os.MkdirAll(w.cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	coord, err := dial(cfg.Coordinator, cfg.Security)
	if err != nil {
		return nil, err
	}
	w.coord = coord
	srv, err := newGRPCServer(cfg.Security)
	if err != nil {
		coord.Close()
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		coord.Close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	w.lis, w.srv = lis, srv
	w.addr = advertised(cfg.Advertise, lis.Addr())
	flight.RegisterFlightServiceServer(srv, &workerService{w: w})
	return w, nil
}

// advertised picks the address others dial: the listener's, with the host
// name in place of an unspecified IP.
func advertised(adv string, a net.Addr) string {
	if adv != "" {
		return adv
	}
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// Addr is the address the worker serves its outputs at.
func (w *Worker) Addr() string { return w.addr }

// Name is the worker's name in its current registration ("" between
// registrations).
func (w *Worker) Name() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sess == nil {
		return ""
	}
	return w.sess.name
}

func (w *Worker) logf(format string, args ...any) {
	if w.cfg.Log != nil {
		w.cfg.Log.Printf(format, args...)
	}
}

// Run serves until ctx is done, registering with the coordinator again
// whenever the registration is lost.
func (w *Worker) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- w.srv.Serve(w.lis) }()
	defer func() {
		w.srv.Stop()
		<-served
		w.peers.close()
		w.coord.Close()
		if w.tmp != "" {
			os.RemoveAll(w.tmp)
		}
	}()
	lastErr := ""
	for ctx.Err() == nil {
		s, err := w.newSession(ctx)
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.sess = s
		w.mu.Unlock()
		err = s.run()
		w.mu.Lock()
		w.sess = nil
		w.mu.Unlock()
		s.close()
		if ctx.Err() != nil {
			break
		}
		if msg := err.Error(); msg != lastErr {
			w.logf("worker %s: %v; registering again", s.name, err)
			lastErr = msg
		}
		select {
		case <-time.After(w.cfg.RetryInterval):
		case <-ctx.Done():
		}
	}
	return nil
}

func randomSuffix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// session is one registration with the coordinator.
type session struct {
	w      *Worker
	name   string
	dir    string
	x      *Executor
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	jobs     map[string]*workerJob
	mem      *shippedTables
	outputs  map[AttemptID]OutputMeta // succeeded attempts, served by DoGet
	attempts sync.WaitGroup
}

type workerJob struct {
	job     *planner.Job
	memKeys []string
	running map[AttemptID]context.CancelFunc
	wg      sync.WaitGroup
}

func (w *Worker) newSession(ctx context.Context) (*session, error) {
	suffix := randomSuffix()
	s := &session{
		w:       w,
		name:    w.addr + "/" + suffix,
		dir:     filepath.Join(w.cfg.Dir, "w-"+suffix),
		jobs:    map[string]*workerJob{},
		mem:     newShippedTables(),
		outputs: map[AttemptID]OutputMeta{},
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	s.x = NewExecutor(s.dir, w.cfg.Env, s.mem)
	s.x.Access = w.cfg.Access
	s.ctx, s.cancel = context.WithCancel(ctx)
	return s, nil
}

// run registers and carries out the coordinator's commands until the
// stream breaks.
func (s *session) run() error {
	body, _ := json.Marshal(registerMsg{Name: s.name, Addr: s.w.addr, Slots: s.w.cfg.Slots})
	stream, err := s.w.coord.DoAction(s.ctx, &flight.Action{Type: actionRegister, Body: body})
	if err != nil {
		return fmt.Errorf("registering with %s: %w", s.w.cfg.Coordinator, remoteError(err))
	}
	welcome := true
	for {
		res, err := stream.Recv()
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("coordinator %s closed the session", s.w.cfg.Coordinator)
			}
			return fmt.Errorf("coordinator %s: %w", s.w.cfg.Coordinator, remoteError(err))
		}
		var cmd command
		if err := json.Unmarshal(res.Body, &cmd); err != nil {
			return fmt.Errorf("internal: bad command from the coordinator: %w", err)
		}
		if welcome {
			if cmd.Op != "welcome" {
				return fmt.Errorf("internal: coordinator sent %q before welcome", cmd.Op)
			}
			welcome = false
			s.w.logf("worker %s: registered with %s (%d slots)", s.name, s.w.cfg.Coordinator, s.w.cfg.Slots)
			go s.heartbeat(time.Duration(cmd.HeartbeatMillis) * time.Millisecond)
			continue
		}
		if err := s.handle(cmd); err != nil {
			return err
		}
	}
}

// heartbeat runs on its own goroutine: nothing a task does can delay it.
func (s *session) heartbeat(every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 2*every+time.Second)
		var reply heartbeatReply
		err := doAction(ctx, s.w.coord, actionHeartbeat, heartbeatMsg{Name: s.name}, &reply)
		cancel()
		if err == nil && !reply.Known {
			s.w.logf("worker %s: the coordinator no longer knows this worker", s.name)
			s.cancel()
			return
		}
	}
}

func (s *session) handle(cmd command) error {
	switch cmd.Op {
	case "job":
		job, err := planner.DecodeJob(cmd.Body)
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.jobs[cmd.Job] != nil {
			return nil
		}
		if err := s.x.AddJob(cmd.Job, job); err != nil {
			return err
		}
		wj := &workerJob{job: job, running: map[AttemptID]context.CancelFunc{}}
		for k := range cmd.Mem {
			wj.memKeys = append(wj.memKeys, k)
		}
		s.mem.add(cmd.Mem)
		s.jobs[cmd.Job] = wj
	case "launch":
		if cmd.Attempt == nil {
			return errors.New("internal: launch without an attempt")
		}
		s.launch(*cmd.Attempt, cmd.Inputs)
	case "kill":
		if cmd.Attempt == nil {
			return errors.New("internal: kill without an attempt")
		}
		s.mu.Lock()
		if j := s.jobs[cmd.Attempt.Task.Job]; j != nil {
			if cancel := j.running[*cmd.Attempt]; cancel != nil {
				cancel()
			}
		}
		s.mu.Unlock()
	case "discard":
		if cmd.Attempt == nil {
			return errors.New("internal: discard without an attempt")
		}
		s.mu.Lock()
		delete(s.outputs, *cmd.Attempt)
		s.mu.Unlock()
		s.x.Discard(*cmd.Attempt, s.name)
	case "forget":
		s.forget(cmd.Job)
	default:
		return fmt.Errorf("internal: unknown command %q", cmd.Op)
	}
	return nil
}

// forget cancels a finished job's attempts and deletes its files once they
// have stopped (an attempt still running could otherwise write after the
// directory is gone).
func (s *session) forget(id string) {
	s.mu.Lock()
	j := s.jobs[id]
	delete(s.jobs, id)
	for a := range s.outputs {
		if a.Task.Job == id {
			delete(s.outputs, a)
		}
	}
	s.mu.Unlock()
	if j == nil {
		return
	}
	for _, cancel := range j.running {
		cancel()
	}
	go func() {
		j.wg.Wait()
		s.mem.remove(j.memKeys)
		s.x.RemoveJob(id)
	}()
}

func (s *session) launch(a AttemptID, inputs []remoteInput) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[a.Task.Job]
	if j == nil {
		// The job was forgotten (or never sent): report so the slot frees.
		go s.report(reportOf(s.name, a, OutputInfo{}, DeterministicError(fmt.Errorf("internal: worker %s has no job %s", s.name, a.Task.Job))))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	j.running[a] = cancel
	j.wg.Add(1)
	s.attempts.Add(1)
	go func() {
		defer s.attempts.Done()
		defer j.wg.Done()
		out, err := s.runAttempt(ctx, j.job, a, inputs)
		s.mu.Lock()
		delete(j.running, a)
		if err == nil && s.jobs[a.Task.Job] == j {
			var m OutputMeta
			json.Unmarshal(out.Meta, &m)
			s.outputs[a] = m
		}
		s.mu.Unlock()
		cancel()
		if err != nil {
			s.w.logf("worker %s: %s failed: %v", s.name, a, err)
		}
		s.report(reportOf(s.name, a, out, err))
	}()
}

// runAttempt runs one attempt: a reduce task first fetches its partition
// of every upstream output into local files.
func (s *session) runAttempt(ctx context.Context, job *planner.Job, a AttemptID, inputs []remoteInput) (out OutputInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = DeterministicError(fmt.Errorf("internal: task %s panicked: %v", a, r))
		}
	}()
	if delay := s.w.cfg.TestingKnobs.TaskDelay; delay != nil {
		if err := sleepCtx(ctx, delay(a)); err != nil {
			return OutputInfo{}, err
		}
	}
	locs := make([]InputLocation, len(inputs))
	for i, in := range inputs {
		locs[i] = in.InputLocation
	}
	if len(inputs) > 0 {
		stage := job.Stage(a.Task.Stage)
		if stage == nil {
			return OutputInfo{}, DeterministicError(fmt.Errorf("internal: job %s has no stage %d", a.Task.Job, a.Task.Stage))
		}
		inDir := s.x.AttemptDir(a) + "-in"
		defer os.RemoveAll(inDir)
		if locs, err = s.fetchAll(ctx, stage, a, inputs, inDir); err != nil {
			return OutputInfo{}, err
		}
	}
	return s.x.RunTask(ctx, a, locs)
}

// fetchParallel bounds a reducer's concurrent fetches.
const fetchParallel = 4

// inputPartition is the partition task reads of an output of stage from:
// its own index, or 0 from a broadcast input (the executor's rule).
func inputPartition(stage *planner.Stage, from, task int) int {
	for _, in := range stage.Inputs {
		if in.Stage == from && in.Broadcast {
			return 0
		}
	}
	return task
}

// fetchAll copies the partition a reads of every input into inDir (an
// output of this worker is read in place) and returns the inputs with
// their local paths. A fetch that fails is a FetchFailed naming its map
// task, unless the attempt itself was cancelled.
func (s *session) fetchAll(ctx context.Context, stage *planner.Stage, a AttemptID, inputs []remoteInput, inDir string) ([]InputLocation, error) {
	if err := os.MkdirAll(inDir, 0o755); err != nil {
		return nil, err
	}
	locs := make([]InputLocation, len(inputs))
	errs := make([]error, len(inputs))
	sem := make(chan struct{}, fetchParallel)
	var wg sync.WaitGroup
	fault := s.w.cfg.TestingKnobs.FetchFault
	for i, in := range inputs {
		locs[i] = in.InputLocation
		local := in.Worker == s.name // Meta already names the file on this disk
		if local && fault == nil {
			continue
		}
		part := inputPartition(stage, in.Attempt.Task.Stage, a.Task.Index)
		path := filepath.Join(inDir, fmt.Sprintf("in%05d.arrow", i))
		if !local {
			paths := make([]string, part+1)
			paths[part] = path
			meta, _ := json.Marshal(OutputMeta{Paths: paths})
			locs[i].Output.Meta = meta
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := s.injectFetchFault(ctx, a, in.InputLocation)
			if err == nil && !local {
				err = s.fetch(ctx, in, part, path)
			}
			if err != nil {
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
				} else {
					errs[i] = FetchFailedError(in.Attempt.Task, in.Worker, err)
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return locs, nil
}

// injectFetchFault carries out the FetchFault knob for one input.
func (s *session) injectFetchFault(ctx context.Context, a AttemptID, in InputLocation) error {
	fault := s.w.cfg.TestingKnobs.FetchFault
	if fault == nil {
		return nil
	}
	d, err := fault(a, in)
	if serr := sleepCtx(ctx, d); serr != nil {
		return serr
	}
	return err
}

// fetch copies one partition of a remote output into path, as an Arrow IPC
// stream like the one the map task wrote.
func (s *session) fetch(ctx context.Context, in remoteInput, part int, path string) error {
	c, err := s.w.peers.get(in.Addr)
	if err != nil {
		return err
	}
	tk, _ := json.Marshal(partitionTicket{Attempt: in.Attempt, Partition: part})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.DoGet(ctx, &flight.Ticket{Ticket: tk})
	if err != nil {
		return remoteError(err)
	}
	rd, err := flight.NewRecordReader(stream, ipc.WithAllocator(s.w.cfg.Env.Alloc))
	if err != nil {
		return fmt.Errorf("from %s: %w", in.Addr, remoteError(err))
	}
	defer rd.Release()
	// A checksummed partition file, as the map task wrote it: the reducer
	// reads it with the shuffle Reader, which refuses unchecked files.
	wr, err := shuffle.CreateFile(path, rd.Schema(), s.w.cfg.Env.Alloc)
	if err != nil {
		return err
	}
	for rd.Next() {
		if err := wr.Write(rd.RecordBatch()); err != nil {
			wr.Abort()
			return err
		}
	}
	if err := rd.Err(); err != nil {
		wr.Abort()
		return fmt.Errorf("from %s: %w", in.Addr, remoteError(err))
	}
	return wr.Close()
}

// report tells the coordinator how an attempt ended, retrying briefly: a
// report lost for good is covered by the session ending (the coordinator
// then gives up on everything this worker ran).
func (s *session) report(m reportMsg) {
	for try := 0; try < 5 && s.ctx.Err() == nil; try++ {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		err := doAction(ctx, s.w.coord, actionReport, m, nil)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-time.After(time.Duration(try+1) * 100 * time.Millisecond):
		case <-s.ctx.Done():
		}
	}
}

// close ends the session: its attempts stop and its files go.
func (s *session) close() {
	s.cancel()
	s.attempts.Wait()
	s.mu.Lock()
	s.jobs = map[string]*workerJob{}
	s.outputs = map[AttemptID]OutputMeta{}
	s.mu.Unlock()
	os.RemoveAll(s.dir)
}

// output finds a served partition: its file and the schema to read it by.
func (s *session) output(t partitionTicket) (string, *arrow.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.outputs[t.Attempt]
	j := s.jobs[t.Attempt.Task.Job]
	if !ok || j == nil {
		return "", nil, status.Errorf(codes.NotFound, "worker %s has no output %s", s.name, t.Attempt)
	}
	if t.Partition < 0 || t.Partition >= len(m.Paths) {
		return "", nil, status.Errorf(codes.NotFound, "output %s has no partition %d", t.Attempt, t.Partition)
	}
	stage := j.job.Stage(t.Attempt.Task.Stage)
	if stage == nil {
		return "", nil, status.Errorf(codes.NotFound, "job %s has no stage %d", t.Attempt.Task.Job, t.Attempt.Task.Stage)
	}
	return m.Paths[t.Partition], stage.Root.Schema.Arrow(), nil
}

// workerService serves map outputs.
type workerService struct {
	flight.BaseFlightServer
	w *Worker
}

func (ws *workerService) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	var tk partitionTicket
	if err := json.Unmarshal(t.Ticket, &tk); err != nil {
		return status.Errorf(codes.InvalidArgument, "bad ticket: %v", err)
	}
	ws.w.mu.Lock()
	s := ws.w.sess
	ws.w.mu.Unlock()
	if s == nil {
		return status.Error(codes.Unavailable, "worker is not registered")
	}
	path, schema, err := s.output(tk)
	if err != nil {
		return err
	}
	return servePartition(stream, path, schema, s.w.cfg.Env)
}

// servePartition streams one partition file. A file that is missing or cut
// short fails the call; the reader reports it as a fetch failure.
func servePartition(stream flight.FlightService_DoGetServer, path string, schema *arrow.Schema, env exec.Env) error {
	rd, err := shuffle.NewReader([]string{path}, schema, env)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	defer rd.Close()
	ctx := stream.Context()
	rec, err := rd.Next(ctx)
	if err != nil && err != io.EOF {
		return status.Error(codes.DataLoss, err.Error())
	}
	wr := flight.NewRecordWriter(stream, ipc.WithSchema(schema), ipc.WithAllocator(env.Alloc))
	defer wr.Close()
	for err == nil {
		if werr := wr.Write(rec); werr != nil {
			return werr
		}
		rec, err = rd.Next(ctx)
	}
	if err != io.EOF {
		return status.Error(codes.DataLoss, err.Error())
	}
	return nil
}
