package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/quernsql/quern"
)

func init() { sql.Register("quern", Driver{}) }

// Driver is the database/sql driver registered as "quern".
type Driver struct{}

var (
	_ driver.Driver        = Driver{}
	_ driver.DriverContext = Driver{}
)

// Open opens an engine of its own for one connection, which Close stops.
// database/sql calls OpenConnector instead, so that connections share one
// engine.
func (Driver) Open(dsn string) (driver.Conn, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := quern.Open(cfg)
	if err != nil {
		return nil, err
	}
	return &Conn{db: db, owned: true}, nil
}

// OpenConnector parses dsn and opens the engine the connections share.
func (Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := quern.Open(cfg)
	if err != nil {
		return nil, err
	}
	return &connector{db: db, owned: true}, nil
}

// NewConnector returns a connector over an open engine, for
// sql.OpenDB(driver.NewConnector(db)). Closing the *sql.DB does not close
// db: its owner does.
func NewConnector(db *quern.DB) driver.Connector { return &connector{db: db} }

type connector struct {
	db    *quern.DB
	owned bool
	once  sync.Once
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Conn{db: c.db}, nil
}

func (c *connector) Driver() driver.Driver { return Driver{} }

// Close stops the engine sql.Open started (database/sql calls it from
// (*sql.DB).Close).
func (c *connector) Close() error {
	var err error
	if c.owned {
		c.once.Do(func() { err = c.db.Close() })
	}
	return err
}

// ParseDSN reads a data source name, "[DIR][?key=value&…]", into a
// configuration (see the package documentation for the keys).
func ParseDSN(dsn string) (quern.Config, error) {
	cfg := quern.DefaultConfig()
	dir, query, _ := strings.Cut(dsn, "?")
	if dir != "" {
		cfg.DataDirs = append(cfg.DataDirs, dir)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return cfg, fmt.Errorf("quern: bad data source name %q: %w", dsn, err)
	}
	workersSet, reducersSet := false, false
	for key, values := range params {
		for _, v := range values {
			var err error
			switch key {
			case "data":
				cfg.DataDirs = append(cfg.DataDirs, v)
			case "tmp":
				cfg.TempDir = v
			case "workers":
				cfg.Workers, err = positiveInt(v)
				workersSet = true
			case "reducers":
				cfg.Reducers, err = positiveInt(v)
				reducersSet = true
			case "batch":
				cfg.BatchSize, err = positiveInt(v)
			case "split":
				var n int
				n, err = positiveInt(v)
				cfg.SplitSize = int64(n)
			default:
				return cfg, fmt.Errorf("quern: unknown data source parameter %q (known: data, workers, reducers, batch, split, tmp)", key)
			}
			if err != nil {
				return cfg, fmt.Errorf("quern: data source parameter %s=%q: %w", key, v, err)
			}
		}
	}
	if workersSet && !reducersSet {
		cfg.Reducers = cfg.Workers
	}
	return cfg, nil
}

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive integer")
	}
	return n, nil
}

// Conn is a connection: a handle on the shared engine. Reach it with
// sql.Conn.Raw to read results as Arrow records.
type Conn struct {
	db    *quern.DB
	owned bool // opened by Driver.Open: Close stops the engine
}

var (
	_ driver.Conn               = (*Conn)(nil)
	_ driver.QueryerContext     = (*Conn)(nil)
	_ driver.ExecerContext      = (*Conn)(nil)
	_ driver.ConnPrepareContext = (*Conn)(nil)
	_ driver.ConnBeginTx        = (*Conn)(nil)
	_ driver.NamedValueChecker  = (*Conn)(nil)
	_ driver.Pinger             = (*Conn)(nil)
)

// DB returns the engine the connection runs statements on.
func (c *Conn) DB() *quern.DB { return c.db }

// QueryArrow runs a statement and returns its result as Arrow records,
// without converting them to Go values. args bind '?' placeholders as
// QueryContext does. The caller must Release the result; releasing it
// early, or cancelling ctx, cancels the job.
func (c *Conn) QueryArrow(ctx context.Context, query string, args ...any) (*quern.Result, error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		if err := c.CheckNamedValue(&nv[i]); err != nil {
			return nil, err
		}
	}
	text, err := bind(query, nv)
	if err != nil {
		return nil, err
	}
	return c.db.Run(ctx, text)
}

// QueryContext runs a statement and returns its rows.
func (c *Conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	text, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	res, err := c.db.Run(ctx, text)
	if err != nil {
		return nil, err
	}
	return newRows(res), nil
}

// ExecContext runs a statement and discards its rows. The result has no
// rows-affected count or insert id (driver.ResultNoRows).
func (c *Conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	text, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	res, err := c.db.Run(ctx, text)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	for res.Next() {
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	return driver.ResultNoRows, nil
}

// Prepare returns a statement that binds its arguments when it runs;
// nothing is planned ahead.
func (c *Conn) Prepare(query string) (driver.Stmt, error) { return &stmt{c: c, query: query}, nil }

// PrepareContext is Prepare.
func (c *Conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Prepare(query)
}

// ErrNoTransactions is returned by Begin: quern has no transactions.
var ErrNoTransactions = errors.New("quern: transactions are not supported")

// Begin returns ErrNoTransactions.
func (c *Conn) Begin() (driver.Tx, error) { return nil, ErrNoTransactions }

// BeginTx returns ErrNoTransactions.
func (c *Conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return nil, ErrNoTransactions
}

// Ping reports whether ctx is still live: the engine is in process.
func (c *Conn) Ping(ctx context.Context) error { return ctx.Err() }

// Close releases the connection (and stops the engine if Driver.Open
// started it for this connection alone).
func (c *Conn) Close() error {
	if c.owned {
		c.owned = false
		return c.db.Close()
	}
	return nil
}

// CheckNamedValue accepts the argument types bind turns into literals,
// uint64 included (which database/sql's default converter rejects when the
// high bit is set), and converts others with the default converter.
func (c *Conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nv.Name != "" {
		return fmt.Errorf("quern: named argument %q: only '?' placeholders are supported", nv.Name)
	}
	switch nv.Value.(type) {
	case nil, int64, uint64, float64, bool, string, []byte:
		return nil
	case uint:
		nv.Value = uint64(nv.Value.(uint))
		return nil
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return fmt.Errorf("quern: argument %d: %w", nv.Ordinal, err)
	}
	nv.Value = v
	return nil
}

// stmt is a prepared statement: its text, bound at each run.
type stmt struct {
	c     *Conn
	query string
}

var (
	_ driver.StmtQueryContext = (*stmt)(nil)
	_ driver.StmtExecContext  = (*stmt)(nil)
)

func (s *stmt) Close() error { return nil }

// NumInput is -1: the placeholders are counted when the statement runs.
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.query, named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.query, named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}
