package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// sqlService is the coordinator's Arrow Flight SQL front end. A statement
// runs in GetFlightInfo (so its errors, planning or execution, come back
// from that call, and a client that disconnects cancels its job); the
// FlightInfo's one ticket then streams the final merge, and its
// AppMetadata carries the job's statistics.
type sqlService struct {
	flightsql.BaseServer
	c *Coordinator

	mu       sync.Mutex
	q        Queryer
	results  map[string]*pendingResult
	prepared map[string]string // handle → query text
}

// pendingResult is a statement's result waiting for its DoGet.
type pendingResult struct {
	rr     array.RecordReader
	cancel context.CancelFunc
	timer  *time.Timer
}

func (s *sqlService) setQueryer(q Queryer) {
	s.mu.Lock()
	s.q = q
	s.mu.Unlock()
}

func (s *sqlService) attrs(err error) map[string]string {
	if s.c.cfg.ErrorAttrs == nil {
		return nil
	}
	return s.c.cfg.ErrorAttrs(err)
}

func (s *sqlService) queryer() (Queryer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.q == nil {
		return nil, status.Error(codes.Unavailable, "this coordinator does not answer SQL")
	}
	return s.q, nil
}

func newHandle() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *sqlService) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.runStatement(ctx, cmd.GetQuery(), desc)
}

// runStatement runs a statement and keeps its result for DoGet.
func (s *sqlService) runStatement(ctx context.Context, query string, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	q, err := s.queryer()
	if err != nil {
		return nil, err
	}
	// The statement outlives this call (its result is read by DoGet), so it
	// runs on its own context, cancelled if this call is.
	runCtx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	rr, stats, err := q.Query(runCtx, query)
	if !stop() {
		if err == nil {
			rr.Release()
		}
		cancel()
		return nil, status.Error(codes.Canceled, "the client went away")
	}
	if err != nil {
		cancel()
		return nil, statusOf(err, s.attrs(err))
	}
	key := newHandle()
	tk, err := flightsql.CreateStatementQueryTicket([]byte(key))
	if err != nil {
		rr.Release()
		cancel()
		return nil, status.Errorf(codes.Internal, "internal: ticket: %v", err)
	}
	p := &pendingResult{rr: rr, cancel: cancel}
	s.mu.Lock()
	s.results[key] = p
	p.timer = time.AfterFunc(s.c.cfg.ResultTTL, func() {
		if p := s.take(key); p != nil {
			p.drop()
		}
	})
	s.mu.Unlock()
	info := &flight.FlightInfo{
		Schema:           flight.SerializeSchema(rr.Schema(), memory.DefaultAllocator),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: tk}}},
		TotalRecords:     -1,
		TotalBytes:       -1,
		Ordered:          true,
	}
	if stats != nil {
		info.AppMetadata = encodeStats(*stats)
	}
	return info, nil
}

// exec runs a statement whose rows nobody reads (an update).
func (s *sqlService) exec(ctx context.Context, query string) (int64, error) {
	q, err := s.queryer()
	if err != nil {
		return 0, err
	}
	rr, _, err := q.Query(ctx, query)
	if err != nil {
		return 0, statusOf(err, s.attrs(err))
	}
	defer rr.Release()
	for rr.Next() {
	}
	if err := rr.Err(); err != nil {
		return 0, statusOf(err, s.attrs(err))
	}
	return 0, nil
}

func (s *sqlService) DoPutCommandStatementUpdate(ctx context.Context, cmd flightsql.StatementUpdate) (int64, error) {
	return s.exec(ctx, cmd.GetQuery())
}

// Prepared statements (which database/sql uses for Exec) are the query
// text kept under a handle; parameters are not supported.

func (s *sqlService) CreatePreparedStatement(_ context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	h := newHandle()
	s.mu.Lock()
	s.prepared[h] = req.GetQuery()
	s.mu.Unlock()
	return flightsql.ActionCreatePreparedStatementResult{Handle: []byte(h)}, nil
}

func (s *sqlService) ClosePreparedStatement(_ context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	s.mu.Lock()
	delete(s.prepared, string(req.GetPreparedStatementHandle()))
	s.mu.Unlock()
	return nil
}

func (s *sqlService) preparedQuery(handle []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.prepared[string(handle)]
	if !ok {
		return "", status.Error(codes.NotFound, "no such prepared statement")
	}
	return q, nil
}

