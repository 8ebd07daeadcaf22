package cluster

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// This file is the wire between cluster processes: security (the cluster
// token on every RPC, TLS), gRPC options (keepalive, message sizes), the
// messages of the control protocol, and how errors keep their kind across
// the wire.
//
// The control protocol runs over Flight actions on the coordinator:
//
//	worker                                   coordinator
//	  | DoAction quern.register {name,addr,slots} |
//	  |------------------------------------------>|  WorkerUp
//	  |<----- stream: welcome, job, launch, ------|  (the stream stays open:
//	  |       kill, discard, forget ...           |   it is the command channel)
//	  | DoAction quern.heartbeat {name}  (own goroutine, every timeout/4)
//	  |------------------------------------------>|  Heartbeat
//	  | DoAction quern.report {attempt, outcome}  |
//	  |------------------------------------------>|  TaskSucceeded / TaskFailed
//
//	client                                   coordinator
//	  | GetFlightInfo (the statement runs), then DoGet (its rows)
//	  |------------------------------------------>|
//	  | DoAction quern.ping, every second while it waits (Client.watch)
//	  |------------------------------------------>|
//
// Map outputs move worker to worker (and worker to coordinator for the
// final merge) with Flight DoGet, the ticket naming job/attempt/partition.

// Security says how cluster processes and clients authenticate each other.
type Security struct {
	// Token is the cluster token every RPC must carry (as the gRPC
	// "authorization: Bearer TOKEN" header, which is what Flight SQL
	// clients send). Empty means no token is required or sent.
	Token string
	// Insecure allows listening on a non-loopback address without a token.
	Insecure bool
	// TLSCert and TLSKey are this process's certificate, to serve with TLS.
	TLSCert, TLSKey string
	// TLSCA verifies the servers this process dials. Dialing uses TLS when
	// TLSCA or TLSCert is set (with the system roots when TLSCA is empty).
	TLSCA string
}

// CheckListen refuses to listen on a non-loopback address without a token
// unless Insecure: an open port on a network would run anyone's queries and
// serve every intermediate file.
func (s Security) CheckListen(addr string) error {
	if s.Token != "" || s.Insecure {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without a cluster token: give --token (or set QUERN_TOKEN), or --insecure to allow it", addr)
}

func (s Security) serverTLS() (*tls.Config, error) {
	if s.TLSCert == "" && s.TLSKey == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("loading the TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func (s Security) clientTLS() (*tls.Config, error) {
	if s.TLSCA == "" && s.TLSCert == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSCA != "" {
		pem, err := os.ReadFile(s.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("reading the TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no PEM certificate in it", s.TLSCA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// maxMessage bounds one gRPC message: a record batch of a wide result, or
// a job with many splits, is well under it.
const maxMessage = 256 << 20

// Keepalive: servers ping idle clients and clients ping servers, so that a
// process that vanished without closing its sockets (power loss, a network
// partition) fails the calls waiting on it within seconds, not hours.
var (
	serverKeepalive = keepalive.ServerParameters{Time: 2 * time.Second, Timeout: 3 * time.Second}
	// Clients may not ping more often than every 10 s (gRPC raises lower
	// values); the policy must allow what clients do.
	clientKeepalive    = keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 3 * time.Second, PermitWithoutStream: true}
	keepalivePolicy    = keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}
	errUnauthenticated = status.Error(codes.Unauthenticated, "missing or wrong cluster token (give --token or set QUERN_TOKEN)")
)

// newGRPCServer returns a server that refuses calls without the token.
func newGRPCServer(sec Security) (*grpc.Server, error) {
	opts := []grpc.ServerOption{
		grpc.KeepaliveParams(serverKeepalive),
		grpc.KeepaliveEnforcementPolicy(keepalivePolicy),
		grpc.MaxRecvMsgSize(maxMessage),
		grpc.MaxSendMsgSize(maxMessage),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if !authorized(ctx, sec.Token) {
				return nil, errUnauthenticated
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if !authorized(ss.Context(), sec.Token) {
				return errUnauthenticated
			}
			return h(srv, ss)
		}),
	}
	tc, err := sec.serverTLS()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	return grpc.NewServer(opts...), nil
}

func authorized(ctx context.Context, token string) bool {
	if token == "" {
		return true
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if got, ok := strings.CutPrefix(v, "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
			return true
		}
	}
	return false
}

// tokenCreds sends the cluster token with every call.
type tokenCreds struct{ token string }

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + t.token}, nil
}
func (tokenCreds) RequireTransportSecurity() bool { return false }

// dialOptions are the options of every connection a cluster process or
// client opens.
func (s Security) dialOptions() ([]grpc.DialOption, error) {
	opts := []grpc.DialOption{
		grpc.WithKeepaliveParams(clientKeepalive),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)),
	}
	tc, err := s.clientTLS()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if s.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(tokenCreds{s.Token}))
	}
	return opts, nil
}

// dial opens a Flight client; gRPC connects lazily and reconnects by itself.
func dial(addr string, sec Security) (flight.Client, error) {
	opts, err := sec.dialOptions()
	if err != nil {
		return nil, err
	}
	c, err := flight.NewClientWithMiddleware(addr, nil, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	return c, nil
}

// peers caches one Flight client per address (workers fetch from each
// other, the coordinator from every worker for the final merge).
type peers struct {
	sec     Security
	mu      sync.Mutex
	clients map[string]flight.Client
}

func newPeers(sec Security) *peers { return &peers{sec: sec, clients: map[string]flight.Client{}} }

func (p *peers) get(addr string) (flight.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[addr]; c != nil {
		return c, nil
	}
	c, err := dial(addr, p.sec)
	if err != nil {
		return nil, err
	}
	p.clients[addr] = c
	return c, nil
}

func (p *peers) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, c := range p.clients {
		c.Close()
		delete(p.clients, a)
	}
}

