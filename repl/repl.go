package repl

// The interactive shell. One goroutine reads lines and runs what they
// complete; a second turns SIGINT into the cancel of the running statement:
//
//	line ─▶ dot command?  ─yes─▶ dotCommands table
//	          │ no
//	          ▼
//	        pending text ─▶ completeStatements ─▶ each ';'-ended statement:
//	                                                DB.Run(ctx) ─▶ ResultWriter ─▶ out
//	                                                  ▲ cancel on Ctrl-C (SIGINT)
//
// Only readline.go knows the line-editing library: the shell sees a
// lineReader, so tests type into it without a terminal.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/sql"
)

// ShellOptions configure an interactive session.
type ShellOptions struct {
	// Format is the initial output mode (.mode changes it).
	Format Format
	Writer WriterOptions
	// Timer turns the footer after each result on from the start.
	Timer bool
	// HistoryFile keeps the statements typed, one entry per statement, across
	// sessions ("" keeps none). DefaultHistoryFile gives ~/.quern_history.
	HistoryFile string
	// Stdout gets results, Stderr errors, messages and the progress line;
	// both default to the process's. Lines are read from the process's
	// standard input, which should be a terminal.
	Stdout, Stderr io.Writer
	// Progress shows a progress line on Stderr while a statement runs longer
	// than ProgressDelay (0: half a second). Turn it on only when Stderr is a
	// terminal: the line is redrawn with carriage returns.
	Progress      bool
	ProgressDelay time.Duration
	// Banner is printed to Stdout when the session starts ("" for none).
	Banner string
}

// DefaultHistoryFile returns ~/.quern_history, or "" when there is no home
// directory.
func DefaultHistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".quern_history")
}

// errInterrupt is what a lineReader returns when Ctrl-C is pressed while a
// line is being typed.
var errInterrupt = errors.New("interrupt")

// lineReader reads what a person types, a line at a time. Readline returns
// errInterrupt on Ctrl-C and io.EOF on Ctrl-D at an empty line.
type lineReader interface {
	Readline(prompt string) (string, error)
	// AddHistory records one entry (a whole statement, on one line).
	AddHistory(entry string)
	Close() error
}

const (
	primaryPrompt      = "quern> "
	continuationPrompt = "   ..> "
)

// RunShell runs an interactive session on a terminal until Ctrl-D, .quit
// or ctx ends. Statements run when a line completes them with ';'; Ctrl-C
// discards the line being typed, or cancels the running statement (the
// process ignores SIGINT for the session's length otherwise). Errors are
// printed and the session goes on; RunShell returns an error only when the
// terminal cannot be used.
func RunShell(ctx context.Context, db *quern.DB, opts ShellOptions) error {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	s := newShell(db, opts)
	in, err := newTerminalReader(opts, s.complete)
	if err != nil {
		return err
	}
	s.in = in
	defer in.Close()

	// While a statement runs the terminal is in cooked mode and Ctrl-C is
	// SIGINT; while a line is typed readline reads it as a key instead.
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt)
	done := make(chan struct{})
	defer func() {
		signal.Stop(sigc)
		close(done)
	}()
	go func() {
		for {
			select {
			case <-sigc:
				s.interrupt()
			case <-done:
				return
			}
		}
	}()
	if opts.Banner != "" {
		io.WriteString(opts.Stdout, opts.Banner)
	}
	s.loop(ctx)
	return nil
}

// shell is the state of one interactive session: the settings dot commands
// change, the statement being typed, and the running statement's cancel.
type shell struct {
	db     *quern.DB // where statements run: home, or a cluster client (.cluster)
	home   *quern.DB // the engine the session was started with
	opts   ShellOptions
	in     lineReader
	stdout io.Writer // the terminal
	stderr io.Writer

	format  Format
	headers bool
	timer   bool
	out     io.Writer // results: stdout or the .output file
	outFile *os.File

	pending string // lines of an unfinished statement, each ending in '\n'
	quit    bool

	mu      sync.Mutex
	cancel  context.CancelFunc // of the running statement, nil when idle
	stopped bool               // the running statement was cancelled by Ctrl-C
}

