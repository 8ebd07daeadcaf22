package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern"
)

// argKind says what a dot command's argument is, for completion.
type argKind int

const (
	argNone argKind = iota
	argFile
	argDir
	argTable
	argMode
	argOnOff
	argSQL
)

// dotCommand is one of the shell's own commands, typed as ".name arg".
type dotCommand struct {
	name string
	args string // the argument's usage, "" for none
	help string
	arg  argKind
	run  func(s *shell, ctx context.Context, arg string) error
}

// dotCommands is the table .help prints and completion offers, in the
// order shown. It is filled in init because .help reads it.
var dotCommands []dotCommand

func init() {
	dotCommands = []dotCommand{
		{"help", "", "show this list", argNone, (*shell).dotHelp},
		{"tables", "", "list the registered tables", argNone, (*shell).dotTables},
		{"schema", "[TABLE]", "show the columns of TABLE (a name or a `file path`), or of every table", argTable, (*shell).dotSchema},
		{"mode", "MODE", "set the output mode: " + strings.Join(formatNames[:], ", "), argMode, (*shell).dotMode},
		{"headers", "on|off", "show column names in csv and tsv output", argOnOff, (*shell).dotHeaders},
		{"timer", "on|off", "show rows, time and tasks after each result", argOnOff, (*shell).dotTimer},
		{"read", "FILE", "run the statements in FILE", argFile, (*shell).dotRead},
		{"output", "[FILE]", "write results to FILE, or to the terminal again without FILE", argFile, (*shell).dotOutput},
		{"explain", "QUERY", "show the MapReduce job QUERY compiles to, without running it", argSQL, (*shell).dotExplain},
		{"open", "DIR", "register each table file in DIR under its name without extension", argDir, (*shell).dotOpen},
		{"workers", "", "show the worker pool", argNone, (*shell).dotWorkers},
		{"cluster", "ADDR|local", "run statements on the cluster whose coordinator is at ADDR, or locally again", argNone, (*shell).dotCluster},
		{"quit", "", "leave the shell (also .exit or Ctrl-D)", argNone, (*shell).dotQuit},
		{"exit", "", "", argNone, (*shell).dotQuit},
	}
}

func lookupDot(name string) *dotCommand {
	for i := range dotCommands {
		if dotCommands[i].name == name {
			return &dotCommands[i]
		}
	}
	return nil
}

// dotCommand runs a line that starts with '.'.
func (s *shell) dotCommand(ctx context.Context, line string) {
	name, arg, _ := strings.Cut(strings.TrimPrefix(line, "."), " ")
	arg = strings.TrimSpace(arg)
	arg = strings.TrimSpace(strings.TrimRight(arg, ";"))
	cmd := lookupDot(strings.ToLower(name))
	if cmd == nil {
		fmt.Fprintf(s.stderr, "Error: unknown command .%s; .help lists the commands\n", name)
		return
	}
	if err := cmd.run(s, ctx, arg); err != nil {
		fmt.Fprintf(s.stderr, "Error: .%s: %v\n", cmd.name, err)
	}
}

func (s *shell) dotHelp(ctx context.Context, arg string) error {
	var b strings.Builder
	width := 0
	for _, c := range dotCommands {
		width = max(width, len(c.name)+1+len(c.args))
	}
	for _, c := range dotCommands {
		if c.help == "" {
			continue
		}
		use := "." + c.name
		if c.args != "" {
			use += " " + c.args
		}
		fmt.Fprintf(&b, "%-*s  %s\n", width+1, use, c.help)
	}
	b.WriteString("\nEnd SQL statements with ';' (they may span lines). A file path in backquotes is a table:\n" +
		"  SELECT word, count(*) AS n FROM `book.txt` GROUP BY word ORDER BY n DESC LIMIT 10;\n" +
		"Tab completes keywords, tables, columns and file paths; Ctrl-C cancels a running query; Ctrl-D leaves.\n")
	_, err := io.WriteString(s.stdout, b.String())
	return err
}

func (s *shell) dotTables(ctx context.Context, arg string) error {
	names := s.db.Tables()
	if len(names) == 0 {
		fmt.Fprintln(s.stderr, "No tables registered: use .open DIR, or query a file directly: SELECT * FROM `data.csv`;")
		return nil
	}
	_, err := io.WriteString(s.stdout, strings.Join(names, "\n")+"\n")
	return err
}

func (s *shell) dotSchema(ctx context.Context, arg string) error {
	names := s.db.Tables()
	if arg != "" {
		names = []string{strings.Trim(arg, "`")}
	}
	var b strings.Builder
	for _, name := range names {
		schema, err := s.db.TableSchema(name)
		if err != nil {
			return err
		}
		b.WriteString(describeTable(name, schema))
	}
	_, err := io.WriteString(s.out, b.String())
	return err
}

// describeTable prints a table's columns as a CREATE TABLE statement.
func describeTable(name string, schema *arrow.Schema) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + quoteName(name) + " (\n")
	for i, f := range schema.Fields() {
		b.WriteString("  " + quoteName(f.Name) + " " + SQLTypeName(f.Type))
		if i < schema.NumFields()-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(");\n")
	return b.String()
}

// quoteName backquotes a name unless it is a plain identifier.
func quoteName(name string) string {
	plain := name != ""
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// SQLTypeName returns the SQL name of the Arrow type quern uses for a SQL
// type (BIGINT for int64, DECIMAL(p,s) for decimal128(p,s), …), or the
// Arrow type's own name for types quern does not produce.
func SQLTypeName(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.Int64Type:
		return "BIGINT"
	case *arrow.Uint64Type:
		return "BIGINT UNSIGNED"
	case *arrow.Float64Type:
		return "DOUBLE"
	case *arrow.Decimal128Type:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case *arrow.StringType, *arrow.LargeStringType, *arrow.BinaryType:
		return "VARCHAR"
	case *arrow.BooleanType:
		return "BOOLEAN"
	case *arrow.Date32Type, *arrow.Date64Type:
		return "DATE"
	case *arrow.TimestampType:
		return "DATETIME"
	case *arrow.NullType:
		return "NULL"
	}
	return strings.ToUpper(t.Name())
}

