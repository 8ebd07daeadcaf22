package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/quernsql/quern/exec"
	exectask "github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/planner"
)

// JobPool runs planner jobs somewhere other than this process's in-process
// workers; the root package runs a DB's jobs on one when Config.Pool is
// set. Coordinator is the implementation.
type JobPool interface {
	// RunJob runs job under id and waits for it; on success the last
	// stage's outputs stay where they are until ReleaseJob(id).
	// Cancelling ctx cancels the job everywhere.
	// mem serves the rows of the in-memory tables the job reads.
	RunJob(ctx context.Context, id string, job *planner.Job, mem exectask.MemTables) ([]InputLocation, JobStats, error)
	// OpenOutput returns how to read one final output of job (for
	// FinalMerge); an output that cannot be read is a FetchFailed
	// *TaskError.
	OpenOutput(job *planner.Job) func(loc InputLocation) (exec.Operator, error)
	// ReleaseJob discards what is left of a job.
	ReleaseJob(id string)
}

// CoordinatorConfig sets up a coordinator.
type CoordinatorConfig struct {
	// Listen is HOST:PORT to serve workers and clients on (default
	// 127.0.0.1:0).
	Listen string
	// Scheduler tunes the scheduler (HeartbeatTimeout, MaxAttempts,
	// speculation) and the driver's clock (TickInterval); Slots and
	// OnDiscard are not used: workers bring their own slots and delete
	// their own files.
	Scheduler Config
	Security  Security
	// Env is what the final merge runs with.
	Env exec.Env
	// Log receives a line per worker event, launch and job end (nil: none).
	Log *log.Logger
	// ErrorAttrs, if set, describes an error that goes back to a client as
	// string attributes (see RemoteError), so that the client can rebuild
	// its kind (say, a SQL error's position).
	ErrorAttrs func(error) map[string]string
	// ResultTTL is how long a query's result waits for the client to fetch
	// it before it is dropped (default one minute).
	ResultTTL time.Duration
}

// Queryer answers SQL: the coordinator's Flight SQL front end hands it
// every statement. It returns the rows and the statistics of the job that
// computed them (nil when the statement ran none). The reader must stay
// valid after Query returns, until it is released; cancelling ctx
// cancels the statement, and releasing the reader releases its job.
type Queryer interface {
	Query(ctx context.Context, sql string) (array.RecordReader, *JobStats, error)
}

// Coordinator drives the Scheduler over the network: the same state machine
// as LocalPool, with a driver that owns sockets and a real clock. One
// goroutine (the loop) owns the scheduler and everything it decides about;
// RPC handlers hand it closures and wait for the answer.
type Coordinator struct {
	cfg   CoordinatorConfig
	lis   net.Listener
	srv   *grpc.Server
	peers *peers
	start time.Time
	in    chan func()
	quit  chan struct{}
	done  chan struct{}
	close sync.Once

	addrMu sync.Mutex
	addrs  map[string]string // worker name → address, kept after it dies (late readers)

	sql *sqlService

	// Owned by the loop.
	sched   *Scheduler
	conns   map[string]*workerConn
	jobs    map[string]*coordJob
	closing bool
}

type workerConn struct {
	name  string
	out   *outbox
	slots int
	jobs  map[string]bool // jobs whose body this worker has
}

type coordJob struct {
	body   []byte
	mem    map[string][]byte // rows of in-memory tables, by memKey
	result chan jobResult
}

