package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/repl"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

const usage = `usage: quern [flags] [-c SQL]... [-f FILE]
       quern slt [flags] FILE...
       quern coordinator [flags]
       quern worker --coordinator HOST:PORT [flags]

Runs SQL statements from -c, a file, or standard input, and prints results.
With a terminal on standard input and no -c or -f, starts the interactive
shell (type .help there). Exit status: 0 ok, 1 a statement failed, 2 bad usage.

flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "slt" {
		return runSLT(args[1:], stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "coordinator" || args[0] == "worker") {
		return runClusterCommand(args[0], args[1:], stderr)
	}
	fs := flag.NewFlagSet("quern", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var commands multiFlag
	var dataDirs multiFlag
	fs.Var(&commands, "c", "run `SQL` (repeatable; statements separated by ';')")
	file := fs.String("f", "", "run the statements in `FILE`")
	format := fs.String("format", "table", "output `format`: table, csv, tsv, json, jsonl, markdown, line")
	workers := fs.Int("workers", 0, "number of workers (default: number of cores)")
	reducers := fs.Int("reducers", 0, "number of reduce partitions R (default: workers)")
	fs.Var(&dataDirs, "data", "register each table file in `DIR` under its stem (repeatable)")
	bail := fs.Bool("bail", true, "stop at the first failing statement")
	noBail := fs.Bool("no-bail", false, "run every statement even after one fails (exit status 1 if any did)")
	echo := fs.Bool("echo", false, "print each statement before its result")
	csvOut := fs.Bool("csv", false, "shorthand for --format csv")
	jsonOut := fs.Bool("json", false, "shorthand for --format json")
	outPath := fs.String("o", "", "write results to `FILE` instead of standard output")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (for go tool pprof)")
	memLimit := fs.String("memory-limit", "", "each query's memory `SIZE` (e.g. 2GB, 512MB; -1: none); aggregations and sorts spill to disk past it (default: 60% of RAM)")
	useCluster := clusterClientFlags(fs)
	useLimits := limitFlags(fs, false)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "quern: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	switch {
	case *csvOut && *jsonOut:
		fmt.Fprintln(stderr, "quern: give --csv or --json, not both")
		return 2
	case *csvOut:
		*format = "csv"
	case *jsonOut:
		*format = "json"
	}
	if *noBail {
		*bail = false
	}
	f, err := repl.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "quern: %v\n", err)
		return 2
	}
	if len(commands) > 0 && *file != "" {
		fmt.Fprintln(stderr, "quern: give -c or -f, not both")
		return 2
	}

	type script struct{ name, src string }
	var scripts []script
	interactive := false
	switch {
	case len(commands) > 0:
		for _, c := range commands {
			scripts = append(scripts, script{"", c})
		}
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			fmt.Fprintf(stderr, "quern: %v\n", err)
			return 1
		}
		scripts = append(scripts, script{*file, string(b)})
	default:
		if isTerminal(os.Stdin) && stdin == os.Stdin {
			interactive = true
			break
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(stderr, "quern: reading standard input: %v\n", err)
			return 1
		}
		scripts = append(scripts, script{"<stdin>", string(b)})
	}

	cfg := quern.DefaultConfig()
	if *workers > 0 {
		cfg.Workers = *workers
		cfg.Reducers = *workers
	}
	if *reducers > 0 {
		cfg.Reducers = *reducers
	}
	cfg.DataDirs = dataDirs
	if *memLimit != "" {
		n, err := parseMemoryLimit(*memLimit)
		if err != nil {
			fmt.Fprintf(stderr, "quern: --memory-limit: %v\n", err)
			return 2
		}
		cfg.MemoryLimit = n
	}
	limitGoHeap(cfg.MemoryLimit)
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "quern: --cpuprofile: %v\n", err)
			return 2
		}
		defer stop()
	}
	useLimits(&cfg)
	useCluster(&cfg)
	db, err := quern.Open(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "quern: %v\n", err)
		return 1
	}
	defer db.Close()

	if *outPath != "" {
		out, err := os.Create(*outPath)
		if err != nil {
			fmt.Fprintf(stderr, "quern: %v\n", err)
			return 1
		}
		defer out.Close()
		stdout = out
	}
	if interactive {
		return runShell(db, f, stdout, stderr)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	failed := false
	for _, s := range scripts {
		errs := repl.RunScript(ctx, db, s.src, stdout, repl.BatchOptions{Format: f, Bail: *bail, Echo: *echo, Name: s.name, Errors: stderr, Progress: progressWriter(stderr)})
		if len(errs) > 0 {
			failed = true
			if *bail {
				break
			}
		}
	}
	if failed {
		return 1
	}
	return 0
}

// runShell is the interactive session; its statements' errors are shown
// and forgotten, so it exits 0.
func runShell(db *quern.DB, f repl.Format, stdout, stderr io.Writer) int {
	err := repl.RunShell(context.Background(), db, repl.ShellOptions{
		Format:      f,
		HistoryFile: repl.DefaultHistoryFile(),
		Stdout:      stdout,
		Stderr:      stderr,
		Progress:    progressWriter(stderr) != nil,
		Banner:      "quern: SQL over files, run as MapReduce jobs. Type .help for help; end statements with ';'.\n",
	})
	if err != nil {
		fmt.Fprintf(stderr, "quern: %v\n", err)
		return 1
	}
	return 0
}

// progressWriter is stderr when it is a terminal, for the progress line;
// nil otherwise.
func progressWriter(stderr io.Writer) io.Writer {
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		return f
	}
	return nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
