package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/internal/slt"
)

// sltEngine runs sqllogictest records on a quern DB.
type sltEngine struct{ db *quern.DB }

func (e sltEngine) Exec(ctx context.Context, sql string) (array.RecordReader, error) {
	rs, err := e.db.Run(ctx, sql)
	if err != nil {
		return nil, err
	}
	if rs.Schema().NumFields() == 0 {
		for rs.Next() {
		}
		err := rs.Err()
		rs.Release()
		return nil, err
	}
	return rs, nil
}

// runSLT is `quern slt FILE…`: each file runs on a fresh engine, and the
// summary ends with the line "N passed, N failed, N skipped".
func runSLT(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quern slt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := fs.Int("workers", 0, "number of workers (default: number of cores)")
	known := fs.String("known", "", "known-differences `FILE` (records listed there are skipped with their reason)")
	verbose := fs.Bool("v", false, "list every failure and skip")
	maxFail := fs.Int("max-failures", 10, "failures to show per run")
	timeout := fs.Duration("timeout", time.Minute, "limit per record")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: quern slt [flags] FILE...")
		return 2
	}
	opts := slt.Options{MaxFailures: *maxFail, Timeout: *timeout}
	if *known != "" {
		k, err := slt.LoadKnown(*known)
		if err != nil {
			fmt.Fprintf(stderr, "quern: %v\n", err)
			return 2
		}
		opts.Known = k
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var total slt.Result
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "quern: %v\n", err)
			return 1
		}
		records, err := slt.Parse(path, f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "quern: %v\n", err)
			return 1
		}
		cfg := quern.DefaultConfig()
		if *workers > 0 {
			cfg.Workers, cfg.Reducers = *workers, *workers
		}
		db, err := quern.Open(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "quern: %v\n", err)
			return 1
		}
		res := slt.Run(ctx, sltEngine{db}, records, opts)
		db.Close()
		total.Merge(res)
		if ctx.Err() != nil {
			break
		}
	}
	if err := slt.WriteSummary(stdout, &total, *verbose); err != nil {
		fmt.Fprintf(stderr, "quern: %v\n", err)
		return 1
	}
	if total.Total().Failed > 0 || total.Err != nil {
		return 1
	}
	return 0
}