// NewCoordinator listens and starts the scheduling loop; Serve serves.
func NewCoordinator(cfg CoordinatorConfig) (*Coordinator, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.ResultTTL <= 0 {
		cfg.ResultTTL = time.Minute
	}
	if cfg.Env.Alloc == nil {
		cfg.Env.Alloc = memory.DefaultAllocator
	}
	cfg.Scheduler = cfg.Scheduler.withDefaults()
	if err := cfg.Security.CheckListen(cfg.Listen); err != nil {
		return nil, err
	}
	srv, err := newGRPCServer(cfg.Security)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	c := &Coordinator{
		cfg:   cfg,
		lis:   lis,
		srv:   srv,
		peers: newPeers(cfg.Security),
		start: time.Now(),
		in:    make(chan func()),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		addrs: map[string]string{},
		sched: NewScheduler(cfg.Scheduler),
		conns: map[string]*workerConn{},
		jobs:  map[string]*coordJob{},
	}
	c.sql = &sqlService{c: c, results: map[string]*pendingResult{}, prepared: map[string]string{}}
	flight.RegisterFlightServiceServer(srv, &coordService{FlightServer: flightsql.NewFlightServer(c.sql), c: c})
	go c.loop()
	return c, nil
}

// Addr is the address the coordinator listens on.
func (c *Coordinator) Addr() string { return c.lis.Addr().String() }

// Workers returns the names of the workers registered and alive now, in
// order.
func (c *Coordinator) Workers() []string {
	var out []string
	c.call(func() {
		for name := range c.conns {
			if c.sched.Alive(name) {
				out = append(out, name)
			}
		}
	})
	slices.Sort(out)
	return out
}

// SetQueryer plugs in the SQL front end; call it before clients connect.
func (c *Coordinator) SetQueryer(q Queryer) { c.sql.setQueryer(q) }