func (s *sqlService) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	q, err := s.preparedQuery(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	return s.runStatement(ctx, q, desc)
}

func (s *sqlService) DoPutPreparedStatementQuery(context.Context, flightsql.PreparedStatementQuery, flight.MessageReader, flight.MetadataWriter) ([]byte, error) {
	return nil, status.Error(codes.Unimplemented, "quern does not support statement parameters; put the values in the SQL text")
}

func (s *sqlService) DoPutPreparedStatementUpdate(ctx context.Context, cmd flightsql.PreparedStatementUpdate, _ flight.MessageReader) (int64, error) {
	q, err := s.preparedQuery(cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, err
	}
	return s.exec(ctx, q)
}

func (s *sqlService) take(key string) *pendingResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.results[key]
	delete(s.results, key)
	if p != nil {
		p.timer.Stop()
	}
	return p
}

func (p *pendingResult) drop() {
	p.rr.Release()
	p.cancel()
}

func (s *sqlService) dropAll() {
	s.mu.Lock()
	all := s.results
	s.results = map[string]*pendingResult{}
	s.mu.Unlock()
	for _, p := range all {
		p.timer.Stop()
		p.drop()
	}
}

// doGet streams a statement's result; handled is false for tickets that
// are not statement handles of this service.
func (s *sqlService) doGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) (handled bool, err error) {
	tq, err := flightsql.GetStatementQueryTicket(t)
	if err != nil {
		return false, nil
	}
	p := s.take(string(tq.GetStatementHandle()))
	if p == nil {
		return true, status.Error(codes.NotFound, "no such statement result (it was already read, or expired)")
	}
	defer p.drop()
	// A client that goes away cancels the job's final merge.
	stop := context.AfterFunc(stream.Context(), p.cancel)
	defer stop()
	wr := flight.NewRecordWriter(stream, ipc.WithSchema(p.rr.Schema()))
	defer wr.Close()
	for p.rr.Next() {
		if err := wr.Write(p.rr.RecordBatch()); err != nil {
			return true, err
		}
	}
	if err := p.rr.Err(); err != nil {
		return true, statusOf(err, s.attrs(err))
	}
	return true, nil
}

// wireStats is JobStats as JSON: attempt errors travel as their text.
type wireStats struct {
	Stats JobStats `json:"stats"`
	Errs  []string `json:"errs,omitempty"`
}

func encodeStats(st JobStats) []byte {
	w := wireStats{Stats: st}
	w.Stats.Attempts = make([]AttemptRecord, len(st.Attempts))
	copy(w.Stats.Attempts, st.Attempts)
	for i := range w.Stats.Attempts {
		a := &w.Stats.Attempts[i]
		if a.Err != nil {
			if w.Errs == nil {
				w.Errs = make([]string, len(st.Attempts))
			}
			w.Errs[i] = a.Err.Error()
			a.Err = nil
		}
	}
	b, _ := json.Marshal(w)
	return b
}

func decodeStats(b []byte) (*JobStats, error) {
	var w wireStats
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	for i, e := range w.Errs {
		if e != "" && i < len(w.Stats.Attempts) {
			w.Stats.Attempts[i].Err = errors.New(e)
		}
	}
	return &w.Stats, nil
}

// Client runs SQL on a cluster's coordinator over Arrow Flight SQL.
type Client struct {
	addr string
	c    *flightsql.Client
}

// DialCoordinator returns a client of the coordinator at addr (it connects
// on first use).
func DialCoordinator(addr string, sec Security) (*Client, error) {
	opts, err := sec.dialOptions()
	if err != nil {
		return nil, err
	}
	c, err := flightsql.NewClient(addr, nil, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster coordinator %s: %w", addr, err)
	}
	return &Client{addr: addr, c: c}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// Query runs one statement and streams its result. Errors are
// *RemoteError (the coordinator's message and attributes) or say that the
// coordinator could not be reached. Cancelling ctx, or releasing the
// reader early, cancels the statement on the cluster.
func (c *Client) Query(ctx context.Context, sql string) (array.RecordReader, *JobStats, error) {
	wctx, stop := c.watch(ctx)
	wrap := func(err error) error {
		if cause := context.Cause(wctx); ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
			return cause // the coordinator stopped answering
		}
		return c.wrap(err)
	}
	info, err := c.c.Execute(wctx, sql)
	if err != nil {
		err = wrap(err)
		stop()
		return nil, nil, err
	}
	var stats *JobStats
	if len(info.AppMetadata) > 0 {
		if stats, err = decodeStats(info.AppMetadata); err != nil {
			stop()
			return nil, nil, fmt.Errorf("internal: job statistics from %s: %w", c.addr, err)
		}
	}
	if len(info.Endpoint) != 1 {
		stop()
		return nil, nil, fmt.Errorf("internal: coordinator %s returned %d endpoints", c.addr, len(info.Endpoint))
	}
	rd, err := c.c.DoGet(wctx, info.Endpoint[0].GetTicket())
	if err != nil {
		err = wrap(err)
		stop()
		return nil, nil, err
	}
	return &clientReader{rd: rd, schema: rd.Schema(), cancel: stop, wrap: wrap}, stats, nil
}

