package quern

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/planner"
	"github.com/quernsql/quern/sql"
)

// Config sets up a DB.
type Config struct {
	// Workers is the number of in-process workers (default: the number of CPUs).
	Workers int
	// Reducers is R, the number of reduce partitions (default: Workers).
	Reducers int
	// BatchSize is the number of rows operators aim to put in a batch.
	BatchSize int
	// SplitSize is the number of input bytes one map task reads.
	SplitSize int64
	// TempDir holds the intermediate files of running jobs (default: the
	// system temp directory). Each job's files are removed when it ends.
	TempDir string
	// DataDirs are registered at Open: each table file in them is named by
	// its stem.
	DataDirs []string
	// AllowDirs confines the files SQL may read to these directories
	// (symbolic links and `..` resolved; see internal/sandbox): a query
	// naming a file elsewhere fails with "access denied". Empty: no
	// restriction (the embedded default; `quern coordinator` and `quern
	// worker` default to their working directory). "/" allows everything.
	AllowDirs []string
	// QueryTimeout, when positive, fails a statement that runs longer
	// (reading its result included) with a *QueryTimeoutError and cancels
	// its job on every worker.
	QueryTimeout time.Duration
	// MaxResultRows, when positive, fails a query whose result has more
	// rows with a *ResultRowsError (it is not truncated).
	MaxResultRows int64
	// BroadcastJoinBytes: a join whose right input reads at most this many
	// bytes is a broadcast (map-side) join, a larger one a reduce-side
	// join. Zero always broadcasts; negative never does.
	BroadcastJoinBytes int64
	// MemoryLimit is each query's memory budget in bytes: every hash
	// table, sort and join build side of the query reserves from it, and
	// aggregations and sorts spill to disk when it is reached; in the
	// local pool the query's result stays in memory within 30% of it
	// (past that, in files). It also bounds the local pool as a whole.
	// Default: 60% of the machine's memory; negative: no limit (and the
	// result goes to files). SET memory_limit changes it per session.
	MemoryLimit int64
	// ShuffleMemory is how many bytes of map outputs the local pool keeps
	// in memory instead of writing them to files (0: always files, the
	// result too); at most an eighth of MemoryLimit. They are held until
	// the job ends (a reduce task run again reads them again), so this is
	// kept small: files cost little once the page cache has them. The
	// query's result is not counted here: it stays in memory while the
	// query's memory limit allows (see MemoryLimit).
	ShuffleMemory int64
	// PoolKnobs are test hooks for the in-process pool (a slow worker, a
	// worker whose heartbeats stop); leave zero in production.
	PoolKnobs cluster.TestingKnobs
	// Allocator allocates Arrow memory (default: Go's allocator; tests use
	// a checked allocator to find leaks).
	Allocator memory.Allocator

	// Cluster, when set, is the HOST:PORT of a cluster coordinator: the DB
	// is then a client that sends every statement there, where it is
	// planned (against the coordinator's tables) and run on the workers.
	// ClusterSecurity carries the token and TLS settings for it.
	Cluster         string
	ClusterSecurity cluster.Security
	// Pool, when set, runs this DB's jobs instead of in-process workers:
	// the coordinator of a cluster plans with a DB whose Pool is itself
	// (see NewCoordinator).
	Pool cluster.JobPool
}