// Serve serves workers and clients until Close.
func (c *Coordinator) Serve() error {
	err := c.srv.Serve(c.lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Close cancels the running jobs, drops every connection and stops.
func (c *Coordinator) Close() {
	c.close.Do(func() {
		close(c.quit)
		<-c.done
		c.srv.Stop()
		c.sql.dropAll()
		c.peers.close()
	})
}

func (c *Coordinator) logf(format string, args ...any) {
	if c.cfg.Log != nil {
		c.cfg.Log.Printf(format, args...)
	}
}

// call runs f on the loop and waits for it; false if the loop has stopped.
func (c *Coordinator) call(f func()) bool {
	ran := make(chan struct{})
	select {
	case c.in <- func() { f(); close(ran) }:
	case <-c.done:
		return false
	}
	select {
	case <-ran:
		return true
	case <-c.done:
		return false
	}
}

func (c *Coordinator) loop() {
	defer close(c.done)
	ticker := time.NewTicker(c.cfg.Scheduler.TickInterval)
	defer ticker.Stop()
	for {
		select {
		case f := <-c.in:
			c.clock()
			f()
		case <-ticker.C:
			c.clock()
		case <-c.quit:
			c.shutdown()
			return
		}
	}
}

// clock advances the scheduler to real time, then drops the connections of
// the workers it has given up on, so they notice and register again.
func (c *Coordinator) clock() {
	c.apply(c.sched.Step(Tick{Now: time.Since(c.start)}))
	for name, wc := range c.conns {
		if !c.sched.Alive(name) {
			c.logf("worker %s: missed heartbeats for %v; declared dead", name, c.cfg.Scheduler.HeartbeatTimeout)
			wc.out.close()
			delete(c.conns, name)
		}
	}
}

func (c *Coordinator) shutdown() {
	c.closing = true
	ids := make([]string, 0, len(c.jobs))
	for id := range c.jobs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.apply(c.sched.Step(CancelJob{Job: id, Cause: errors.New("the coordinator is shutting down")}))
		c.releaseJob(id)
	}
	for name, wc := range c.conns {
		wc.out.close()
		delete(c.conns, name)
	}
}

func (c *Coordinator) apply(actions []Action) {
	for _, a := range actions {
		switch a := a.(type) {
		case Launch:
			wc := c.conns[a.Worker]
			if wc == nil {
				continue // its WorkerDown is being applied
			}
			j := c.jobs[a.Attempt.Task.Job]
			if j == nil {
				continue
			}
			if !wc.jobs[a.Attempt.Task.Job] {
				wc.jobs[a.Attempt.Task.Job] = true
				wc.out.push(command{Op: "job", Job: a.Attempt.Task.Job, Body: j.body, Mem: j.mem})
			}
			inputs := make([]remoteInput, len(a.Inputs))
			c.addrMu.Lock()
			for i, in := range a.Inputs {
				inputs[i] = remoteInput{InputLocation: in, Addr: c.addrs[in.Worker]}
			}
			c.addrMu.Unlock()
			at := a.Attempt
			wc.out.push(command{Op: "launch", Attempt: &at, Inputs: inputs})
			if a.Backup {
				c.logf("launch %s on %s (backup)", a.Attempt, a.Worker)
			} else {
				c.logf("launch %s on %s", a.Attempt, a.Worker)
			}
		case Kill:
			if wc := c.conns[a.Worker]; wc != nil {
				at := a.Attempt
				wc.out.push(command{Op: "kill", Attempt: &at})
				c.logf("kill %s on %s", a.Attempt, a.Worker)
			}
		case Discard:
			if wc := c.conns[a.Worker]; wc != nil {
				at := a.Attempt
				wc.out.push(command{Op: "discard", Attempt: &at})
			}
		case JobSucceeded:
			c.logf("job %s succeeded", a.Job)
			c.finish(a.Job, a.Outputs, nil)
		case JobFailed:
			c.logf("job %s failed: %v", a.Job, a.Err)
			c.finish(a.Job, nil, a.Err)
			// Nothing of a failed job is left to read: forget it now.
			c.releaseJob(a.Job)
		}
	}
}

func (c *Coordinator) finish(id string, outputs []InputLocation, err error) {
	j := c.jobs[id]
	if j == nil || j.result == nil {
		return
	}
	stats, _ := c.sched.JobStats(id)
	j.result <- jobResult{outputs: outputs, stats: stats, err: err}
	j.result = nil
}

// releaseJob forgets a job in the scheduler and on every worker that has
// it (which deletes its files there).
func (c *Coordinator) releaseJob(id string) {
	if c.jobs[id] == nil {
		return
	}
	c.apply(c.sched.Step(ReleaseJob{Job: id}))
	delete(c.jobs, id)
	for _, wc := range c.conns {
		if wc.jobs[id] {
			delete(wc.jobs, id)
			wc.out.push(command{Op: "forget", Job: id})
		}
	}
}

// RunJob runs a job on the workers (JobPool).
func (c *Coordinator) RunJob(ctx context.Context, id string, job *planner.Job, mem exectask.MemTables) ([]InputLocation, JobStats, error) {
	body, err := job.Encode()
	if err != nil {
		return nil, JobStats{}, err
	}
	rows, err := memRowsOf(job, mem, c.cfg.Env)
	if err != nil {
		return nil, JobStats{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, JobStats{}, fmt.Errorf("job %s: %w", id, context.Cause(ctx))
	}
	res := make(chan jobResult, 1)
	ok := c.call(func() {
		switch {
		case c.closing:
			res <- jobResult{err: fmt.Errorf("job %s: the coordinator is shutting down", id)}
		case c.jobs[id] != nil:
			res <- jobResult{err: fmt.Errorf("job %s: %w", id, ErrDuplicateJob)}
		default:
			c.jobs[id] = &coordJob{body: body, mem: rows, result: res}
			c.logf("job %s submitted", id)
			c.apply(c.sched.Step(SubmitJob{Job: JobSpecOf(id, job)}))
		}
	})
	if !ok {
		return nil, JobStats{}, fmt.Errorf("job %s: the coordinator is shutting down", id)
	}
	select {
	case r := <-res:
		return r.outputs, r.stats, r.err
	case <-ctx.Done():
	}
	cause := context.Cause(ctx)
	c.call(func() { c.apply(c.sched.Step(CancelJob{Job: id, Cause: cause})) })
	select {
	case r := <-res:
		return r.outputs, r.stats, r.err
	case <-c.done:
		return nil, JobStats{}, fmt.Errorf("job %s: %w", id, cause)
	}
}

// ReleaseJob discards a finished job's outputs everywhere (JobPool).
func (c *Coordinator) ReleaseJob(id string) {
	c.call(func() { c.releaseJob(id) })
}

// OpenOutput reads final outputs from their workers with DoGet (JobPool).
func (c *Coordinator) OpenOutput(job *planner.Job) func(loc InputLocation) (exec.Operator, error) {
	schema := job.Stages[len(job.Stages)-1].Root.Schema.Arrow()
	return func(loc InputLocation) (exec.Operator, error) {
		c.addrMu.Lock()
		addr := c.addrs[loc.Worker]
		c.addrMu.Unlock()
		op, err := openRemote(c.peers, addr, partitionTicket{Attempt: loc.Attempt}, schema, c.cfg.Env)
		if err != nil {
			// The job has finished, so the scheduler cannot re-run the
			// task; the caller may run the job again.
			return nil, FetchFailedError(loc.Attempt.Task, loc.Worker, fmt.Errorf("reading the result: %w", err))
		}
		return op, nil
	}
}

// remoteOutput is an operator over one partition served by a worker.
type remoteOutput struct {
	schema *arrow.Schema
	rd     *flight.Reader
	cancel context.CancelFunc
	addr   string
	closed bool
}

func openRemote(p *peers, addr string, t partitionTicket, schema *arrow.Schema, env exec.Env) (exec.Operator, error) {
	cl, err := p.get(addr)
	if err != nil {
		return nil, err
	}
	tk, _ := json.Marshal(t)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := cl.DoGet(ctx, &flight.Ticket{Ticket: tk})
	if err != nil {
		cancel()
		return nil, remoteError(err)
	}
	rd, err := flight.NewRecordReader(stream, ipc.WithAllocator(env.Alloc))
	if err != nil {
		cancel()
		return nil, remoteError(err)
	}
	return &remoteOutput{schema: schema, rd: rd, cancel: cancel, addr: addr}, nil
}

func (r *remoteOutput) Schema() *arrow.Schema { return r.schema }

func (r *remoteOutput) Next(ctx context.Context) (arrow.Record, error) {
	if r.closed {
		return nil, errors.New("internal: remote output: Next after Close")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.rd.Next() {
		return r.rd.RecordBatch(), nil
	}
	if err := r.rd.Err(); err != nil {
		return nil, fmt.Errorf("reading from worker %s: %w", r.addr, remoteError(err))
	}
	return nil, io.EOF
}

func (r *remoteOutput) Close() error {
	if !r.closed {
		r.closed = true
		r.rd.Release()
		r.cancel()
	}
	return nil
}

// coordService is the coordinator's Flight service: Flight SQL for
// clients, plus the control actions of workers.
type coordService struct {
	flight.FlightServer
	c *Coordinator
}

func (s *coordService) DoAction(a *flight.Action, stream flight.FlightService_DoActionServer) error {
	switch a.Type {
	case actionRegister:
		return s.c.serveWorker(a.Body, stream)
	case actionHeartbeat:
		var m heartbeatMsg
		if err := json.Unmarshal(a.Body, &m); err != nil {
			return status.Errorf(codes.InvalidArgument, "bad heartbeat: %v", err)
		}
		known := false
		if !s.c.call(func() {
			if s.c.conns[m.Name] != nil && s.c.sched.Alive(m.Name) {
				known = true
				s.c.apply(s.c.sched.Step(Heartbeat{Worker: m.Name}))
			}
		}) {
			return status.Error(codes.Unavailable, "coordinator shutting down")
		}
		return sendJSON(stream, heartbeatReply{Known: known})
	case actionPing:
		// Answered here, not on the loop: it tells a waiting client that
		// this process still runs (see Client.watch).
		return sendJSON(stream, struct{}{})
	case actionReport:
		var m reportMsg
		if err := json.Unmarshal(a.Body, &m); err != nil {
			return status.Errorf(codes.InvalidArgument, "bad report: %v", err)
		}
		if !s.c.call(func() { s.c.apply(s.c.sched.Step(m.event())) }) {
			return status.Error(codes.Unavailable, "coordinator shutting down")
		}
		return sendJSON(stream, struct{}{})
	}
	return s.FlightServer.DoAction(a, stream)
}

func (s *coordService) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	if handled, err := s.c.sql.doGet(t, stream); handled {
		return err
	}
	return s.FlightServer.DoGet(t, stream)
}

func sendJSON(stream flight.FlightService_DoActionServer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return stream.Send(&flight.Result{Body: b})
}

// serveWorker registers a worker and keeps its command stream open until
// the worker goes away or the coordinator drops it.
func (c *Coordinator) serveWorker(body []byte, stream flight.FlightService_DoActionServer) error {
	var m registerMsg
	if err := json.Unmarshal(body, &m); err != nil || m.Name == "" || m.Addr == "" {
		return status.Errorf(codes.InvalidArgument, "bad registration %q", body)
	}
	out := newOutbox()
	var regErr error
	if !c.call(func() {
		switch {
		case c.closing:
			regErr = status.Error(codes.Unavailable, "coordinator shutting down")
		case c.conns[m.Name] != nil:
			regErr = status.Errorf(codes.AlreadyExists, "worker %s is already registered", m.Name)
		default:
			c.addrMu.Lock()
			c.addrs[m.Name] = m.Addr
			c.addrMu.Unlock()
			c.conns[m.Name] = &workerConn{name: m.Name, out: out, slots: m.Slots, jobs: map[string]bool{}}
			c.logf("worker %s up with %d slot(s)", m.Name, max(m.Slots, 1))
			c.apply(c.sched.Step(WorkerUp{Worker: m.Name, Slots: m.Slots}))
		}
	}) {
		return status.Error(codes.Unavailable, "coordinator shutting down")
	}
	if regErr != nil {
		return regErr
	}
	gone := func(why string) {
		c.call(func() {
			if wc := c.conns[m.Name]; wc != nil && wc.out == out {
				delete(c.conns, m.Name)
				c.logf("worker %s down: %s", m.Name, why)
				c.apply(c.sched.Step(WorkerDown{Worker: m.Name}))
			}
		})
	}
	hb := c.cfg.Scheduler.HeartbeatTimeout / 4
	if err := sendJSON(stream, command{Op: "welcome", HeartbeatMillis: max(hb.Milliseconds(), 10)}); err != nil {
		gone("lost the connection")
		return err
	}
	ctx := stream.Context()
	for {
		cmd, ok := out.next(ctx)
		if !ok {
			if ctx.Err() != nil {
				gone("lost the connection")
				return ctx.Err()
			}
			return status.Error(codes.Unavailable, "the coordinator dropped this worker; register again")
		}
		if err := sendJSON(stream, cmd); err != nil {
			gone("lost the connection")
			return err
		}
	}
}

// outbox is an unbounded queue of commands for one worker, so the loop
// never waits on a slow connection.
type outbox struct {
	mu     sync.Mutex
	q      []command
	wake   chan struct{}
	closed bool
}

func newOutbox() *outbox { return &outbox{wake: make(chan struct{}, 1)} }

func (o *outbox) push(c command) {
	o.mu.Lock()
	if !o.closed {
		o.q = append(o.q, c)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// next waits for the next command; false when closed or ctx is done.
func (o *outbox) next(ctx context.Context) (command, bool) {
	for {
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			return command{}, false
		}
		if len(o.q) > 0 {
			c := o.q[0]
			o.q = o.q[1:]
			o.mu.Unlock()
			return c, true
		}
		o.mu.Unlock()
		select {
		case <-o.wake:
		case <-ctx.Done():
			return command{}, false
		}
	}
}