// A statement waits on the coordinator for as long as its job runs, and
// gRPC's keepalive cannot tell a frozen coordinator (SIGSTOP, a paused VM:
// its sockets stay open) from a busy one in under ~13 s, since client
// pings are floored at 10 s. So while a statement is in flight the client
// asks the coordinator every pingEvery whether it is still there, and
// gives up on the statement when nothing has answered for silentAfter.
const (
	pingEvery   = time.Second
	pingTimeout = 2 * time.Second
	silentAfter = 5 * time.Second
)

// watch returns ctx, cancelled with a *RemoteError (Unavailable) naming
// the coordinator once it stops answering pings; stop ends the watch and
// cancels the returned context (call it when the statement is done).
func (c *Client) watch(ctx context.Context) (_ context.Context, stop func()) {
	wctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			pctx, pcancel := context.WithTimeout(wctx, pingTimeout)
			err := doAction(pctx, c.c.Client, actionPing, struct{}{}, nil)
			pcancel()
			if answered(err) {
				last = time.Now()
				continue
			}
			if wctx.Err() != nil {
				return
			}
			if silent := time.Since(last); silent >= silentAfter {
				cancel(&RemoteError{Code: codes.Unavailable, Msg: fmt.Sprintf(
					"the cluster coordinator at %s stopped answering (nothing for %v); gave up on the statement",
					c.addr, silent.Round(time.Second))})
				return
			}
		}
	}()
	return wctx, func() { cancel(nil) }
}

// answered tells whether a ping got a reply: an error status the server
// sent (say, an older coordinator that does not know the action) counts.
func answered(err error) bool {
	if err == nil {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unknown:
		return false
	}
	return true
}

// wrap turns a call's error into a *RemoteError, saying so when the
// coordinator is unreachable.
func (c *Client) wrap(err error) error {
	err = remoteError(err)
	var re *RemoteError
	if errors.As(err, &re) && (re.Code == codes.Unavailable || re.Code == codes.DeadlineExceeded) {
		return &RemoteError{Code: re.Code, Msg: fmt.Sprintf("cannot reach the cluster coordinator at %s (%s)", c.addr, re.Msg), Attrs: re.Attrs}
	}
	return err
}

// clientReader streams a result from the coordinator.
type clientReader struct {
	refs   int64
	mu     sync.Mutex
	rd     *flight.Reader
	schema *arrow.Schema
	cancel context.CancelFunc
	wrap   func(error) error
	err    error
	done   bool
}

func (r *clientReader) Retain() {
	r.mu.Lock()
	r.refs++
	r.mu.Unlock()
}

func (r *clientReader) Release() {
	r.mu.Lock()
	r.refs--
	last := r.refs < 0 && r.rd != nil
	rd := r.rd
	if last {
		r.rd = nil
	}
	r.mu.Unlock()
	if last {
		rd.Release()
		r.cancel()
	}
}

func (r *clientReader) Schema() *arrow.Schema          { return r.schema }
func (r *clientReader) Record() arrow.RecordBatch      { return r.rd.RecordBatch() }
func (r *clientReader) RecordBatch() arrow.RecordBatch { return r.rd.RecordBatch() }
func (r *clientReader) Err() error                     { return r.err }

func (r *clientReader) Next() bool {
	if r.done {
		return false
	}
	if r.rd.Next() {
		return true
	}
	r.done = true
	if err := r.rd.Err(); err != nil {
		r.err = r.wrap(err)
	}
	r.cancel() // the stream is over: stop watching the coordinator
	return false
}