// DefaultConfig returns the configuration of the embedded default: a local,
// in-process pool with one worker per core.
func DefaultConfig() Config {
	n := runtime.GOMAXPROCS(0)
	return Config{Workers: n, Reducers: n, BatchSize: 16 * 1024, SplitSize: 32 << 20, ShuffleMemory: 32 << 20, BroadcastJoinBytes: 16 << 20, MemoryLimit: DefaultMemoryLimit()}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.Reducers <= 0 {
		c.Reducers = c.Workers
	}
	if c.BatchSize <= 0 {
		c.BatchSize = d.BatchSize
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = d.MemoryLimit
	}
	if c.SplitSize <= 0 {
		c.SplitSize = d.SplitSize
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.Allocator == nil {
		c.Allocator = memory.DefaultAllocator
	}
	return c
}

// DB is an open quern engine: a catalog, a session and a worker pool.
type DB struct {
	cfg     Config
	catalog *catalog
	engine  *engine
	mem     *memStore
	// writeMu serializes statements that change tables.
	writeMu sync.Mutex

	mu      sync.Mutex // guards session
	session *sql.Session

	remote *cluster.Client // Config.Cluster: statements run there
}

// Open starts an engine.
func Open(cfg Config) (*DB, error) {
	cfg = cfg.withDefaults()
	db := &DB{cfg: cfg, catalog: newCatalog(), mem: newMemStore(cfg.Allocator)}
	db.session = sql.NewSession(db.catalog)
	if err := db.useSandbox(); err != nil {
		return nil, err
	}
	if cfg.Cluster != "" {
		if len(cfg.DataDirs) > 0 {
			return nil, errRemoteRegister
		}
		if err := db.openRemote(); err != nil {
			return nil, err
		}
		return db, nil
	}
	for _, d := range cfg.DataDirs {
		if err := db.catalog.registerDir(d); err != nil {
			return nil, err
		}
	}
	e, err := newEngine(cfg, db.mem)
	if err != nil {
		return nil, err
	}
	db.engine = e
	e.confine(db.catalog.access)
	return db, nil
}

// Close stops the worker pool and removes the engine's temporary files.
func (db *DB) Close() error {
	if db.remote != nil {
		return db.remote.Close()
	}
	err := db.engine.close()
	db.mem.close()
	return err
}

// Config returns the configuration the DB runs with.
func (db *DB) Config() Config { return db.cfg }

// Tables lists the registered table names.
func (db *DB) Tables() []string {
	if db.remote != nil {
		return db.remoteTables()
	}
	return db.catalog.TableNames()
}

// TableSchema returns the columns of a table (registered, or a file path).
func (db *DB) TableSchema(name string) (*arrow.Schema, error) {
	if db.remote != nil {
		return db.remoteTableSchema(name)
	}
	t, err := db.catalog.Table(name)
	if err != nil {
		return nil, err
	}
	return t.Schema.Arrow(), nil
}

// RegisterFile names a file or glob as a table.
func (db *DB) RegisterFile(name, pattern string) error {
	if db.remote != nil {
		return errRemoteRegister
	}
	t, err := db.catalog.fileTable(pattern)
	if err != nil {
		return err
	}
	db.catalog.register(name, t)
	return nil
}

// RegisterDir registers each table file in dir under its stem.
func (db *DB) RegisterDir(dir string) error {
	if db.remote != nil {
		return errRemoteRegister
	}
	return db.catalog.registerDir(dir)
}

// Statements splits a script into its statements' texts.
func (db *DB) Statements(src string) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.session.Parse(src)
}

