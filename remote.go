package quern

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
	"github.com/quernsql/quern/sql"
)

// A cluster has two sides in this package. On the coordinator, a DB plans
// every statement against its own catalog and runs the jobs on the
// cluster's workers (Config.Pool, set by NewCoordinator); the final merge
// reads the last stage's outputs from the workers. On a client, a DB with
// Config.Cluster sends each statement to the coordinator over Flight SQL
// and streams the answer back; SQL errors keep their kind and position
// across the wire (ErrorAttrs), so scripts report them as local mode does.

// Coordinator is a cluster's coordinator with the DB that plans its SQL.
type Coordinator struct {
	*cluster.Coordinator
	db *DB
}

// NewCoordinator starts a coordinator listening at cc.Listen that answers
// Flight SQL clients with a DB of configuration cfg whose jobs run on the
// workers that register. Tables are cfg.DataDirs, file paths (which every
// worker must be able to read at the same path) and in-memory tables (their
// rows travel with each job). Serve it, and Close it when done.
func NewCoordinator(cfg Config, cc cluster.CoordinatorConfig) (*Coordinator, error) {
	cfg = cfg.withDefaults()
	if cc.Env.Alloc == nil {
		cc.Env = exec.Env{Alloc: cfg.Allocator, BatchSize: cfg.BatchSize}
	}
	cc.ErrorAttrs = ErrorAttrs
	c, err := cluster.NewCoordinator(cc)
	if err != nil {
		return nil, err
	}
	cfg.Pool = c
	cfg.Cluster = ""
	db, err := Open(cfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetQueryer(dbQueryer{db})
	return &Coordinator{Coordinator: c, db: db}, nil
}

// DB is the coordinator's own DB (its catalog and in-memory tables).
func (c *Coordinator) DB() *DB { return c.db }

// Close stops the coordinator and its DB.
func (c *Coordinator) Close() error {
	c.Coordinator.Close()
	return c.db.Close()
}

type dbQueryer struct{ db *DB }

func (q dbQueryer) Query(ctx context.Context, query string) (array.RecordReader, *JobStats, error) {
	res, err := q.db.Run(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	return res.RecordReader, res.Stats, nil
}

// runRemote runs a job on the cluster and merges its outputs here. If a
// final output cannot be opened or its first batch read (its worker died,
// or its file went, after the job finished: too late for the scheduler to
// re-run the task), the job runs once more.
func (e *engine) runRemote(ctx context.Context, id string, job *planner.Job) (*Result, error) {
	for try := 0; ; try++ {
		jobID := id
		if try > 0 {
			jobID = fmt.Sprintf("%s.%d", id, try)
		}
		outputs, stats, err := e.remote.RunJob(ctx, jobID, job, e.mem)
		if err != nil {
			e.remote.ReleaseJob(jobID)
			return nil, jobError(err)
		}
		cleanup := func() { e.remote.ReleaseJob(jobID) }
		env := exec.Env{Alloc: e.cfg.Allocator, BatchSize: e.cfg.BatchSize}
		op, err := cluster.FinalMerge(job, outputs, env, e.remote.OpenOutput(job))
		if err == nil {
			// The first batch pulls from every output a merge reads: a
			// lost one shows here, while the job can still run again.
			op, err = peek(ctx, op)
		}
		if err != nil {
			cleanup()
			var te *cluster.TaskError
			if try == 0 && ctx.Err() == nil && errors.As(err, &te) && te.Kind == cluster.FetchFailed {
				continue
			}
			return nil, err
		}
		return &Result{RecordReader: &resultReader{op: op, ctx: ctx, onClose: cleanup}, Stats: &stats}, nil
	}
}

func (db *DB) openRemote() error {
	c, err := cluster.DialCoordinator(db.cfg.Cluster, db.cfg.ClusterSecurity)
	if err != nil {
		return err
	}
	db.remote = c
	return nil
}

// runRemote sends a statement to the cluster's coordinator.
func (db *DB) runRemote(ctx context.Context, query string) (*Result, error) {
	rr, stats, err := db.remote.Query(ctx, query)
	if err != nil {
		return nil, fromRemote(err)
	}
	return &Result{RecordReader: rr, Stats: stats}, nil
}

func (db *DB) explainRemote(ctx context.Context, query string) (string, error) {
	res, err := db.runRemote(ctx, "EXPLAIN "+query)
	if err != nil {
		return "", err
	}
	defer res.Release()
	var b strings.Builder
	for res.Next() {
		rec := res.RecordBatch()
		if rec.NumCols() != 1 {
			return "", errors.New("EXPLAIN: not a query")
		}
		col, ok := rec.Column(0).(*array.String)
		if !ok {
			return "", fmt.Errorf("internal: EXPLAIN returned %s", rec.Column(0).DataType())
		}
		for i := 0; i < col.Len(); i++ {
			b.WriteString(col.Value(i))
			b.WriteByte('\n')
		}
	}
	return b.String(), res.Err()
}

// Attributes of a *sql.Error on the wire.
const (
	attrSQLKind = "sql.kind"
	attrSQLMsg  = "sql.msg"
	attrSQLLine = "sql.line"
	attrSQLCol  = "sql.col"
	attrSQLHint = "sql.hint"
)

// ErrorAttrs describes a SQL error for the wire (the coordinator's
// CoordinatorConfig.ErrorAttrs); other errors travel as their message.
func ErrorAttrs(err error) map[string]string {
	var e *sql.Error
	if !errors.As(err, &e) {
		return nil
	}
	return map[string]string{
		attrSQLKind: strconv.Itoa(int(e.Kind)),
		attrSQLMsg:  e.Msg,
		attrSQLLine: strconv.Itoa(e.Line),
		attrSQLCol:  strconv.Itoa(e.Col),
		attrSQLHint: e.Hint,
	}
}

// fromRemote rebuilds a SQL error that came back from the coordinator.
func fromRemote(err error) error {
	var re *cluster.RemoteError
	if !errors.As(err, &re) {
		return err
	}
	kind, ok := re.Attrs[attrSQLKind]
	if !ok {
		return err
	}
	k, _ := strconv.Atoi(kind)
	line, _ := strconv.Atoi(re.Attrs[attrSQLLine])
	col, _ := strconv.Atoi(re.Attrs[attrSQLCol])
	return &sql.Error{Kind: sql.ErrorKind(k), Msg: re.Attrs[attrSQLMsg], Line: line, Col: col, Hint: re.Attrs[attrSQLHint]}
}

// errRemoteRegister: a cluster client cannot name tables; the coordinator
// holds the catalog.
var errRemoteRegister = errors.New("the tables of a cluster are registered on its coordinator (quern coordinator --data DIR)")

// remoteTables lists the coordinator's tables (nil if it cannot be asked).
func (db *DB) remoteTables() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := db.runRemote(ctx, "SHOW TABLES")
	if err != nil {
		return nil
	}
	defer res.Release()
	var names []string
	for res.Next() {
		if col, ok := res.RecordBatch().Column(0).(*array.String); ok {
			for i := 0; i < col.Len(); i++ {
				names = append(names, col.Value(i))
			}
		}
	}
	return names
}

// remoteTableSchema asks the coordinator for a table's columns.
func (db *DB) remoteTableSchema(name string) (*arrow.Schema, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := db.runRemote(ctx, "SELECT * FROM `"+strings.ReplaceAll(name, "`", "``")+"` LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer res.Release()
	return res.Schema(), nil
}

// peek reads op's first batch now and returns an operator that gives it
// back first; on error op is closed.
func peek(ctx context.Context, op exec.Operator) (exec.Operator, error) {
	rec, err := op.Next(ctx)
	if err != nil && !errors.Is(err, io.EOF) {
		op.Close()
		return nil, err
	}
	p := &peeked{Operator: op, err: err}
	if err == nil {
		rec.Retain()
		p.first = rec
	}
	return p, nil
}

// peeked is an operator whose first batch (or end) was read ahead.
type peeked struct {
	exec.Operator
	first arrow.Record
	err   error // io.EOF when the operator had no batch at all
	given bool
}

func (p *peeked) Next(ctx context.Context) (arrow.Record, error) {
	if !p.given {
		p.given = true
		if p.err != nil {
			return nil, p.err
		}
		return p.first, nil
	}
	if p.first != nil {
		p.first.Release()
		p.first = nil
	}
	return p.Operator.Next(ctx)
}

func (p *peeked) Close() error {
	if p.first != nil {
		p.first.Release()
		p.first = nil
	}
	return p.Operator.Close()
}