func newShell(db *quern.DB, opts ShellOptions) *shell {
	if opts.ProgressDelay <= 0 {
		opts.ProgressDelay = defaultProgressDelay
	}
	return &shell{
		db: db, home: db, opts: opts,
		stdout: opts.Stdout, stderr: opts.Stderr, out: opts.Stdout,
		format: opts.Format, headers: !opts.Writer.NoHeader, timer: opts.Timer,
	}
}

// loop reads lines until the input ends or .quit.
func (s *shell) loop(ctx context.Context) {
	defer s.closeOutput()
	defer s.useDB(s.home)
	for !s.quit && ctx.Err() == nil {
		prompt := primaryPrompt
		if s.pending != "" {
			prompt = continuationPrompt
		}
		line, err := s.in.Readline(prompt)
		switch {
		case errors.Is(err, errInterrupt):
			s.pending = ""
			continue
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			fmt.Fprintf(s.stderr, "Error: reading input: %v\n", err)
			return
		}
		s.handleLine(ctx, line)
	}
}

// handleLine takes one typed line: a dot command when no statement is
// pending, or more of a statement, which runs once a ';' ends it.
func (s *shell) handleLine(ctx context.Context, line string) {
	if s.pending == "" {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, ".") {
			s.in.AddHistory(trimmed)
			s.dotCommand(ctx, trimmed)
			return
		}
		switch strings.ToLower(strings.TrimRight(trimmed, "; \t")) {
		case "exit", "quit":
			// What mysql and psql users type first.
			s.quit = true
			return
		}
	}
	s.pending += line + "\n"
	done, rest := completeStatements(s.pending)
	if len(done) == 0 {
		if isBlank(s.pending) {
			s.pending = ""
		}
		return
	}
	s.in.AddHistory(historyEntry(s.pending[:len(s.pending)-len(rest)]))
	s.pending = rest
	if isBlank(s.pending) {
		s.pending = ""
	}
	for _, st := range done {
		err := s.execute(ctx, st.SQL)
		if errors.Is(err, errCancelled) || ctx.Err() != nil {
			return // Ctrl-C stops the rest of the line too
		}
		if err != nil {
			s.printError(st.SQL, err)
		}
	}
}

// completeStatements returns the statements of src that a ';' ends and the
// text after the last such ';'.
func completeStatements(src string) (done []Statement, rest string) {
	end := 0
	for _, st := range SplitStatements(src) {
		after := st.Offset + len(st.SQL)
		k := after
		for k < len(src) && isSpace(src[k]) {
			k++
		}
		if k == len(src) || src[k] != ';' {
			break // the last statement, not ended yet
		}
		done = append(done, st)
		end = k + 1
	}
	if len(done) == 0 {
		return nil, src
	}
	// A lone ';' (an empty statement) is consumed too.
	return done, src[end:]
}

// isBlank reports whether src holds nothing but white space, comments and
// semicolons.
func isBlank(src string) bool {
	if len(SplitStatements(src)) > 0 {
		return false
	}
	return true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// errCancelled is execute's error for a statement Ctrl-C cancelled (the
// shell has said so already).
var errCancelled = errors.New("cancelled")

// execute runs one statement and prints its result and, with .timer on,
// the footer. It returns the statement's error for the caller to show with
// the position it knows, or errCancelled after saying the statement was
// cancelled.
func (s *shell) execute(ctx context.Context, text string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.cancel, s.stopped = cancel, false
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
	}()

	start := time.Now()
	var prog *progress
	if s.opts.Progress {
		prog = startProgress(s.stderr, s.opts.ProgressDelay, jobStatus(s.db, start))
	}
	rs, err := s.db.Run(ctx, text)
	prog.Stop()
	var o outcome
	if err == nil {
		w := NewResultWriter(s.out, s.format, s.writerOptions())
		o, err = writeResult(rs, w)
	}
	elapsed := time.Since(start)
	if err != nil {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped || errors.Is(err, context.Canceled) {
			fmt.Fprintf(s.stderr, "Cancelled after %s.\n", formatDuration(elapsed))
			return errCancelled
		}
		return err
	}
	noteSkipped(s.stderr, o)
	if s.timer {
		fmt.Fprintln(s.stdout, footer(o, elapsed))
	}
	return nil
}

// interrupt is Ctrl-C while a statement runs: cancel it.
func (s *shell) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.stopped = true
		s.cancel()
	}
}