// Query runs one statement and returns its result as a stream of Arrow
// records. Statements without a result (SET) return a reader with no
// columns and no rows. EXPLAIN returns one VARCHAR column `plan`, a row per
// line. The caller must Release the reader; releasing it early cancels the
// job. Cancelling ctx cancels the job on every worker.
func (db *DB) Query(ctx context.Context, query string) (array.RecordReader, error) {
	rs, err := db.Run(ctx, query)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// Exec runs one statement and discards its rows.
func (db *DB) Exec(ctx context.Context, query string) error {
	rr, err := db.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rr.Release()
	for rr.Next() {
	}
	return rr.Err()
}

// Explain plans a query and returns the printed job without running it.
func (db *DB) Explain(ctx context.Context, query string) (string, error) {
	if db.remote != nil {
		return db.explainRemote(ctx, query)
	}
	st, err := db.bind(query)
	if err != nil {
		return "", err
	}
	q, ok := st.(*sql.Query)
	if !ok {
		return "", fmt.Errorf("EXPLAIN: not a query")
	}
	plan, err := db.resolveSubqueries(ctx, q.Plan)
	if err != nil {
		return "", err
	}
	job, err := db.planJob(plan)
	if err != nil {
		return "", err
	}
	return planner.Explain(job), nil
}

func (db *DB) bind(query string) (sql.Statement, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.session.Bind(query)
}

// planJob lowers a plan into a job carrying this session's run settings.
func (db *DB) planJob(plan planner.Node) (*planner.Job, error) {
	job, err := planner.Plan(plan, db.lowerConfig())
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	job.Run = planner.RunSettings{MemoryLimit: max(db.cfg.MemoryLimit, 0), BatchSize: db.cfg.BatchSize}
	db.mu.Unlock()
	return job, nil
}

func (db *DB) lowerConfig() planner.LowerConfig {
	db.mu.Lock()
	broadcast := db.cfg.BroadcastJoinBytes
	db.mu.Unlock()
	return planner.LowerConfig{Reducers: db.cfg.Reducers, Workers: db.cfg.Workers, SplitSize: db.cfg.SplitSize, MemSplitRows: 64 << 10, BroadcastBytes: broadcast}
}

// Result is the outcome of one statement: its rows as an Arrow record
// stream, and what running it took.
type Result struct {
	array.RecordReader
	// Stats describes the job once the result has been read to the end
	// (nil for statements that ran no job).
	Stats *JobStats
	// InputBytes is how many bytes of files the job's map tasks read.
	InputBytes int64
}

// Run runs one statement. It is Query with the job's statistics.
func (db *DB) Run(ctx context.Context, query string) (res *Result, err error) {
	ctx, lim := db.limit(ctx) // limits.go
	defer func() { res, err = lim.finish(res, err) }()
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("empty statement")
	}
	if db.remote != nil {
		return db.runRemote(ctx, query)
	}
	st, err := db.bind(query)
	if err != nil {
		return nil, err
	}
	switch s := st.(type) {
	case *sql.Query:
		plan, err := db.resolveSubqueries(ctx, s.Plan)
		if err != nil {
			return nil, err
		}
		job, err := db.planJob(plan)
		if err != nil {
			return nil, err
		}
		switch s.Explain {
		case sql.ExplainPlan:
			return &Result{RecordReader: textResult(db.cfg.Allocator, "plan", planner.Explain(job))}, nil
		case sql.ExplainAnalyze:
			return db.engine.explainAnalyze(ctx, job)
		}
		return db.engine.run(ctx, job)
	case *sql.SetVariable:
		if err := db.applySet(s); err != nil {
			return nil, err
		}
		return okResult(), nil
	case *sql.CreateTable:
		return db.createTable(ctx, s)
	case *sql.Insert:
		return db.insert(ctx, s)
	case *sql.DropTable:
		return db.dropTable(s)
	case *sql.ShowTables:
		return db.showTables(), nil
	case *sql.Describe:
		return db.describe(s.Table), nil
	}
	return nil, fmt.Errorf("internal: unhandled statement %T", st)
}

func emptyResult() array.RecordReader {
	rr, _ := array.NewRecordReader(arrow.NewSchema(nil, nil), nil)
	return rr
}

// TextResultKey marks (in the schema metadata) a result that is text meant
// to be printed as it is, a row per line, such as EXPLAIN's.
const TextResultKey = "quern.text"

// textResult makes a one-column VARCHAR result with a row per line.
func textResult(alloc memory.Allocator, name, text string) array.RecordReader {
	md := arrow.NewMetadata([]string{TextResultKey}, []string{"true"})
	schema := arrow.NewSchema([]arrow.Field{{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}}, &md)
	b := array.NewRecordBuilder(alloc, schema)
	defer b.Release()
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.Field(0).(*array.StringBuilder).Append(line)
	}
	rec := b.NewRecord()
	defer rec.Release()
	rr, _ := array.NewRecordReader(schema, []arrow.Record{rec})
	return rr
}

// ParseBytes reads a size as people write it (2GB, 512MB, 1.5GiB, a
// number of bytes), as --memory-limit and SET memory_limit take it.
func ParseBytes(s string) (int64, error) { return planner.ParseBytes(s) }
