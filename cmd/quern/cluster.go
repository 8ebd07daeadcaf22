package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/internal/sandbox"
)

// The cluster subcommands (quern coordinator, quern worker) and the
// client flags (--cluster, --token, --tls-ca) of plain quern.

const coordinatorUsage = `usage: quern coordinator [flags]

Runs a cluster's coordinator: it answers Arrow Flight SQL clients (quern
--cluster HOST:PORT, or any Flight SQL client), plans their SQL and runs the
jobs on the workers that register with it.

flags:
`

const workerUsage = `usage: quern worker --coordinator HOST:PORT [flags]

Runs a cluster worker: it registers with the coordinator, runs the tasks it
is given, and serves its map outputs to other workers over Arrow Flight.
Input files must be readable at the same path as on the coordinator.

flags:
`

// securityFlags adds the flags every cluster process shares.
func securityFlags(fs *flag.FlagSet, server bool) func() cluster.Security {
	token := fs.String("token", "", "cluster `TOKEN` every RPC must carry (default: $QUERN_TOKEN)")
	ca := fs.String("tls-ca", "", "verify the servers this process dials with the CA in `FILE` (turns on TLS)")
	var insecure *bool
	var cert, key *string
	if server {
		insecure = fs.Bool("insecure", false, "allow listening on a non-loopback address without a token")
		cert = fs.String("tls-cert", "", "serve with TLS using the certificate in `FILE`")
		key = fs.String("tls-key", "", "the TLS certificate's key `FILE`")
	}
	return func() cluster.Security {
		s := cluster.Security{Token: *token, TLSCA: *ca}
		if s.Token == "" {
			s.Token = os.Getenv("QUERN_TOKEN")
		}
		if server {
			s.Insecure, s.TLSCert, s.TLSKey = *insecure, *cert, *key
		}
		return s
	}
}

// clusterClientFlags adds --cluster and its security flags to plain quern;
// the returned function points cfg at the cluster when one was given.
func clusterClientFlags(fs *flag.FlagSet) func(cfg *quern.Config) {
	addr := fs.String("cluster", "", "run statements on the cluster whose coordinator is at `HOST:PORT`")
	sec := securityFlags(fs, false)
	return func(cfg *quern.Config) {
		if *addr != "" {
			cfg.Cluster = *addr
			cfg.ClusterSecurity = sec()
		}
	}
}