func (s *shell) writerOptions() WriterOptions {
	o := s.opts.Writer
	o.NoHeader = !s.headers
	return o
}

// printError shows err, and the statement's line with a caret under the
// error's position when it has one.
func (s *shell) printError(text string, err error) {
	msg := "Error: " + err.Error() + "\n"
	if c := sql.Caret(text, err); c != "" {
		msg += indent(c, "  ") + "\n"
	}
	io.WriteString(s.stderr, msg)
}

// footer is the line shown after a result with .timer on:
// "20 rows · 1.84 s · 1.02 GB scanned · 16 map / 4 reduce tasks".
func footer(o outcome, elapsed time.Duration) string {
	var b strings.Builder
	if o.rows == 1 {
		b.WriteString("1 row")
	} else {
		b.WriteString(strconv.FormatInt(o.rows, 10) + " rows")
	}
	b.WriteString(" · " + formatDuration(elapsed))
	if o.scanned > 0 {
		b.WriteString(" · " + humanBytes(float64(o.scanned)) + " scanned")
	}
	if o.stats != nil && len(o.stats.Stages) > 0 {
		b.WriteString(" · " + taskSummary(o.stats))
		if n := o.stats.Spilled(); n > 0 {
			b.WriteString(" · " + humanBytes(float64(n)) + " spilled")
		}
	}
	return b.String()
}

// taskSummary counts tasks by kind. A job's first stage reads the input
// (map); every later stage reads shuffled partitions (reduce).
func taskSummary(st *quern.JobStats) string {
	mapTasks, reduceTasks, retried := 0, 0, 0
	for i, sg := range st.Stages {
		if i == 0 {
			mapTasks += sg.Tasks
		} else {
			reduceTasks += sg.Tasks
		}
		retried += sg.Launched - sg.Tasks
	}
	s, last := fmt.Sprintf("%d map", mapTasks), mapTasks
	if len(st.Stages) > 1 {
		s += fmt.Sprintf(" / %d reduce", reduceTasks)
		last = reduceTasks
	}
	if last == 1 {
		s += " task"
	} else {
		s += " tasks"
	}
	if retried > 0 {
		s += fmt.Sprintf(" (%d re-run)", retried)
	}
	return s
}

// formatDuration prints a duration the way people read a stopwatch: 84 ms,
// 1.84 s, 12.3 s, 2m05s.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// closeOutput ends a .output redirection.
func (s *shell) closeOutput() error {
	s.out = s.stdout
	if s.outFile == nil {
		return nil
	}
	err := s.outFile.Close()
	s.outFile = nil
	return err
}

// historyEntry turns the text of one or more statements into one history
// line that means the same: line breaks become spaces, a "-- " or "#"
// comment becomes /* … */ (so it does not swallow what follows once the
// lines are joined), and a line break inside a string becomes \n.
func historyEntry(src string) string {
	var b strings.Builder
	space := func() {
		if b.Len() > 0 && !isSpace(b.String()[b.Len()-1]) {
			b.WriteByte(' ')
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n' || c == '\r':
			space()
			i++
			for i < len(src) && isSpace(src[i]) {
				i++
			}
		case c == '#' || (c == '-' && strings.HasPrefix(src[i:], "--") && (i+2 == len(src) || isCommentSpace(src[i+2]))):
			end := skipLine(src, i)
			text := src[i+1 : end]
			if c == '-' {
				text = src[i+2 : end]
			}
			text = strings.TrimSpace(text)
			if !strings.Contains(text, "*/") && text != "" {
				space()
				b.WriteString("/* " + text + " */")
			}
			i = end
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := len(src)
			if k := strings.Index(src[i+2:], "*/"); k >= 0 {
				end = i + 2 + k + 2
			}
			b.WriteString(strings.Join(strings.Fields(src[i:end]), " "))
			i = end
		case c == '\'' || c == '"' || c == '`':
			end := skipQuoted(src, i, c, c != '`')
			for k := i; k < end; k++ {
				switch r := src[k]; {
				case r == '\n' && c != '`':
					b.WriteString(`\n`)
				case r == '\r' && c != '`':
					b.WriteString(`\r`)
				case r == '\n' || r == '\r':
					b.WriteByte(' ')
				default:
					b.WriteByte(r)
				}
			}
			i = end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return strings.TrimSpace(b.String())
}