// Action types of the control protocol.
const (
	actionRegister  = "quern.register"
	actionHeartbeat = "quern.heartbeat"
	actionReport    = "quern.report"
	// actionPing is a client's "are you still there?" while it waits on a
	// statement.
	actionPing = "quern.ping"
)

type registerMsg struct {
	Name  string `json:"name"`
	Addr  string `json:"addr"`
	Slots int    `json:"slots"`
}

type heartbeatMsg struct {
	Name string `json:"name"`
}

type heartbeatReply struct {
	// Known is false when the coordinator does not know the worker (it
	// restarted, or declared the worker dead): the worker registers again.
	Known bool `json:"known"`
}

// reportMsg is a finished attempt. The failure kind and the map task of a
// fetch failure travel as fields, not inside the message text, so that a
// fetch failure is still a fetch failure at the scheduler.
type reportMsg struct {
	Worker    string     `json:"worker"`
	Attempt   AttemptID  `json:"attempt"`
	OK        bool       `json:"ok"`
	Output    OutputInfo `json:"output"`
	Kind      int        `json:"kind,omitempty"` // FailureKind
	MapTask   *TaskID    `json:"map_task,omitempty"`
	MapWorker string     `json:"map_worker,omitempty"`
	Error     string     `json:"error,omitempty"`
}

func reportOf(worker string, a AttemptID, out OutputInfo, err error) reportMsg {
	if err == nil {
		return reportMsg{Worker: worker, Attempt: a, OK: true, Output: out}
	}
	ev := FailureFromError(a, worker, err)
	m := reportMsg{Worker: worker, Attempt: a, Kind: int(ev.Kind), Error: err.Error()}
	var te *TaskError
	if errors.As(err, &te) && te.Err != nil {
		m.Error = te.Err.Error() // the kind is in Kind; keep the plain message
	}
	if ev.Kind == FetchFailed {
		mt := ev.MapTask
		m.MapTask, m.MapWorker = &mt, ev.MapWorker
	}
	return m
}

// event rebuilds the scheduler event, with a *TaskError of the same kind
// in the error chain.
func (m reportMsg) event() Event {
	if m.OK {
		return TaskSucceeded{Attempt: m.Attempt, Worker: m.Worker, Output: m.Output}
	}
	te := &TaskError{Kind: FailureKind(m.Kind), MapWorker: m.MapWorker, Err: errors.New(m.Error)}
	if m.MapTask != nil {
		te.MapTask = *m.MapTask
	}
	return TaskFailed{Attempt: m.Attempt, Worker: m.Worker, Err: te, Kind: te.Kind, MapTask: te.MapTask, MapWorker: te.MapWorker}
}

// command is one message of the coordinator's command stream to a worker.
type command struct {
	Op string `json:"op"` // welcome, job, launch, kill, discard, forget

	HeartbeatMillis int64 `json:"heartbeat_ms,omitempty"` // welcome

	Job  string            `json:"job,omitempty"`  // job, forget
	Body json.RawMessage   `json:"body,omitempty"` // job: the encoded planner.Job, once per job and worker
	Mem  map[string][]byte `json:"mem,omitempty"`  // job: rows of the in-memory tables it scans

	Attempt *AttemptID    `json:"attempt,omitempty"` // launch, kill, discard
	Inputs  []remoteInput `json:"inputs,omitempty"`  // launch
}

// remoteInput is an InputLocation with the address its worker serves it at.
type remoteInput struct {
	InputLocation
	Addr string `json:"addr"`
}

// partitionTicket names one partition of an accepted output in DoGet.
type partitionTicket struct {
	Attempt   AttemptID `json:"attempt"`
	Partition int       `json:"partition"`
}

// RemoteError is an error that crossed the wire from a coordinator or
// worker: its message and the attributes the server attached to it (see
// CoordinatorConfig.ErrorAttrs), e.g. a SQL error's kind and position.
type RemoteError struct {
	Code  codes.Code
	Msg   string
	Attrs map[string]string
}

func (e *RemoteError) Error() string { return e.Msg }

const errorDomain = "quern"

// statusOf turns an error into a gRPC status carrying attrs.
func statusOf(err error, attrs map[string]string) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	st := status.New(code, err.Error())
	if len(attrs) > 0 {
		if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: "QUERN_ERROR", Domain: errorDomain, Metadata: attrs}); derr == nil {
			st = d
		}
	}
	return st.Err()
}

// remoteError reads an error returned by a call: a gRPC status becomes a
// *RemoteError with the server's message (not gRPC's "rpc error: code =
// ..." text), other errors are returned as they are.
func remoteError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	re := &RemoteError{Code: st.Code(), Msg: st.Message()}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == errorDomain {
			re.Attrs = info.Metadata
		}
	}
	return re
}

// doAction runs a unary control action and decodes its single result.
func doAction(ctx context.Context, c flight.Client, typ string, req, reply any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	stream, err := c.DoAction(ctx, &flight.Action{Type: typ, Body: body})
	if err != nil {
		return err
	}
	res, err := stream.Recv()
	if err != nil {
		return err
	}
	if reply != nil {
		if err := json.Unmarshal(res.Body, reply); err != nil {
			return fmt.Errorf("internal: %s reply: %w", typ, err)
		}
	}
	// Drain to the end so that the call finishes cleanly.
	for {
		if _, err := stream.Recv(); err != nil {
			break
		}
	}
	return nil
}