// runClusterCommand runs `quern coordinator` or `quern worker`.
func runClusterCommand(name string, args []string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch name {
	case "coordinator":
		err = runCoordinator(ctx, args, stderr)
	case "worker":
		err = runWorker(ctx, args, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "quern %s: %v\n", name, err)
	return 1
}

var errUsage = errors.New("bad usage")

func parseFlags(fs *flag.FlagSet, usage string, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "quern: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

func runCoordinator(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("quern coordinator", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7700", "serve workers and clients at `HOST:PORT`")
	sec := securityFlags(fs, true)
	var dataDirs multiFlag
	fs.Var(&dataDirs, "data", "register each table file in `DIR` under its stem (repeatable)")
	reducers := fs.Int("reducers", 0, "number of reduce partitions R (default: number of cores)")
	splitSize := fs.Int64("split-size", 0, "input `BYTES` per map task (default 32 MiB)")
	batchSize := fs.Int("batch-size", 0, "rows per batch of the final merge (default 16384)")
	hbTimeout := fs.Duration("heartbeat-timeout", 5*time.Second, "declare a worker dead after this long without a heartbeat")
	maxAttempts := fs.Int("max-attempts", 4, "attempts of a task that fails transiently before the query fails")
	specMin := fs.Duration("speculation-min", time.Second, "a straggler runs at least this long before it gets a backup")
	noSpec := fs.Bool("no-speculation", false, "never launch backup attempts")
	quiet := fs.Bool("quiet", false, "do not log worker, task and job events")
	useLimits := limitFlags(fs, true)
	if err := parseFlags(fs, coordinatorUsage, args, stderr); err != nil {
		return err
	}
	cfg := quern.DefaultConfig()
	if *reducers > 0 {
		cfg.Reducers = *reducers
	}
	if *splitSize > 0 {
		cfg.SplitSize = *splitSize
	}
	if *batchSize > 0 {
		cfg.BatchSize = *batchSize
	}
	cfg.DataDirs = dataDirs
	useLimits(&cfg)
	cc := cluster.CoordinatorConfig{Listen: *listen, Security: sec()}
	cc.Scheduler = cluster.DefaultConfig()
	cc.Scheduler.HeartbeatTimeout = *hbTimeout
	cc.Scheduler.MaxAttempts = *maxAttempts
	cc.Scheduler.SpeculationMin = *specMin
	cc.Scheduler.DisableSpeculation = *noSpec
	logger := log.New(stderr, "", log.Ltime|log.Lmicroseconds)
	if !*quiet {
		cc.Log = logger
	}
	c, err := quern.NewCoordinator(cfg, cc)
	if err != nil {
		return err
	}
	logger.Printf("coordinator listening on %s", c.Addr())
	served := make(chan error, 1)
	go func() { served <- c.Serve() }()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	c.Close()
	return err
}

func runWorker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("quern worker", flag.ContinueOnError)
	coord := fs.String("coordinator", "", "the coordinator's `HOST:PORT` (required)")
	listen := fs.String("listen", "127.0.0.1:0", "serve map outputs at `HOST:PORT` (port 0: any free port)")
	advertise := fs.String("advertise", "", "`HOST:PORT` other processes reach this worker at (default: the listen address)")
	dir := fs.String("dir", "", "keep intermediate files under `PATH` (default: a temporary directory)")
	slots := fs.Int("slots", 1, "tasks run at once")
	sec := securityFlags(fs, true)
	quiet := fs.Bool("quiet", false, "do not log registrations and task failures")
	allowDirs := allowDirFlag(fs, true, "tasks")
	if err := parseFlags(fs, workerUsage, args, stderr); err != nil {
		return err
	}
	if *coord == "" {
		fmt.Fprintln(stderr, "quern worker: give --coordinator HOST:PORT")
		return errUsage
	}
	logger := log.New(stderr, "", log.Ltime|log.Lmicroseconds)
	wc := cluster.WorkerConfig{
		Coordinator: *coord, Listen: *listen, Advertise: *advertise, Dir: *dir,
		Slots: *slots, Security: sec(),
	}
	access, err := sandbox.New(allowDirs())
	if err != nil {
		return err
	}
	if access != nil {
		wc.Access = access
	}
	if !*quiet {
		wc.Log = logger
	}
	// A testing knob: delay matching tasks on this worker (see
	// cluster.ParseTaskDelay). Never set it in production.
	if spec := os.Getenv("QUERN_TEST_TASK_DELAY"); spec != "" {
		delay, err := cluster.ParseTaskDelay(spec)
		if err != nil {
			return fmt.Errorf("QUERN_TEST_TASK_DELAY: %w", err)
		}
		wc.TestingKnobs.TaskDelay = delay
	}
	// A testing knob: delay or fail this worker's reads of task inputs
	// (see cluster.ParseFetchFault), logging each fault it injects. Never
	// set it in production.
	if spec := os.Getenv("QUERN_TEST_FETCH_FAULT"); spec != "" {
		fault, err := cluster.ParseFetchFault(spec)
		if err != nil {
			return fmt.Errorf("QUERN_TEST_FETCH_FAULT: %w", err)
		}
		wc.TestingKnobs.FetchFault = func(a cluster.AttemptID, in cluster.InputLocation) (time.Duration, error) {
			d, err := fault(a, in)
			if d > 0 {
				logger.Printf("test knob: delaying the read of %s by %s for %v", in, a, d)
			}
			if err != nil {
				logger.Printf("test knob: %v", err)
			}
			return d, err
		}
	}
	w, err := cluster.NewWorker(wc)
	if err != nil {
		return err
	}
	logger.Printf("worker serving on %s, coordinator %s", w.Addr(), *coord)
	return w.Run(ctx)
}