func (s *shell) dotMode(ctx context.Context, arg string) error {
	if arg == "" {
		_, err := fmt.Fprintf(s.stdout, "mode: %s\n", s.format)
		return err
	}
	f, err := ParseFormat(arg)
	if err != nil {
		return err
	}
	s.format = f
	return nil
}

func parseOnOff(arg string) (bool, error) {
	switch strings.ToLower(arg) {
	case "on", "yes", "true", "1":
		return true, nil
	case "off", "no", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("want on or off, not %q", arg)
}

func (s *shell) dotHeaders(ctx context.Context, arg string) error {
	on, err := parseOnOff(arg)
	if err == nil {
		s.headers = on
	}
	return err
}

func (s *shell) dotTimer(ctx context.Context, arg string) error {
	on, err := parseOnOff(arg)
	if err == nil {
		s.timer = on
	}
	return err
}

// dotRead runs a file of statements, reporting each failure with the
// file's name and line, and stops when a statement is cancelled.
func (s *shell) dotRead(ctx context.Context, arg string) error {
	if arg == "" {
		return errors.New("give a file: .read FILE")
	}
	path := expandHome(arg)
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	src := string(b)
	for _, st := range SplitStatements(src) {
		err := s.execute(ctx, st.SQL)
		if errors.Is(err, errCancelled) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			writeError(s.stderr, "Error: ", positioned(arg, src, st, err))
		}
	}
	return nil
}

func (s *shell) dotOutput(ctx context.Context, arg string) error {
	if err := s.closeOutput(); err != nil {
		return err
	}
	if arg == "" {
		return nil
	}
	f, err := os.Create(expandHome(arg))
	if err != nil {
		return err
	}
	s.out, s.outFile = f, f
	return nil
}

func (s *shell) dotExplain(ctx context.Context, arg string) error {
	if arg == "" {
		return errors.New("give a query: .explain SELECT …")
	}
	plan, err := s.db.Explain(ctx, arg)
	if err != nil {
		s.printError(arg, err)
		return nil
	}
	_, err = io.WriteString(s.out, plan)
	return err
}

func (s *shell) dotOpen(ctx context.Context, arg string) error {
	if arg == "" {
		return errors.New("give a directory: .open DIR")
	}
	before := map[string]bool{}
	for _, n := range s.db.Tables() {
		before[n] = true
	}
	if err := s.db.RegisterDir(expandHome(arg)); err != nil {
		return err
	}
	var added []string
	for _, n := range s.db.Tables() {
		if !before[n] {
			added = append(added, n)
		}
	}
	switch len(added) {
	case 0:
		fmt.Fprintf(s.stderr, "No new tables in %s (quern reads .csv, .tsv, .txt, .jsonl, .ndjson and .parquet files).\n", arg)
	default:
		fmt.Fprintf(s.stderr, "Registered %s: %s\n", plural(len(added), "table"), strings.Join(added, ", "))
	}
	return nil
}

func (s *shell) dotWorkers(ctx context.Context, arg string) error {
	cfg := s.db.Config()
	if cfg.Cluster != "" {
		_, err := fmt.Fprintf(s.stdout, "cluster: statements run on the coordinator at %s and its workers\n", cfg.Cluster)
		return err
	}
	_, err := fmt.Fprintf(s.stdout, "local pool: %s, %s, batches of %d rows, map splits of %s\n",
		plural(cfg.Workers, "worker"), plural(cfg.Reducers, "reduce partition"), cfg.BatchSize, formatBytes(cfg.SplitSize))
	return err
}

// dotCluster sends the next statements to a cluster's coordinator, or back
// to the session's own engine with "local"; without an argument it says
// where statements run.
func (s *shell) dotCluster(ctx context.Context, arg string) error {
	switch arg {
	case "":
		return s.dotWorkers(ctx, arg)
	case "local":
		s.useDB(s.home)
		fmt.Fprintln(s.stderr, "Statements run on the local pool.")
		return nil
	}
	cfg := s.home.Config()
	cfg.Cluster, cfg.Pool = arg, nil
	if cfg.ClusterSecurity.Token == "" {
		cfg.ClusterSecurity.Token = os.Getenv("QUERN_TOKEN")
	}
	db, err := quern.Open(cfg)
	if err != nil {
		return err
	}
	// Opening may not dial; a statement proves the coordinator answers.
	probe, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.Exec(probe, "SELECT 1"); err != nil {
		db.Close()
		return fmt.Errorf("%s: %w", arg, err)
	}
	s.useDB(db)
	fmt.Fprintf(s.stderr, "Statements run on the cluster at %s (.cluster local to come back).\n", arg)
	return nil
}

// useDB makes db the engine statements run on, closing the cluster client
// it replaces (the session's own engine is its caller's to close).
func (s *shell) useDB(db *quern.DB) {
	if s.db != s.home && s.db != db {
		s.db.Close()
	}
	s.db = db
}

func (s *shell) dotQuit(ctx context.Context, arg string) error {
	s.quit = true
	return nil
}

// expandHome replaces a leading "~/" with the home directory.
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}

// formatBytes prints a size with a binary unit: 512 B, 32 MiB, 1.5 GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}

// plural is "1 worker", "2 workers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
